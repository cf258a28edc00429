/**
 * Pure parsers for the files training and eval tools leave behind (see
 * shared/design/FORMATS.md). No storage here: each turns text (or a growing file from a byte
 * cursor) into typed values plus per-entry issues, and throws FormatError only when a whole
 * file is unusable.
 */
export { FormatError, isJsonObject } from './types.ts';
export type { FormatErrorCode, JsonObject, ParseIssue, ParsedPoint } from './types.ts';
export { parseTolerantJson } from './tolerant-json.ts';
export { parseTrainerState, lastPathSegment } from './trainer-state.ts';
export type { TrainerState } from './trainer-state.ts';
export { hfResultsKind, parseHfResults } from './hf-results.ts';
export type { HfResults, HfResultsKind } from './hf-results.ts';
export { forEachCompleteLine, readLinesFromFile, startCursor } from './line-cursor.ts';
export type { ByteCursor, FileReadResult, LineParseOptions, LineParseResult, LineTextParser, ReadOptions } from './line-cursor.ts';
export { parseMetricsJsonl, readMetricsJsonlFile } from './metrics-jsonl.ts';
export { isTorchtuneLogFile, parseTorchtuneLog, readTorchtuneLogFile, torchtuneLogStartTime } from './torchtune-log.ts';
export { isLmEvalResultsFile, looksLikeLmEvalResults, parseLmEvalResults, parseModelArgs } from './lm-eval.ts';
export type { LmEvalModelArgs, LmEvalResult, LmEvalResults } from './lm-eval.ts';

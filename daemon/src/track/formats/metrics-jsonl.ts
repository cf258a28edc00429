/**
 * `metrics.jsonl`: one JSON object per line, `{"step": N, "<key>": value, …}`, appended as a
 * run trains (custom loops, Keel's own helper, many small trainers). Read incrementally from a
 * byte cursor; one bad line is an issue, never a failure of the file.
 */
import { forEachCompleteLine, readLinesFromFile } from './line-cursor.ts';
import type { ByteCursor, FileReadResult, LineParseOptions, LineParseResult, ReadOptions } from './line-cursor.ts';
import { parseTolerantJson } from './tolerant-json.ts';
import { FormatError, describeValue, isJsonObject } from './types.ts';
import type { JsonObject, ParseIssue, ParsedPoint } from './types.ts';

/** Keys that give the step, in order of preference; none of them becomes a series. */
const STEP_KEYS = ['step', 'global_step', '_step'] as const;
/** Keys that give the wall time; none of them becomes a series. */
const TIME_KEYS = ['time', 'wall_time', 'timestamp', '_timestamp'] as const;
const RESERVED = new Set<string>([...STEP_KEYS, ...TIME_KEYS]);

/**
 * Parses the complete lines of `text` (a slice of `metrics.jsonl` starting at line
 * `firstLineNo`). Numbers become points (NaN/±Infinity kept; nested objects are flattened
 * with `/`: `{"eval": {"loss": 1}}` → `eval/loss`); other values are skipped. A trailing line
 * without a newline is left unconsumed unless `options.flushTail`.
 */
export function parseMetricsJsonl(text: string, firstLineNo: number, options: LineParseOptions = {}): LineParseResult {
  const points: ParsedPoint[] = [];
  const issues: ParseIssue[] = [];
  const consumed = forEachCompleteLine(text, firstLineNo, options.flushTail === true, (line, lineNo) => {
    parseLine(line, lineNo, points, issues);
  });
  return { points, issues, ...consumed };
}

/**
 * Reads new complete lines of a growing `metrics.jsonl` from `cursor`, in bounded chunks.
 * Call again with the returned cursor (at once while `more` is true, later when the file grows).
 */
export function readMetricsJsonlFile(path: string, cursor: ByteCursor, options?: ReadOptions): Promise<FileReadResult> {
  return readLinesFromFile(path, cursor, parseMetricsJsonl, options);
}

function parseLine(line: string, lineNo: number, points: ParsedPoint[], issues: ParseIssue[]): void {
  if (line.trim() === '') return;
  let entry: unknown;
  try {
    entry = parseTolerantJson(line);
  } catch (err) {
    const where = err instanceof FormatError && err.column !== undefined ? ` at column ${err.column}` : '';
    issues.push({ line: lineNo, message: `not valid JSON${where}; line skipped` });
    return;
  }
  if (!isJsonObject(entry)) {
    issues.push({ line: lineNo, message: `not a JSON object (${describeValue(entry)}); line skipped` });
    return;
  }
  const step = readStep(entry);
  if (step === undefined) {
    issues.push({ line: lineNo, message: `no usable "step" (${describeValue(entry.step)}); line skipped` });
    return;
  }
  const wallTime = readWallTime(entry);
  flatten(entry, '', (key, value) => {
    points.push(wallTime === undefined ? { step, key, value } : { step, key, value, wallTime });
  });
}

function readStep(entry: JsonObject): number | undefined {
  for (const key of STEP_KEYS) {
    const v = entry[key];
    if (v === undefined) continue;
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  }
  return undefined;
}

/** Seconds since the epoch from a numeric (seconds or milliseconds) or ISO-8601 time field. */
function readWallTime(entry: JsonObject): number | undefined {
  for (const key of TIME_KEYS) {
    const v = entry[key];
    if (typeof v === 'number' && Number.isFinite(v)) return v > 1e11 ? v / 1000 : v;
    if (typeof v === 'string') {
      const ms = Date.parse(v);
      if (!Number.isNaN(ms)) return ms / 1000;
    }
  }
  return undefined;
}

function flatten(obj: JsonObject, prefix: string, emit: (key: string, value: number) => void): void {
  for (const [key, value] of Object.entries(obj)) {
    if (prefix === '' && RESERVED.has(key)) continue;
    const full = prefix === '' ? key : `${prefix}/${key}`;
    if (typeof value === 'number') emit(full, value);
    else if (isJsonObject(value)) flatten(value, full, emit);
  }
}

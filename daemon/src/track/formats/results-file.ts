/**
 * Results files read whole — lm-evaluation-harness results and HF `*_results.json` — through
 * the input-file checks (regular files only, at most InputLimits.resultsFile). Large ones are
 * read and parsed in a parse worker by the ingest code; these functions are what runs there
 * (and on the daemon's thread for small files).
 */
import { InputLimits, readInputText } from '../input-file.ts';
import { parseHfResults, type HfResults } from './hf-results.ts';
import { parseLmEvalResults, type LmEvalResults } from './lm-eval.ts';

/** Results files up to this size are parsed where they are read; larger ones in a parse worker. */
export const INLINE_PARSE_BYTES = 256 * 1024;

/** Reads and parses an lm-eval results file; throws InputFileError or FormatError. */
export async function readLmEvalResultsFile(path: string): Promise<LmEvalResults> {
  return parseLmEvalResults(await readInputText(path, { maxBytes: InputLimits.resultsFile, what: 'lm-eval results file' }), path);
}

/** Reads and parses a Trainer `*_results.json`; throws InputFileError or FormatError. */
export async function readHfResultsFile(path: string): Promise<HfResults> {
  return parseHfResults(await readInputText(path, { maxBytes: InputLimits.resultsFile, what: 'Trainer results file' }), path);
}

/**
 * Hugging Face `Trainer.save_metrics` files beside `trainer_state.json`: `all_results.json`,
 * `train_results.json`, `eval_results.json`, `test_results.json` (and `predict_results.json`).
 * Each is one flat object of final numbers; some values (`*_samples`, `*_mem_*_delta`) appear
 * nowhere else.
 */
import { parseTolerantJson } from './tolerant-json.ts';
import { FormatError, describeValue, isJsonObject } from './types.ts';
import type { ParseIssue } from './types.ts';

/** Which `save_metrics` split a file holds; `all` is the merge of the others. */
export type HfResultsKind = 'all' | 'train' | 'eval' | 'test' | 'predict';

/** The numbers of one results file. */
export interface HfResults {
  kind: HfResultsKind;
  metrics: Record<string, number>;
  issues: ParseIssue[];
}

const KIND_BY_NAME: Record<string, HfResultsKind> = {
  'all_results.json': 'all',
  'train_results.json': 'train',
  'eval_results.json': 'eval',
  'test_results.json': 'test',
  'predict_results.json': 'predict',
};

/** The results kind for a file name or path (`…/eval_results.json` → `eval`), or undefined if it is not one. */
export function hfResultsKind(fileName: string): HfResultsKind | undefined {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  return KIND_BY_NAME[base];
}

/**
 * Parses a results file. `fileName` (a name or path) decides the kind and names the file in
 * errors. Non-numeric values are skipped with an issue; NaN/Infinity are kept.
 * Throws {@link FormatError}: `E_TRUNCATED` / `E_MALFORMED` for bad JSON, `E_SHAPE` for a
 * name that is not a results file or a top level that is not an object.
 */
export function parseHfResults(text: string, fileName: string): HfResults {
  const kind = hfResultsKind(fileName);
  if (kind === undefined) {
    throw new FormatError('E_SHAPE', 'not a Trainer results file name (expected all_/train_/eval_/test_/predict_results.json)', { source: fileName });
  }
  const root = parseTolerantJson(text, fileName);
  if (!isJsonObject(root)) throw new FormatError('E_SHAPE', 'the top level is not a JSON object', { source: fileName });
  const metrics: Record<string, number> = {};
  const issues: ParseIssue[] = [];
  for (const [key, value] of Object.entries(root)) {
    if (typeof value === 'number') metrics[key] = value;
    else issues.push({ message: `${key} is not a number (${describeValue(value)}); skipped` });
  }
  return { kind, metrics, issues };
}

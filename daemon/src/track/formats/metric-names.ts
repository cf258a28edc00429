/**
 * One name per quantity. The same curve reaches Keel under several names: the HF Trainer logs
 * `loss` and `eval_loss` into trainer_state.json and, through its TensorBoard callback, the
 * same values as `train/loss` and `eval/loss`. Keel keeps one series per quantity under its
 * **canonical key**, the HF TensorBoard spelling (what users see in TensorBoard and W&B), and
 * remembers the names each file used as aliases.
 *
 * The mapping is the Trainer's own (`transformers.integrations.rewrite_logs`): a key starting
 * with `eval_` becomes `eval/<rest>`, `test_` becomes `test/<rest>`, anything else
 * `train/<key>`. It applies to the files the Trainer writes with its own names
 * (trainer_state.json, `*_results.json`) and to metrics.jsonl's flat keys (see
 * `canonicalMetricKey`); event files and torchtune logs keep their keys as written.
 *
 * | source name (trainer_state.json, *_results.json) | canonical key (= HF TensorBoard tag) |
 * |---|---|
 * | `loss`, `learning_rate`, `grad_norm`, `epoch`      | `train/loss`, `train/learning_rate`, `train/grad_norm`, `train/epoch` |
 * | `eval_loss`, `eval_<metric>`, `eval_<set>_<metric>` | `eval/loss`, `eval/<metric>`, `eval/<set>_<metric>` |
 * | `test_<metric>`                                   | `test/<metric>` |
 * | TRL `rewards/x/mean`, `entropy`, `num_tokens`…     | `train/rewards/x/mean`, `train/entropy`, `train/num_tokens` |
 *
 * End-of-training values are **summary values** of the run, not curves: the Trainer's final
 * `train_runtime`, `train_samples_per_second`, `train_steps_per_second`,
 * `train_tokens_per_second`, `total_flos` and the average `train_loss` (canonical
 * `train/train_runtime` … `train/train_loss`), and every value of a `*_results.json` file.
 */

/** Where a metric value was read: decides its canonical key and breaks ties between sources. */
export type MetricSource = 'trainer_state' | 'hf_results' | 'tfevents' | 'metrics_jsonl' | 'torchtune_log';

/** Small stable codes for the store (a column per point). Never renumber: stored on disk. */
export const MetricSourceCodes: Readonly<Record<MetricSource, number>> = {
  trainer_state: 1,
  hf_results: 2,
  tfevents: 3,
  metrics_jsonl: 4,
  torchtune_log: 5,
};

/** The file kind behind a source code, for messages ("trainer_state.json and the event files disagree"). */
export function describeMetricSource(code: number | null): string {
  switch (code) {
    case 1: return 'trainer_state.json';
    case 2: return 'a *_results.json file';
    case 3: return 'the TensorBoard event files';
    case 4: return 'metrics.jsonl';
    case 5: return 'the torchtune log';
    default: return 'an earlier read';
  }
}

/** The HF Trainer's TensorBoard name for a key it logs (`rewrite_logs`). */
export function hfTensorBoardName(key: string): string {
  if (key.startsWith('eval_')) return `eval/${key.slice(5)}`;
  if (key.startsWith('test_')) return `test/${key.slice(5)}`;
  return `train/${key}`;
}

/**
 * The canonical key of `key` as written by `source` (see the module comment). metrics.jsonl
 * is the plain-script channel and, in HF projects, a copy of the Trainer's log lines (the
 * example trainer writes each log_history entry there as it happens): its flat keys follow
 * the Trainer's naming too, so `loss` there and in trainer_state.json is one series; a key
 * already under `train/`, `eval/` or `test/` stays as written.
 */
export function canonicalMetricKey(key: string, source: MetricSource): string {
  if (source === 'trainer_state' || source === 'hf_results') return hfTensorBoardName(key);
  if (source === 'metrics_jsonl' && !/^(train|eval|test)\//.test(key)) return hfTensorBoardName(key);
  return key;
}

/** Canonical keys of the Trainer's end-of-training summary entry. */
const SUMMARY_KEY = /^train\/(train_runtime|train_samples_per_second|train_steps_per_second|train_tokens_per_second|total_flos|train_loss)$/;

/**
 * True when a canonical key names an end-of-run summary value (one number for the whole
 * run), whatever file it came from: a TensorBoard `train/train_runtime` is as much a summary
 * as trainer_state.json's final `train_runtime`.
 */
export function isSummaryKey(canonicalKey: string): boolean {
  return SUMMARY_KEY.test(canonicalKey);
}

/**
 * The names a person may type for a quantity, most likely first: the key itself, then its HF
 * TensorBoard name (`loss` → `train/loss`, `eval_loss` → `eval/loss`). Used to find a series
 * asked for by an old name.
 */
export function metricKeyCandidates(key: string): string[] {
  const tb = hfTensorBoardName(key);
  return key.includes('/') && /^(train|eval|test)\//.test(key) ? [key] : [key, tb];
}

/**
 * True when two readings of one value agree up to float32 rounding: TensorBoard's
 * `simple_value` is a float32, so `3.404262924194336` (trainer_state.json) and
 * `3.4042630195617676` (its float32) are the same reading. NaN agrees with NaN.
 */
export function sameReading(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b || Math.fround(a) === Math.fround(b)) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  // A float32 written through another float32 path (e.g. a double that held a float32 sum):
  // within one float32 unit in the last place of the larger.
  return Math.abs(a - b) <= Math.max(Math.abs(a), Math.abs(b)) * 2 ** -23;
}

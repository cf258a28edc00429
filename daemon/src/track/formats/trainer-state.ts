/**
 * Hugging Face Trainer `trainer_state.json` (also written by TRL, Axolotl, LLaMA-Factory,
 * Unsloth). It is rewritten whole at every save and is the one metrics file that is always
 * there, so every field is optional and one odd `log_history` entry never loses the rest.
 */
import { parseTolerantJson } from './tolerant-json.ts';
import { FormatError, asNumber, asString, describeValue as describe, isJsonObject } from './types.ts';
import type { JsonObject, ParseIssue, ParsedPoint } from './types.ts';

/** What a `trainer_state.json` says about its run. Every field may be missing. */
export interface TrainerState {
  globalStep?: number;
  epoch?: number;
  maxSteps?: number;
  numTrainEpochs?: number;
  bestMetric?: number;
  /** `best_model_checkpoint` exactly as written: a path on the training host, often foreign. */
  bestModelCheckpoint?: string;
  /** Last path segment of `bestModelCheckpoint` (e.g. `checkpoint-500`), for matching by folder name. */
  bestCheckpointName?: string;
  /** `best_global_step` (transformers ≥ 4.50 or so). */
  bestGlobalStep?: number;
  loggingSteps?: number;
  evalSteps?: number;
  saveSteps?: number;
  trainBatchSize?: number;
  totalFlos?: number;
  numInputTokensSeen?: number;
  /** `stateful_callbacks.TrainerControl.args.should_training_stop`: false in a checkpoint of an unfinished run. */
  shouldTrainingStop?: boolean;
  /**
   * One point per numeric key per `log_history` entry (`loss`, `learning_rate`, `grad_norm`,
   * `eval_loss`, `eval_<set>_<metric>`, TRL keys like `rewards/x/mean`, and `epoch` as a series
   * of its own). Unique on (step, key): a later entry overrides an earlier one.
   */
  points: ParsedPoint[];
  /** Numeric values of the last end-of-training summary entry (`train_runtime`, `train_loss`, `total_flos`…). */
  summary: Record<string, number>;
  issues: ParseIssue[];
}

/** The key that only the end-of-training summary entry carries. */
const SUMMARY_MARKER = 'train_runtime';

/**
 * Parses `trainer_state.json` text. Throws {@link FormatError} only when the whole file is
 * unusable: not JSON (`E_TRUNCATED` / `E_MALFORMED`) or JSON that is not an object (`E_SHAPE`).
 */
export function parseTrainerState(text: string, source?: string): TrainerState {
  const root = parseTolerantJson(text, source);
  if (!isJsonObject(root)) {
    throw new FormatError('E_SHAPE', 'not a trainer_state.json: the top level is not a JSON object', source === undefined ? {} : { source });
  }
  const issues: ParseIssue[] = [];
  const state: TrainerState = { points: [], summary: {}, issues };
  readScalarFields(root, state, issues);
  readBestCheckpoint(root, state, issues);
  const stop = readShouldTrainingStop(root.stateful_callbacks);
  if (stop !== undefined) state.shouldTrainingStop = stop;
  readLogHistory(root.log_history, state, issues);
  return state;
}

const NUMERIC_FIELDS = [
  ['global_step', 'globalStep'],
  ['epoch', 'epoch'],
  ['max_steps', 'maxSteps'],
  ['num_train_epochs', 'numTrainEpochs'],
  ['best_metric', 'bestMetric'],
  ['best_global_step', 'bestGlobalStep'],
  ['logging_steps', 'loggingSteps'],
  ['eval_steps', 'evalSteps'],
  ['save_steps', 'saveSteps'],
  ['train_batch_size', 'trainBatchSize'],
  ['total_flos', 'totalFlos'],
  ['num_input_tokens_seen', 'numInputTokensSeen'],
] as const;

function readScalarFields(root: JsonObject, state: TrainerState, issues: ParseIssue[]): void {
  for (const [field, prop] of NUMERIC_FIELDS) {
    const raw = root[field];
    if (raw === undefined || raw === null) continue;
    const value = asNumber(raw);
    if (value === undefined) issues.push({ message: `${field} is not a number (${describe(raw)}); ignored` });
    else state[prop] = value;
  }
}

function readBestCheckpoint(root: JsonObject, state: TrainerState, issues: ParseIssue[]): void {
  const raw = root.best_model_checkpoint;
  if (raw === undefined || raw === null) return;
  const path = asString(raw);
  if (path === undefined) {
    issues.push({ message: `best_model_checkpoint is not a string (${describe(raw)}); ignored` });
    return;
  }
  state.bestModelCheckpoint = path;
  const name = lastPathSegment(path);
  if (name !== undefined) state.bestCheckpointName = name;
}

/** Last segment of a POSIX or Windows path, ignoring trailing separators. */
export function lastPathSegment(path: string): string | undefined {
  const parts = path.split(/[\\/]+/).filter((p) => p.length > 0);
  return parts[parts.length - 1];
}

function readShouldTrainingStop(callbacks: unknown): boolean | undefined {
  if (!isJsonObject(callbacks)) return undefined;
  const control = callbacks.TrainerControl;
  if (!isJsonObject(control) || !isJsonObject(control.args)) return undefined;
  const stop = control.args.should_training_stop;
  return typeof stop === 'boolean' ? stop : undefined;
}

function readLogHistory(history: unknown, state: TrainerState, issues: ParseIssue[]): void {
  if (history === undefined || history === null) return;
  if (!Array.isArray(history)) {
    issues.push({ message: `log_history is not a list (${describe(history)}); no metrics read` });
    return;
  }
  const byStepKey = new Map<string, ParsedPoint>();
  history.forEach((entry: unknown, index) => {
    const where = `log_history[${index}]`;
    if (!isJsonObject(entry)) {
      issues.push({ message: `${where} is not an object; skipped` });
      return;
    }
    if (SUMMARY_MARKER in entry) {
      // A resumed run appends one summary per train() call; the last one describes the run.
      state.summary = numericValues(entry, ['step']);
      return;
    }
    const step = entry.step;
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
      issues.push({ message: `${where} has no usable step (${describe(step)}); skipped` });
      return;
    }
    for (const [key, value] of Object.entries(entry)) {
      if (key === 'step' || typeof value !== 'number') continue;
      const id = `${step}\u0000${key}`;
      const existing = byStepKey.get(id);
      if (existing) existing.value = value;
      else byStepKey.set(id, { step, key, value });
    }
  });
  state.points = [...byStepKey.values()];
}

function numericValues(entry: JsonObject, skip: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value === 'number' && !skip.includes(key)) out[key] = value;
  }
  return out;
}

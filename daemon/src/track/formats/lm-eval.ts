/**
 * lm-evaluation-harness results files: `<output_path>/<model_name_sanitized>/results_<time>.json`
 * (0.4.x), `<stem>_<time>.json` when output_path ends in `.json`, and the pre-0.4 shape whose
 * metric keys have no `,filter` suffix. One row per (task, metric, filter), with stderr,
 * n-shot, direction and whether the task is a group aggregate.
 */
import { parseModelArgs } from './lm-eval-model-args.ts';
import type { LmEvalModelArgs } from './lm-eval-model-args.ts';
import { parseTolerantJson } from './tolerant-json.ts';
import { FormatError, describeValue, isJsonObject } from './types.ts';
import type { JsonObject, ParseIssue } from './types.ts';

export { parseModelArgs } from './lm-eval-model-args.ts';
export type { LmEvalModelArgs } from './lm-eval-model-args.ts';

/** One metric of one task (or group) under one filter. */
export interface LmEvalResult {
  task: string;
  /** Display name, without the ` - ` indentation the harness adds for subtasks. */
  alias?: string;
  metric: string;
  /** Filter pipeline name; `'none'` when the file has no `,filter` suffix. */
  filter: string;
  /** May be NaN. */
  value: number;
  /** null when unknown: absent, `"N/A"` (bootstrap skipped), or null. */
  stderr: number | null;
  nShot?: number;
  higherIsBetter?: boolean;
  /** True for a group aggregate (in `groups`, or with subtasks in `group_subtasks`). */
  isGroup: boolean;
  version?: number | string;
}

/** Everything Keel keeps from one results file. */
export interface LmEvalResults {
  /** Harness backend (`config.model`: `hf`, `vllm`, …). */
  model?: string;
  /** `model_name` when not empty (often the `pretrained` value). */
  modelName?: string;
  modelArgs: LmEvalModelArgs;
  /** Unix seconds when the eval ran (`date`; `start_time`/`end_time` are perf counters, not clock times). */
  date?: number;
  lmEvalVersion?: string;
  /** Hub revision of the evaluated model (`config.model_revision`), when not the default `main`. */
  modelRevision?: string;
  /**
   * Local data files the tasks read, as the task configs name them (`dataset_kwargs.data_files`
   * of a `json`/`csv`/… loader, or a `dataset_path` that is a path): relative to where the
   * harness ran.
   */
  dataFiles: string[];
  results: LmEvalResult[];
  issues: ParseIssue[];
}

/** `dataset_path` values that name a `datasets` loader, not data: the files are in `dataset_kwargs.data_files`. */
const LOADERS = new Set(['json', 'csv', 'parquet', 'text', 'arrow', 'pandas']);

/** The local data files of every task config (see LmEvalResults.dataFiles), without duplicates. */
function taskDataFiles(configs: unknown): string[] {
  if (!isJsonObject(configs)) return [];
  const files = new Set<string>();
  const add = (v: unknown): void => {
    if (typeof v === 'string' && v.trim() !== '') files.add(v.trim());
    else if (Array.isArray(v)) for (const x of v) add(x);
    else if (isJsonObject(v)) for (const x of Object.values(v)) add(x);
  };
  for (const task of Object.values(configs)) {
    if (!isJsonObject(task)) continue;
    const kwargs = isJsonObject(task.dataset_kwargs) ? task.dataset_kwargs : {};
    add(kwargs.data_files);
    const path = task.dataset_path;
    if (typeof path === 'string' && !LOADERS.has(path) && /^(\.{0,2}\/|~\/)/.test(path)) add(path);
  }
  return [...files];
}

/** Keys in a task's results that are bookkeeping, not metrics. */
const NOT_METRICS = new Set(['alias', 'name', 'sample_len', 'sample_count', 'samples']);

/**
 * Parses a results file. Throws {@link FormatError}: `E_TRUNCATED` / `E_MALFORMED` for bad
 * JSON, `E_SHAPE` for JSON that has no `results` object (not an lm-eval results file).
 */
export function parseLmEvalResults(text: string, source?: string): LmEvalResults {
  const root = parseTolerantJson(text, source);
  if (!isJsonObject(root) || !isJsonObject(root.results)) {
    throw new FormatError('E_SHAPE', 'not an lm-evaluation-harness results file: no "results" object', source === undefined ? {} : { source });
  }
  const config = isJsonObject(root.config) ? root.config : {};
  const out: LmEvalResults = { modelArgs: parseModelArgs(config.model_args), dataFiles: taskDataFiles(root.configs), results: [], issues: [] };
  if (typeof config.model === 'string' && config.model !== '') out.model = config.model;
  if (typeof config.model_revision === 'string' && config.model_revision !== '' && config.model_revision !== 'main') out.modelRevision = config.model_revision;
  if (typeof root.model_name === 'string' && root.model_name !== '') out.modelName = root.model_name;
  const date = toNumber(root.date);
  if (date !== undefined) out.date = date;
  if (typeof root.lm_eval_version === 'string') out.lmEvalVersion = root.lm_eval_version;
  readAllTasks(root, config, out);
  return out;
}

/** Per-file lookups shared by every task. */
interface Context {
  root: JsonObject;
  config: JsonObject;
  groups: Set<string>;
  /** Pre-0.4 files write `acc` / `acc_stderr` with no `,filter` suffix. */
  legacy: boolean;
  out: LmEvalResults;
}

function readAllTasks(root: JsonObject, config: JsonObject, out: LmEvalResults): void {
  const results = root.results as JsonObject;
  const groupsObj = isJsonObject(root.groups) ? root.groups : {};
  const groups = new Set(Object.keys(groupsObj));
  if (isJsonObject(root.group_subtasks)) {
    for (const [name, subtasks] of Object.entries(root.group_subtasks)) {
      if (Array.isArray(subtasks) && subtasks.length > 0) groups.add(name);
    }
  }
  const legacy = !Object.values(results).some((entry) => isJsonObject(entry) && Object.keys(entry).some((k) => k.includes(',')));
  const ctx: Context = { root, config, groups, legacy, out };
  for (const [task, entry] of Object.entries(results)) readTask(ctx, task, entry);
  // Some versions list a group's aggregate only under `groups`.
  for (const [task, entry] of Object.entries(groupsObj)) {
    if (!(task in results)) readTask(ctx, task, entry);
  }
}

function readTask(ctx: Context, task: string, entry: unknown): void {
  if (!isJsonObject(entry)) {
    ctx.out.issues.push({ message: `results.${task} is not an object; skipped` });
    return;
  }
  const values = new Map<string, { metric: string; filter: string; value: unknown }>();
  const stderrs = new Map<string, unknown>();
  for (const [key, value] of Object.entries(entry)) {
    const split = splitMetricKey(key, ctx.legacy);
    if (split === undefined) continue;
    const id = `${split.metric}\u0000${split.filter}`;
    if (split.isStderr) stderrs.set(id, value);
    else values.set(id, { ...split, value });
  }
  const common = taskFacts(ctx, task, entry);
  for (const [id, { metric, filter, value }] of values) {
    if (typeof value !== 'number') {
      ctx.out.issues.push({ message: `results.${task}["${metric},${filter}"] is not a number (${describeValue(value)}); skipped` });
      continue;
    }
    const stderr = stderrs.get(id);
    const row: LmEvalResult = { task, ...common, metric, filter, value, stderr: typeof stderr === 'number' ? stderr : null };
    const higher = higherIsBetter(ctx, task, metric);
    if (higher !== undefined) row.higherIsBetter = higher;
    ctx.out.results.push(row);
  }
}

/** `acc,none` → acc/none; `acc_stderr,none` → stderr of acc/none; legacy `acc` → acc/none. */
function splitMetricKey(key: string, legacy: boolean): { metric: string; filter: string; isStderr: boolean } | undefined {
  if (NOT_METRICS.has(key)) return undefined;
  const comma = key.indexOf(',');
  if (comma < 0 && !legacy) return undefined;
  const name = comma < 0 ? key : key.slice(0, comma);
  const filter = comma < 0 ? 'none' : key.slice(comma + 1);
  const isStderr = name.endsWith('_stderr');
  return { metric: isStderr ? name.slice(0, -'_stderr'.length) : name, filter, isStderr };
}

/** Facts about a task shared by all its metrics. */
function taskFacts(ctx: Context, task: string, entry: JsonObject): Pick<LmEvalResult, 'alias' | 'nShot' | 'isGroup' | 'version'> {
  const facts: Pick<LmEvalResult, 'alias' | 'nShot' | 'isGroup' | 'version'> = { isGroup: ctx.groups.has(task) };
  if (typeof entry.alias === 'string') {
    const alias = entry.alias.replace(/^\s*-\s+/, '').trim();
    if (alias !== '') facts.alias = alias;
  }
  const nShot = toNumber(lookup(ctx.root['n-shot'], task)) ?? toNumber(lookup(lookup(ctx.root.configs, task), 'num_fewshot')) ?? toNumber(ctx.config.num_fewshot);
  if (nShot !== undefined) facts.nShot = nShot;
  const version = lookup(ctx.root.versions, task);
  if (typeof version === 'number' || (typeof version === 'string' && version !== '')) facts.version = version;
  return facts;
}

function higherIsBetter(ctx: Context, task: string, metric: string): boolean | undefined {
  const direct = lookup(lookup(ctx.root.higher_is_better, task), metric);
  if (typeof direct === 'boolean') return direct;
  const metricList = lookup(lookup(ctx.root.configs, task), 'metric_list');
  if (!Array.isArray(metricList)) return undefined;
  for (const item of metricList as unknown[]) {
    if (isJsonObject(item) && item.metric === metric && typeof item.higher_is_better === 'boolean') return item.higher_is_better;
  }
  return undefined;
}

function lookup(container: unknown, key: string): unknown {
  return isJsonObject(container) && Object.hasOwn(container, key) ? container[key] : undefined;
}

/** A number, or a string holding one (the harness writes some numbers as strings). */
function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

/**
 * Whether a file name looks like an lm-eval results file, for the watcher: `results.json`,
 * `results_<anything>.json`, `<stem>_<YYYY-MM-DDTHH-MM-SS[.ffffff]>.json` (output_path ending in
 * `.json`) and the legacy `*-res.json`. Never `samples_*` or `.jsonl`. Confirm with the content
 * ({@link looksLikeLmEvalResults}) before trusting a match.
 */
export function isLmEvalResultsFile(fileName: string): boolean {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  if (!base.endsWith('.json') || base.startsWith('samples_')) return false;
  return /^results(?:_.+)?\.json$/.test(base) || /-res\.json$/.test(base) || /_\d{4}-\d{2}-\d{2}T\d{2}[-:]\d{2}[-:]\d{2}(?:\.\d+)?\.json$/.test(base);
}

/** Whether parsed JSON has the shape of an lm-eval results file (a `results` map of task objects plus harness keys). */
export function looksLikeLmEvalResults(value: unknown): boolean {
  if (!isJsonObject(value) || !isJsonObject(value.results)) return false;
  const tasks = Object.values(value.results);
  return tasks.length > 0 && tasks.every(isJsonObject) && ('versions' in value || 'config' in value || 'configs' in value || 'n-shot' in value);
}

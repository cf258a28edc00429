/**
 * The lineage edges a training config implies: which models it starts from, which datasets it
 * reads and where it writes. Keys follow each tool's documented schema (see FORMATS.md,
 * "Training configs"); empty keys (`lora_model_dir:` → null) give no edge.
 */
import { isConfigObject, type ConfigFlavor, type ConfigObject, type ConfigRefs, type DatasetRef, type ModelRef } from './types.ts';

/** Axolotl writes here when `output_dir` is not set. */
export const AXOLOTL_DEFAULT_OUTPUT_DIR = './model-out';

/** `path`/`source` values that name a `datasets.load_dataset` loader, not data: the files are in `data_files`. */
const LOADER_NAMES = new Set(['json', 'csv', 'parquet', 'text', 'arrow', 'pandas', 'webdataset', 'imagefolder', 'audiofolder']);

/**
 * Default `source` of torchtune's built-in dataset builders, used when a config names the
 * builder without a `source` (both fixtures do). Only builders whose default has not changed
 * across torchtune releases are listed.
 */
const TORCHTUNE_DATASET_DEFAULTS: Record<string, string> = {
  'torchtune.datasets.alpaca_dataset': 'tatsu-lab/alpaca',
  'torchtune.datasets.alpaca_cleaned_dataset': 'yahma/alpaca-cleaned',
  'torchtune.datasets.slimorca_dataset': 'Open-Orca/SlimOrca-Dedup',
  'torchtune.datasets.grammar_dataset': 'liweili/c4_200m',
};

/** Lineage refs of a parsed (interpolated) config of the given flavor. */
export function extractRefs(data: unknown, flavor: ConfigFlavor): ConfigRefs {
  const refs: ConfigRefs = { baseModels: [], datasets: [] };
  if (!isConfigObject(data)) return refs;
  if (flavor === 'axolotl') axolotlRefs(data, refs);
  else if (flavor === 'torchtune') torchtuneRefs(data, refs);
  // TRL configs are TrainingArguments; a plain config is read by the same well-known keys.
  else hfRefs(data, refs);
  return refs;
}

function axolotlRefs(data: ConfigObject, refs: ConfigRefs): void {
  addModel(refs, 'base', data.base_model, text(data.revision_of_model));
  // lora_model_dir is a pre-trained adapter to continue from (Axolotl loads it onto base_model).
  addModel(refs, 'adapter', data.lora_model_dir);
  addResume(refs, data.resume_from_checkpoint);
  for (const entry of list(data.datasets)) refs.datasets.push(...datasetEntry(entry, 'path', 'train'));
  for (const entry of list(data.test_datasets)) refs.datasets.push(...datasetEntry(entry, 'path', 'val'));
  for (const entry of list(data.pretraining_dataset)) refs.datasets.push(...datasetEntry(entry, 'path', 'train'));
  refs.outputDir = text(data.output_dir) ?? AXOLOTL_DEFAULT_OUTPUT_DIR;
}

function torchtuneRefs(data: ConfigObject, refs: ConfigRefs): void {
  const student = isConfigObject(data.checkpointer) ? data.checkpointer : undefined;
  if (student) checkpointerRefs(student, 'base', refs);
  if (isConfigObject(data.teacher_checkpointer)) checkpointerRefs(data.teacher_checkpointer, 'teacher', refs);
  // torchtune resumes with `resume_from_checkpoint: True`: the checkpointer then reads the
  // previous run's output (its checkpoint_dir) plus recipe_state.
  const resumeDir = student ? text(student.checkpoint_dir) : undefined;
  if (data.resume_from_checkpoint === true && resumeDir !== undefined) addResume(refs, resumeDir);
  else addResume(refs, data.resume_from_checkpoint);
  for (const entry of list(data.dataset)) refs.datasets.push(...torchtuneDataset(entry, 'train'));
  for (const entry of list(data.dataset_val)) refs.datasets.push(...torchtuneDataset(entry, 'val'));
  const outputDir = text(data.output_dir) ?? (student ? text(student.output_dir) : undefined);
  if (outputDir !== undefined) refs.outputDir = outputDir;
}

function hfRefs(data: ConfigObject, refs: ConfigRefs): void {
  // Scripts that take a TrainingArguments YAML often name the model `base_model`.
  addModel(refs, 'base', data.model_name_or_path ?? data.base_model, text(data.model_revision));
  // LLaMA-Factory (a TrainingArguments config) lists adapters comma-separated.
  for (const adapter of commaList(data.adapter_name_or_path)) addModel(refs, 'adapter', adapter);
  addResume(refs, data.resume_from_checkpoint);
  addDataset(refs, data.dataset_name, 'train');
  addDataset(refs, data.train_file, 'train');
  addDataset(refs, data.validation_file, 'val');
  addDataset(refs, data.test_file, undefined);
  for (const name of commaList(data.dataset)) addDataset(refs, name, 'train');
  for (const name of commaList(data.eval_dataset)) addDataset(refs, name, 'val');
  const outputDir = text(data.output_dir);
  if (outputDir !== undefined) refs.outputDir = outputDir;
}

/** Base weights of a torchtune checkpointer: its directory plus the weight files it loads. */
function checkpointerRefs(checkpointer: ConfigObject, role: 'base' | 'teacher', refs: ConfigRefs): void {
  const dir = text(checkpointer.checkpoint_dir);
  if (dir === undefined) return;
  const model: ModelRef = { role, ref: dir };
  const files = checkpointFiles(checkpointer.checkpoint_files);
  if (files.length > 0) model.files = files;
  refs.baseModels.push(model);
  const adapter = text(checkpointer.adapter_checkpoint);
  if (adapter !== undefined) refs.baseModels.push({ role: 'adapter', ref: joinPath(dir, adapter) });
}

/**
 * `checkpoint_files` as a list, or torchtune's compact form
 * `{filename_format: "model-{}-of-{}.safetensors", max_filename: "00004"}`.
 */
function checkpointFiles(value: unknown): string[] {
  if (Array.isArray(value)) return texts(value);
  if (!isConfigObject(value)) return [];
  const format = text(value.filename_format);
  const max = text(value.max_filename) ?? (typeof value.max_filename === 'number' ? String(value.max_filename) : undefined);
  const count = max === undefined ? NaN : Number.parseInt(max, 10);
  if (format === undefined || max === undefined || !Number.isInteger(count) || count < 1 || count > 100_000) return [];
  const files: string[] = [];
  for (let index = 1; index <= count; index++) {
    files.push(format.replace('{}', String(index).padStart(max.length, '0')).replace('{}', max));
  }
  return files;
}

function torchtuneDataset(entry: unknown, role: 'train' | 'val'): DatasetRef[] {
  if (!isConfigObject(entry)) return [];
  const found = datasetEntry(entry, 'source', role);
  if (found.length > 0) return found;
  const builder = text(entry._component_);
  const source = builder === undefined ? undefined : TORCHTUNE_DATASET_DEFAULTS[builder];
  if (source === undefined) return [];
  const split = text(entry.split);
  return [split === undefined ? { path: source, role } : { path: source, role, split }];
}

/**
 * Refs of one dataset entry (`{path|source, data_files}`). A loader name (`json`) with
 * `data_files` gives the files; a hub id or folder gives itself. `data_files` as a dict maps
 * split names to files, so `validation`/`test` files are val data.
 */
function datasetEntry(entry: unknown, pathKey: string, role: 'train' | 'val'): DatasetRef[] {
  const plain = text(entry);
  if (plain !== undefined) return [{ path: plain, role }];
  if (!isConfigObject(entry)) return [];
  const path = text(entry[pathKey]);
  const split = text(entry.split);
  const withSplit = (ref: DatasetRef): DatasetRef => (split === undefined ? ref : { ...ref, split });
  const files = dataFiles(entry.data_files, role);
  if (files.length > 0 && (path === undefined || LOADER_NAMES.has(path))) return files.map(withSplit);
  return path === undefined ? [] : [withSplit({ path, role })];
}

function dataFiles(value: unknown, role: 'train' | 'val'): DatasetRef[] {
  if (!isConfigObject(value)) return texts(list(value)).map((path) => ({ path, role }));
  const refs: DatasetRef[] = [];
  for (const [split, files] of Object.entries(value)) {
    const splitRole = /^(val|valid|validation|eval|test|dev)/i.test(split) ? 'val' : role;
    for (const file of list(files)) {
      const path = text(file);
      if (path !== undefined) refs.push({ path, role: splitRole });
    }
  }
  return refs;
}

function addModel(refs: ConfigRefs, role: ModelRef['role'], value: unknown, revision?: string): void {
  const ref = text(value);
  if (ref !== undefined) refs.baseModels.push(revision === undefined ? { role, ref } : { role, ref, revision });
}

function addResume(refs: ConfigRefs, value: unknown): void {
  const ref = text(value);
  if (ref === undefined) return;
  refs.baseModels.push({ role: 'resume', ref });
  refs.resumeFrom = ref;
}

function addDataset(refs: ConfigRefs, value: unknown, role: DatasetRef['role']): void {
  const path = text(value);
  if (path !== undefined) refs.datasets.push(role === undefined ? { path } : { path, role });
}

/** A non-empty string value, trimmed; anything else (null from an empty key, booleans) is no value. */
function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** The non-empty strings among `values`, trimmed. */
function texts(values: unknown[]): string[] {
  return values.flatMap((item) => {
    const value = text(item);
    return value === undefined ? [] : [value];
  });
}

/** A value that may be one item or a list of items. */
function list(value: unknown): unknown[] {
  if (value === null || value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function commaList(value: unknown): string[] {
  const joined = text(value);
  if (joined === undefined) return texts(list(value));
  return joined
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

function joinPath(dir: string, file: string): string {
  if (file.startsWith('/')) return file;
  return `${dir.replace(/\/+$/, '')}/${file}`;
}

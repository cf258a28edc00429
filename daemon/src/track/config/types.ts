/**
 * Types shared by the training-config parser: what a config file says about a run, in the
 * shape the store records (flattened params) and lineage needs (refs).
 */

/** A flattened config value: leaves of the config tree only. */
export type ParamValue = string | number | boolean | null;

/** Which training tool a config file was written for; `unknown` is a plain YAML/JSON config (flavor.ts). */
export type ConfigFlavor = 'axolotl' | 'torchtune' | 'hf' | 'trl' | 'unknown';

/** The on-disk syntax of a config file. */
export type ConfigFormat = 'yaml' | 'json';

/** How a model a config points at takes part in the run. */
export type ModelRole = 'base' | 'teacher' | 'adapter' | 'resume';

/** A model a config starts from: a hub id or a path, plus the weight files when the config names them. */
export interface ModelRef {
  role: ModelRole;
  /** Hub id (`NousResearch/Llama-3.2-1B`) or a directory as written in the config. */
  ref: string;
  /** Weight files inside `ref` (torchtune `checkpoint_files`), in config order. */
  files?: string[];
  /** Hub revision the config pins (`model_revision`, Axolotl `revision_of_model`). */
  revision?: string;
}

/** A dataset a config reads: a hub id, a local file or a folder, as written in the config. */
export interface DatasetRef {
  path: string;
  role?: 'train' | 'val';
  /** The `split` the config reads (`train[:95%]`), when it names one. */
  split?: string;
}

/** The lineage edges a config implies: models in, datasets in, outputs out. */
export interface ConfigRefs {
  baseModels: ModelRef[];
  datasets: DatasetRef[];
  /** Where the run writes (after interpolation; Axolotl's default `./model-out` when unset). */
  outputDir?: string;
  /** A checkpoint the run resumes from. */
  resumeFrom?: string;
}

/** A problem in a config that does not stop it from being recorded. */
export interface ConfigIssue {
  message: string;
  /** Dotted key path (`metric_logger.log_dir`) when the issue is about one key. */
  path?: string;
  /** 1-based position in the file when known. */
  line?: number;
  column?: number;
}

/** A parsed training config. */
export interface TrainingConfig {
  format: ConfigFormat;
  /** The config tree with `${…}` interpolations resolved (torchtune / OmegaConf style). */
  data: unknown;
  flavor: ConfigFlavor;
  /** Leaves of `data` by dotted key (`optimizer.lr`, `datasets.0.path`). */
  params: Record<string, ParamValue>;
  refs: ConfigRefs;
  issues: ConfigIssue[];
}

/** A plain JSON-like object (what YAML mappings and JSON objects become). */
export type ConfigObject = Record<string, unknown>;

/** True for plain objects (not arrays, not null). */
export function isConfigObject(value: unknown): value is ConfigObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

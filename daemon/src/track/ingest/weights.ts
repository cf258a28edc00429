/**
 * What the files of a folder say about it: does it hold model weights, is it an adapter, is
 * a file a metrics/log file rather than part of a model. Names only: nothing is read.
 */

/** Training-state files that end like weights but are not (optimizer, scheduler, RNG, pickled args). */
const NOT_WEIGHTS = /^(training_args\.bin|optimizer.*|scheduler.*|scaler.*|rng_state.*|random_states.*|recipe_state.*|trainer_state.*)$/i;
const WEIGHT_EXT = /\.(safetensors|bin|pt|pth|gguf)$/i;
/** PEFT (`adapter_model.safetensors|bin`, `adapter_config.json`) and torchtune (`adapter_0.pt`, `adapter_model.pt`). */
const ADAPTER = /^(adapter_model\..+|adapter_config\.json|adapter(_\d+)?\.(pt|pth|safetensors|bin))$/i;

/** The last segment of a `/`-separated relative path. */
function baseName(relPath: string): string {
  const i = relPath.lastIndexOf('/');
  return i < 0 ? relPath : relPath.slice(i + 1);
}

/** True for a file that holds model (or adapter) weights. */
export function isWeightFile(relPath: string): boolean {
  const name = baseName(relPath);
  return WEIGHT_EXT.test(name) && !NOT_WEIGHTS.test(name);
}

/** True for a PEFT or torchtune adapter file. */
export function isAdapterFile(relPath: string): boolean {
  return ADAPTER.test(baseName(relPath));
}

/**
 * The kind of a checkpoint folder from its files (relative paths): `adapter` when it holds
 * adapter files (also in qlora's `adapter_model/` subfolder), else `full` when it holds weights,
 * else `unknown`.
 */
export function checkpointKind(relPaths: readonly string[]): 'full' | 'adapter' | 'unknown' {
  if (relPaths.some(isAdapterFile)) return 'adapter';
  return relPaths.some(isWeightFile) ? 'full' : 'unknown';
}

/** True when the files include weights or adapter files. */
export function holdsWeights(relPaths: readonly string[]): boolean {
  return relPaths.some((p) => isWeightFile(p) || isAdapterFile(p));
}

const METRIC_FILE = /^(trainer_state\.json|(all|train|eval|test|predict)_results\.json|metrics\.jsonl|metrics\.json|log_\d+\.txt|completed|.*\.log|events\.out\.tfevents\..*|results(_.+)?\.json|samples_.*\.jsonl)$/;

/**
 * True for a file in an output folder's root that records training rather than the model
 * (metrics, logs, results, markers). The root's own checkpoint leaves these out of its hash,
 * so a growing log never changes the final model's version.
 */
export function isRunRecordFile(name: string): boolean {
  return METRIC_FILE.test(name);
}

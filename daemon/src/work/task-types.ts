/**
 * The parse worker's tasks: what each takes, returns and streams. Shared by the pool (types
 * only) and the worker (implementations in worker-tasks.ts).
 */
import type { ParsedConfigFile } from '../track/config/config-file.ts';
import type { HfResults } from '../track/formats/hf-results.ts';
import type { LmEvalResults } from '../track/formats/lm-eval.ts';
import type { PointBatch, TrainerStateRead } from '../track/formats/trainer-state-file.ts';
import type { ProjectFileResult } from '../track/project/keel-yaml.ts';

/** Task kind → its argument, result and streamed batch types. */
// A type alias (not an interface) so it fits WorkerPool's Record<string, TaskSpec> bound.
export type ParseTasks = {
  /** Read and parse a training config file. */
  config: { args: { path: string }; result: ParsedConfigFile; batch: never };
  /** Parse keel.yaml text (read by the caller). */
  'project-file': { args: { text: string; fileName: string }; result: ProjectFileResult; batch: never };
  /** Stream a trainer_state.json's points in batches, then its facts. */
  'trainer-state': { args: { path: string; batchPoints: number }; result: TrainerStateRead; batch: PointBatch };
  /** One top-level number of a trainer_state.json, without reading log_history. */
  'trainer-state-number': { args: { path: string; key: 'global_step' | 'max_steps' }; result: number | undefined; batch: never };
  /** Read and parse an lm-eval results file. */
  'lm-eval-results': { args: { path: string }; result: LmEvalResults; batch: never };
  /** Read and parse a Trainer `*_results.json`. */
  'hf-results': { args: { path: string }; result: HfResults; batch: never };
};

/**
 * What sets a run apart from the other runs in the legend (the params that differ); the
 * legend itself is legend.ts.
 */
import type { RunComparison } from '../../daemon/src/protocol/domain.ts';
import { formatParam } from './format.ts';

/** Params that differ between runs without saying anything about them (paths, names, ids). */
export const PER_RUN_PARAMS = ['output_dir', 'logging_dir', 'run_name', 'hub_model_id', 'resume_from_checkpoint', 'save_dir', 'output_path', 'wandb_run_name', 'wandb_run_id'];
const NOT_TELLING = new RegExp(`(^|\\.)(${PER_RUN_PARAMS.join('|')})$`);

/** How many differing params a legend entry names before "+N more". */
const MAX_PARAMS = 3;

/** `learning_rate=0.2, warmup_steps=20` for a run, and how many more differing params there are. */
export function runOverrides(c: RunComparison, runId: string, max = MAX_PARAMS): { text: string; more: number } {
  if (c.runs.length < 2) return { text: '', more: 0 };
  const telling = c.params.differ.filter((d) => !NOT_TELLING.test(d.key));
  const parts = telling.slice(0, max).map((d) => `${d.key}=${formatParam(d.values[runId])}`);
  return { text: parts.join(', '), more: Math.max(0, telling.length - max) };
}

/**
 * `runs/delete`: removes a run's record and all that hangs off it (store/run-delete.ts),
 * tells subscribed views (a `runs` notification with `deleted: true`), and remembers a
 * watched or imported run's output folder so the watcher does not bring the run back.
 */
import { existsSync } from 'node:fs';
import { ErrorCode, isTerminal, RpcError, type ResultOf, type Run } from '../protocol/index.ts';
import type { FeatureContext } from '../server/features.ts';
import { RunNotDeletableError } from '../store/index.ts';

/** Stops an active run before a forced delete, so no process keeps writing for a run that is gone. */
async function stopForDelete(ctx: FeatureContext, run: Run): Promise<void> {
  if (isTerminal(run.status) || run.status === 'incomplete' || run.source !== 'launch') return;
  try {
    await ctx.dispatcher.cancel(run.id);
  } catch (err) {
    ctx.log.warn('cannot cancel a run before deleting it', { run: run.id, error: (err as Error).message });
  }
  for (const job of ctx.store.jobs.byRun(run.id)) ctx.dispatcher.logs.stop(job.id);
}

/** Deletes `run` (see the module comment); refuses with E_INVALID_STATE and the next step. */
export async function deleteRun(ctx: FeatureContext, run: Run, force: boolean): Promise<ResultOf['runs/delete']> {
  if (force) await stopForDelete(ctx, run);
  // A watched folder that still exists would be re-created as a run by the next scan.
  const tombstone = run.source !== 'launch' && run.outputDir !== null && existsSync(run.outputDir);
  let result;
  try {
    result = ctx.store.runs.delete(run.id, { force, tombstone });
  } catch (err) {
    if (err instanceof RunNotDeletableError) {
      throw new RpcError(ErrorCode.InvalidState, err.message, { reason: err.reason, aliases: err.aliases });
    }
    throw err;
  }
  const last = result.run;
  ctx.log.info('run deleted', { run: last.id, name: last.name, forced: force, removed: result.removed, untrackedOutput: result.tombstone });
  ctx.lifecycle.deleted(last);
  return { run: last, removed: result.removed, untrackedOutput: result.tombstone };
}

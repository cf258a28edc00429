/**
 * Protocol methods for the editor's launch wizard and run page: `runs/preflight` (check a
 * launch before making it), `runs/rename`, and `runs/logTail` (the end of a run's log and the
 * line that says why it failed, for the failure notification).
 */
import { isTerminal } from '../protocol/index.ts';
import type { FeatureContext } from '../server/features.ts';
import type { Handlers } from '../server/handlers.ts';
import { findRun } from './handlers.ts';
import { readLogTail } from './log-tail.ts';
import { preflightLaunch } from './preflight.ts';
import { checkedRunName } from './run-name.ts';

/** Lines `runs/logTail` gives when not asked for a number. */
const DEFAULT_TAIL_LINES = 20;

export function runPageHandlers(ctx: FeatureContext): Partial<Handlers> {
  return {
    'runs/preflight': (params) => preflightLaunch({
      store: ctx.store,
      hosts: ctx.dispatcher.hosts,
      onChecked: (name, reachable) => ctx.server.publish('hosts', { name, reachable }),
    }, params),
    'runs/rename': ({ run: ref, name }) => {
      const run = findRun(ctx, ref);
      const renamed = ctx.store.runs.rename(run.id, checkedRunName(ctx.store, run.id, name));
      ctx.lifecycle.changed(renamed.id);
      return { run: renamed };
    },
    'runs/logTail': ({ run: ref, lines }) => {
      const run = findRun(ctx, ref);
      const job = ctx.store.jobs.latest(run.id);
      const tail = readLogTail(ctx.dispatcher.logPath(run), lines ?? DEFAULT_TAIL_LINES, job?.jobDir ?? null);
      const complete = isTerminal(run.status) && (!job || !ctx.dispatcher.logs.isFollowing(job.id));
      return { runId: run.id, ...tail, complete };
    },
  };
}

/**
 * What one probed job means, decided quickly — anything long (syncing outputs, the final
 * drain, sending a cancel, re-running a start the daemon did not see through) goes to a
 * background task, so the host's reconcile loop never waits on it.
 */
import { isTerminal, type Run } from '../protocol/index.ts';
import type { Job } from '../store/jobs.ts';
import type { HostRecord } from './hosts.ts';
import type { ProbedJob } from './remote/markers.ts';
import { checkAlerts } from './alerts.ts';
import { sendCancel } from './cancel.ts';
import { runStart } from './attempt.ts';
import { settleFinished, settleLost, type SettleDeps } from './settle.ts';
import type { JobOutputs } from './job-outputs.ts';

export interface ReconcileJobDeps extends SettleDeps {
  outputs: JobOutputs;
  /** Jobs whose attempt this daemon is running right now. */
  attempts: ReadonlySet<string>;
  /** Background tasks by job (a cancel being sent, a start being re-run): one at a time each. */
  background: Map<string, Promise<void>>;
}

/** Runs `task` for `job` in the background unless one is in flight already. */
export function inBackground(deps: ReconcileJobDeps, job: Job, what: string, task: () => Promise<void>): void {
  if (deps.background.has(job.id)) return;
  const p = task()
    .catch((err: Error) => deps.ctx.log.warn(`${what} failed; it is tried again`, { run: job.runId, attempt: job.attempt, error: err.message }))
    .finally(() => deps.background.delete(job.id));
  deps.background.set(job.id, p);
}

/** A cancel recorded but not yet on the host (the host did not answer, or the daemon died first): send it. */
function applyPendingCancel(deps: ReconcileJobDeps, host: HostRecord, run: Run, job: Job, p: ProbedJob): void {
  let intent = deps.ctx.lifecycle.cancelIntent(run.id);
  // Asked on the host (by hand, or by a daemon whose record is gone): the record follows the host.
  if (!intent && p.cancelRequested && !isTerminal(run.status)) intent = deps.ctx.lifecycle.requestCancel(run.id);
  if (intent?.state !== 'pending' || p.state.state === 'finished') return;
  inBackground(deps, job, 'sending a cancel', () => sendCancel(deps.ctx, host.name, job));
}

/** Reconciles one job from what its host's files say. */
export function reconcileJob(deps: ReconcileJobDeps, host: HostRecord, job: Job, p: ProbedJob): void {
  const { ctx } = deps;
  const run = ctx.store.runs.get(job.runId);
  if (!run) return;
  if (run.unreachableSince !== null) ctx.lifecycle.setUnreachable(run.id, null);
  applyPendingCancel(deps, host, run, job, p);
  const s = p.state;
  switch (s.state) {
    case 'running':
    case 'started':
      ctx.store.jobs.update(job.id, { state: 'running', pid: s.pid, lastHeartbeat: p.heartbeatAgeSeconds === null ? null : Date.now() - p.heartbeatAgeSeconds * 1000 });
      if (run.status === 'starting') ctx.lifecycle.setStatus(run.id, 'running');
      deps.logs.follow(job, ctx.hosts.connection(host.name));
      deps.outputs.kick(host, run, job);
      checkAlerts({ store: ctx.store, lifecycle: ctx.lifecycle, lastLogGrowth: deps.logs.lastGrowth }, run, job, p);
      return;
    case 'finished':
      deps.outputs.finish(host, run, job, p.logBytes, () => {
        settleFinished(deps, host, run, job, s.exitCode, p);
        return Promise.resolve();
      });
      return;
    case 'lost':
      settleLost(deps, host, run, job, s.reason, p);
      return;
    case 'missing':
      if (!deps.attempts.has(job.id)) settleLost(deps, host, run, job, 'its job directory is gone', p);
      return;
    case 'new':
      // start.sh never ran (or never finished) and no attempt of this daemon is on it: a daemon
      // that died between `starting` and start.sh. start.sh is idempotent and refuses a cancelled job.
      if (job.state === 'starting' && !deps.attempts.has(job.id) && !ctx.lifecycle.cancelIntent(run.id)) {
        inBackground(deps, job, 'starting the job again', () => runStart(ctx, run, job, host.name));
      }
      return;
    default:
      // starting: the wrapper has not written its pid yet; unreadable: ask again next time.
  }
}

/**
 * Cancel. The intent is a row first (RunLifecycle.requestCancel): from then on the run can
 * only end `cancelled`, every step of an attempt checks it, and a daemon restarted in the
 * middle finds it. Then, by where the run is:
 *   queued, or an attempt still preparing → cancelled now; the attempt stops at its next
 *     check; cancel.sh marks the job dir (`state/cancel`, even before the dir exists) so a
 *     job dir written later is never started;
 *   starting or running → cancel.sh on the host (TERM through the wrapper, KILL after the
 *     grace period); the reconciler ends the run once the host says the job ended. A host
 *     that cannot be reached keeps the intent pending: the reconciler sends it when the host
 *     answers again.
 * A second cancel while one is pending sends it again (idempotent on the host).
 */
import { ErrorCode, RpcError, isTerminal, type Run } from '../protocol/index.ts';
import type { Job } from '../store/jobs.ts';
import type { DispatchContext } from './context.ts';
import { parseCancelOutput } from './remote/markers.ts';
import { isTimedOut, isUnreachable } from './transport/connection.ts';
import { cancelPendingReason } from './settle.ts';
import { cancelOnSlurm } from './slurm.ts';

/** Asks `host` to stop `job` (cancel.sh) and records what came of it. Throws when the host cannot be reached. */
export async function sendCancel(ctx: DispatchContext, hostName: string, job: Job): Promise<void> {
  if (ctx.hosts.get(hostName).backend === 'slurm') return sendSlurmCancel(ctx, hostName, job);
  const intent = ctx.lifecycle.cancelIntent(job.runId);
  const scripts = await ctx.hosts.scriptsDir(hostName);
  const r = await ctx.hosts.connection(hostName).exec(['bash', `${scripts}/cancel.sh`, job.jobDir], { timeoutMs: 90_000, what: 'cancel.sh' });
  const outcome = parseCancelOutput(r.stdout);
  ctx.log.info('cancel sent', { run: job.runId, attempt: job.attempt, host: hostName, outcome: outcome.outcome });
  if (outcome.outcome === 'unreadable') throw new Error(`cancel.sh on ${hostName} gave no complete answer (${outcome.reason}); it is sent again`);
  if (intent) ctx.store.intents.advance(intent.id, 'applied', `cancel.sh: ${outcome.outcome}${'pid' in outcome ? ` ${outcome.pid}` : ''}`);
  if (outcome.outcome === 'never-started' || outcome.outcome === 'missing') {
    // Nothing ran and nothing will (start.sh refuses a job with state/cancel).
    ctx.store.jobs.update(job.id, { state: 'abandoned', ended: true });
    ctx.lifecycle.setStatus(job.runId, 'cancelled', { reason: 'cancelled before it started' });
  }
}

/**
 * Slurm hosts: scancel (pending or running), after marking the job dir so that no later
 * submit sends it; the reconciler ends the run once Slurm says CANCELLED. A job never
 * submitted ends here.
 */
async function sendSlurmCancel(ctx: DispatchContext, hostName: string, job: Job): Promise<void> {
  const intent = ctx.lifecycle.cancelIntent(job.runId);
  const outcome = await cancelOnSlurm(ctx, hostName, job);
  ctx.log.info('cancel sent', { run: job.runId, attempt: job.attempt, host: hostName, outcome: outcome.outcome, ...(outcome.outcome === 'scancel' ? { slurmJob: outcome.id } : {}) });
  if (intent) ctx.store.intents.advance(intent.id, 'applied', outcome.outcome === 'scancel' ? `scancel ${outcome.id}` : 'never submitted');
  if (outcome.outcome === 'never-started') {
    ctx.store.jobs.update(job.id, { state: 'abandoned', ended: true });
    ctx.lifecycle.setStatus(job.runId, 'cancelled', { reason: 'cancelled before it was submitted' });
  }
}

/** Cancels a run (see the module comment). Returns the run as it is after the request. */
export async function cancelRun(ctx: DispatchContext, run: Run): Promise<Run> {
  if (isTerminal(run.status)) throw new RpcError(ErrorCode.InvalidState, `run ${run.name} already ${run.status}`);
  ctx.lifecycle.requestCancel(run.id);
  const job = ctx.store.jobs.latest(run.id);
  const host = job?.hostId ? ctx.store.hosts.byId(job.hostId) : undefined;
  if (!job || !host || job.endedAt !== null || job.state === 'preparing') {
    if (job?.state === 'preparing') ctx.store.jobs.update(job.id, { state: 'abandoned', ended: true });
    ctx.lifecycle.setStatus(run.id, 'cancelled', { reason: 'cancelled before it started' });
    // Mark the job dir on the host, in case the attempt already wrote it (best effort: start.sh also re-checks).
    if (job && host) void sendCancel(ctx, host.name, job).catch((err: Error) => ctx.log.info('cancel mark on the host deferred', { run: run.id, error: err.message }));
    return ctx.store.runs.get(run.id) as Run;
  }
  try {
    await sendCancel(ctx, host.name, job);
  } catch (err) {
    if (!isUnreachable(err) && !isTimedOut(err)) throw err;
    ctx.lifecycle.setReason(run.id, cancelPendingReason(host.name));
    ctx.log.warn('cancel pending: host does not answer', { run: run.id, host: host.name, error: (err as Error).message });
  }
  return ctx.store.runs.get(run.id) as Run;
}

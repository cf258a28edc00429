/**
 * Ending an attempt on the host's word. A job that finished ends its run — `cancelled` when a
 * cancel was recorded here or asked on the host (its state/cancel, or stop_reason "cancel":
 * so a daemon restarted mid-cancel still ends it cancelled), requeued with back-off when a
 * GPU was taken (75), `succeeded` (and the frozen eval command runs on its best checkpoint)
 * or `failed`. A job whose process vanished is `lost`, or retried while retries are left.
 * An unreachable host judges nothing: its runs are marked, and retried elsewhere only after
 * the grace period, when they have retries.
 */
import { isTerminal, type Checkpoint, type Run } from '../protocol/index.ts';
import type { Job } from '../store/jobs.ts';
import { EdgeTypes } from '../store/index.ts';
import type { DispatchContext } from './context.ts';
import { splitLocation, type HostRecord } from './hosts.ts';
import type { ProbedJob } from './remote/markers.ts';
import type { LogFollower } from './logs.ts';
import { launchSpecOf, type LaunchSpec } from './launch-request.ts';

/** Exit code run.sh uses when a GPU was leased to something else: nothing ran, requeue. */
export const EXIT_GPU_BUSY = 75;

export interface SettleDeps {
  ctx: DispatchContext;
  logs: LogFollower;
  /** Back to the queue with a retry recorded (and back-off). */
  requeue(run: Run, reason: string, backoff: boolean): void;
  /** A GPU on `host` turned out to be taken: look at its leases before placing there again. */
  gpuTaken(host: HostRecord): void;
  /** Launches the eval of a train run's checkpoint. */
  launchEval(parent: Run, checkpoint: Checkpoint, spec: LaunchSpec, hostName: string): void;
  /** Slurm hosts: launches the eval of a train run behind its submitted train job (afterok). */
  chainEval(parent: Run, trainJob: Job, spec: LaunchSpec, hostName: string): void;
  unreachableGraceMs: number;
}

/** True when a cancel was recorded here, or the host says one was asked. Records a host-side cancel here too. */
function wasCancelled(ctx: DispatchContext, run: Run, p: Pick<ProbedJob, 'cancelRequested' | 'stopReason'> | null): boolean {
  if (ctx.lifecycle.cancelIntent(run.id)) return true;
  if (p && (p.cancelRequested || p.stopReason === 'cancel')) {
    ctx.lifecycle.requestCancel(run.id);
    return true;
  }
  return false;
}

/** How many times the run may still be retried after an infrastructure failure. */
function retriesLeft(ctx: DispatchContext, run: Run): number {
  const failures = ctx.store.jobs.byRun(run.id).filter((j) => j.state === 'lost' || j.state === 'abandoned').length;
  return ctx.store.runs.maxRetries(run.id) - failures;
}

/** The job finished with `exitCode` (its outputs and log are drained). */
export function settleFinished(deps: SettleDeps, host: HostRecord, run: Run, job: Job, exitCode: number, p: ProbedJob): void {
  const { ctx } = deps;
  ctx.store.jobs.update(job.id, { state: 'finished', exitCode, ended: true });
  if (wasCancelled(ctx, run, p)) {
    ctx.lifecycle.setStatus(run.id, 'cancelled', { exitCode, reason: 'cancelled' });
  } else if (exitCode === EXIT_GPU_BUSY) {
    deps.gpuTaken(host);
    deps.requeue(run, `a GPU on ${host.name} was taken by something else when the job started (${p.error ?? 'gpu busy'}): requeued`, true);
  } else if (exitCode === 0) {
    if (ctx.lifecycle.setStatus(run.id, 'succeeded', { exitCode: 0 })?.status === 'succeeded') afterSuccess(deps, host, run, job);
  } else {
    ctx.lifecycle.setStatus(run.id, 'failed', { exitCode, reason: p.error ?? `exit code ${exitCode}` });
  }
}

/**
 * Eval after train: the frozen eval command runs on the best (else the last) checkpoint. On a
 * Slurm host it was chained to this job at submit (afterok): its results are linked to the
 * checkpoint it evaluated, the job's output folder (else the best). A chained eval that was
 * behind another attempt's job, or never ran (its submit came too late for the dependency),
 * gives way to an eval launched now.
 */
function afterSuccess(deps: SettleDeps, host: HostRecord, run: Run, job: Job): void {
  const { store } = deps.ctx;
  const spec = launchSpecOf(store, run.id);
  if (spec.kind !== 'train' || !spec.frozen?.eval) return;
  const best = store.checkpoints.bestOrLatest(run.id);
  const chained = chainedEvalOf(deps.ctx, run.id, job.id);
  if (chained) {
    const evaluated = store.checkpoints.byRun(run.id).find((c) => splitLocation(c.location).path.replace(/\/+$/, '') === chained.outputDir) ?? best;
    if (evaluated) store.lineage.addEdge({ kind: 'checkpoint', id: evaluated.id }, { kind: 'run', id: chained.run.id }, EdgeTypes.EvaluatedBy);
    deps.ctx.lifecycle.changed(chained.run.id);
    return;
  }
  if (best) deps.launchEval(run, best, spec, host.name);
}

/** The eval chained (afterok) to train job `jobId` of `runId`, unless it ended without ever running. */
export function chainedEvalOf(ctx: DispatchContext, runId: string, jobId: string): { run: Run; outputDir: string } | undefined {
  for (const r of ctx.store.runs.evalsOf(runId)) {
    const after = launchSpecOf(ctx.store, r.id).afterTrain;
    if (after?.jobId !== jobId) continue;
    const neverRan = isTerminal(r.status) && r.status !== 'succeeded' && ctx.store.jobs.byRun(r.id).every((j) => j.startedAt === null);
    if (!neverRan) return { run: r, outputDir: after.outputDir };
  }
  return undefined;
}

/** True when some eval run was ever chained to train job `jobId` of `runId`. */
export function hasChainedEval(ctx: DispatchContext, runId: string, jobId: string): boolean {
  return ctx.store.runs.evalsOf(runId).some((r) => launchSpecOf(ctx.store, r.id).afterTrain?.jobId === jobId);
}

/** The job's process is gone without an exit code (or its directory is). */
export function settleLost(deps: SettleDeps, host: HostRecord, run: Run, job: Job, reason: string, p: ProbedJob | null): void {
  const { ctx } = deps;
  const canRetry = retriesLeft(ctx, run) > 0; // counted before this attempt is marked lost
  ctx.store.jobs.update(job.id, { state: 'lost', ended: true });
  deps.logs.stop(job.id);
  if (wasCancelled(ctx, run, p)) {
    ctx.lifecycle.setStatus(run.id, 'cancelled', { reason: `cancelled (${reason})` });
  } else if (canRetry) {
    ctx.log.warn('attempt lost; retrying', { run: run.id, attempt: job.attempt, reason });
    deps.requeue(run, `attempt ${job.attempt} lost on ${host.name} (${reason}); retrying`, false);
  } else {
    ctx.lifecycle.setStatus(run.id, 'lost', { reason: `${reason} (host ${host.name})` });
  }
}

/** The reason of a run whose cancel waits for its host. */
export function cancelPendingReason(host: string): string {
  return `cancel requested; ${host} does not answer, so it is sent when it does`;
}

/** The host did not answer: its runs are marked (and told), and retried elsewhere after the grace period if they may be. */
export function settleUnreachable(deps: SettleDeps, host: HostRecord, jobs: readonly Job[], why: string): void {
  const { ctx } = deps;
  ctx.store.hosts.setReachable(host.name, false);
  const now = Date.now();
  for (const job of jobs) {
    const run = ctx.store.runs.get(job.runId);
    if (!run || isTerminal(run.status)) continue;
    if (run.unreachableSince === null) {
      // A cancel still waiting for the host stays in the reason: the user sees it is not lost.
      const reason = ctx.lifecycle.cancelIntent(run.id)?.state === 'pending'
        ? cancelPendingReason(host.name)
        : `host ${host.name} unreachable`;
      ctx.lifecycle.setUnreachable(run.id, now, reason);
      ctx.log.warn('host unreachable', { host: host.name, run: run.id, error: why });
      ctx.lifecycle.alert(run.id, 'host_unreachable', 'warning', `host ${host.name} is unreachable (${why}); the run is left alone and watched`);
    } else if (now - run.unreachableSince > deps.unreachableGraceMs && retriesLeft(ctx, run) > 0 && !ctx.lifecycle.cancelIntent(run.id)) {
      ctx.store.jobs.update(job.id, { state: 'abandoned', ended: true });
      deps.logs.stop(job.id);
      deps.requeue(run, `retrying: host ${host.name} unreachable for ${Math.round((now - run.unreachableSince) / 60_000)} min`, false);
    }
  }
}

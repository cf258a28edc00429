/**
 * What one job on a Slurm host means, from one batched poll (slurm.ts): the job dir's
 * `exit_code` wins over Slurm's word, and Slurm's final state says why (a time limit, OOM, a
 * cancel). Live state from squeue, final state from `sacct -X` (squeue's `-t all` keeps
 * ended jobs for MinJobAge: enough without slurmdbd). A job neither knows is "not known
 * yet", never "gone" — only after UNKNOWN_LOST_MS is it lost.
 *
 *   PENDING (and REQUEUED, held…) → the run stays `starting`, its reason Slurm's (Resources…)
 *                                   and its place in the partition's queue (by priority)
 *   RUNNING, COMPLETING…          → `running`; logs, metrics, checkpoints stream from the job dir
 *   COMPLETED / FAILED            → by the exit code (the job dir's, else sacct's)
 *   CANCELLED*                    → cancelled (also when cancelled on the cluster, by hand)
 *   TIMEOUT                       → failed (time limit), with an alert
 *   OUT_OF_MEMORY                 → failed (OOM), with an alert
 *   NODE_FAIL / BOOT_FAIL         → lost (retried under --retries)
 *   REQUEUED / PREEMPTED          → not an end: Slurm runs run.sh again in the same job dir
 *                                   (the stopped run's end moves to state/restart-N/)
 */
import { isTerminal, type Run } from '../protocol/index.ts';
import type { Job } from '../store/jobs.ts';
import type { HostRecord } from './hosts.ts';
import type { ProbedJob } from './remote/markers.ts';
import { checkAlerts } from './alerts.ts';
import { sendCancel } from './cancel.ts';
import { runSubmit } from './attempt.ts';
import { hasChainedEval, settleFinished, settleLost } from './settle.ts';
import { launchSpecOf } from './launch-request.ts';
import { inBackground, type ReconcileJobDeps } from './reconcile-job.ts';
import { isFinalSlurmState, slurmViewOf, type SlurmJobView, type SlurmPoll } from './slurm.ts';
import { plural } from '../protocol/format.ts';

/** How long a submitted job may be unknown to both squeue and sacct before it counts as lost. */
export const UNKNOWN_LOST_MS = 10 * 60_000;
/** How long a final Slurm state waits for the job dir's exit_code (a shared filesystem can lag), and an exit code for Slurm's final state. */
const SETTLE_WAIT_MS = 20_000;

/** What a host loop remembers between polls of its Slurm jobs. */
export class SlurmMemo {
  /** When a job was first unknown to squeue and sacct. */
  readonly unknownSince = new Map<string, number>();
  /** When a job was first seen half-ended: an exit_code without Slurm's final state, or the reverse. */
  readonly halfEndedSince = new Map<string, number>();
  /** Train jobs whose chained eval (afterok) is known to exist. */
  readonly chained = new Set<string>();

  /** True once `key` (`exit:<job>` or `final:<job>`) has waited SETTLE_WAIT_MS since first asked. */
  waited(key: string, now = Date.now()): boolean {
    const since = this.halfEndedSince.get(key) ?? now;
    this.halfEndedSince.set(key, since);
    return now - since >= SETTLE_WAIT_MS;
  }

  forget(jobId: string): void {
    this.unknownSince.delete(jobId);
    this.halfEndedSince.delete(`exit:${jobId}`);
    this.halfEndedSince.delete(`final:${jobId}`);
    this.chained.delete(jobId);
  }
}

/** Waiting to run (again): after a requeue, an exit code in the job dir is the stopped run's. */
const REQUEUED = ['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'PREEMPTED', 'SPECIAL_EXIT'];
const LIVE = ['RUNNING', 'COMPLETING', 'CONFIGURING', 'SIGNALING', 'STAGE_OUT', 'SUSPENDED', 'RESIZING', 'STOPPED'];

/** Reconciles one Slurm job from the host's poll. */
export function reconcileSlurmJob(deps: ReconcileJobDeps, host: HostRecord, job: Job, p: ProbedJob, poll: SlurmPoll, memo: SlurmMemo): void {
  const { ctx } = deps;
  const run = ctx.store.runs.get(job.runId);
  if (!run) return;
  if (run.unreachableSince !== null) ctx.lifecycle.setUnreachable(run.id, null);
  const exit = p.state.state === 'finished' ? p.state.exitCode : null;
  const intent = ctx.lifecycle.cancelIntent(run.id);
  if (intent?.state === 'pending' && exit === null) inBackground(deps, job, 'sending a cancel', () => sendCancel(ctx, host.name, job));
  if (job.schedulerJobId === null) {
    // Not submitted as far as this daemon knows: one that died between `starting` and recording
    // the id, or a submit that failed. The submit looks the name up first, so it never doubles.
    if (exit !== null) finish(deps, host, run, job, p, exit, null, memo);
    else if (job.state === 'starting' && !deps.attempts.has(job.id) && !intent) inBackground(deps, job, 'submitting the job again', () => runSubmit(ctx, run, job, host.name));
    return;
  }
  const view = slurmViewOf(poll, job.schedulerJobId);
  if (exit === null && (view === null || !isFinalSlurmState(view.state))) chainEval(deps, host, run, job, memo);
  if (exit === null) memo.halfEndedSince.delete(`exit:${job.id}`);
  if (exit !== null && view !== null && REQUEUED.some((s) => view.state.startsWith(s))) {
    // Requeued (scontrol requeue, preemption): that exit code is the stopped run's; Slurm runs
    // run.sh again in this job dir, which moves it to state/restart-N/. Not an end.
    memo.halfEndedSince.delete(`exit:${job.id}`);
    const why = `requeued by Slurm: job ${job.schedulerJobId} waits to run again (${view.reason ?? view.state})`;
    if (run.statusReason !== why) ctx.lifecycle.setReason(run.id, why);
    return;
  }
  if (exit !== null) {
    // The exit code wins; Slurm's final state only says why (and, from sacct, what the job used),
    // so wait for it a little: when the code is not 0, and for sacct's record when sacct works.
    const settled = view !== null && isFinalSlurmState(view.state) && (poll.sacct === null || view.accounted !== undefined);
    if (!settled && (exit !== 0 || poll.sacct !== null) && poll.squeue !== null && !memo.waited(`exit:${job.id}`)) return;
    finish(deps, host, run, job, p, exit, view, memo);
    return;
  }
  if (view === null) {
    if (poll.squeue === null) return; // squeue failed: judge nothing
    const since = memo.unknownSince.get(job.id) ?? Date.now();
    memo.unknownSince.set(job.id, since);
    if (Date.now() - since > UNKNOWN_LOST_MS) {
      memo.forget(job.id);
      settleLost(deps, host, run, job, `Slurm knows no job ${job.schedulerJobId} (squeue${poll.sacct ? ', sacct' : ''}) and it left no exit code`, p);
    }
    return;
  }
  memo.unknownSince.delete(job.id);
  const state = view.state;
  if (LIVE.some((s) => state.startsWith(s))) {
    if (job.state === 'starting') {
      ctx.store.jobs.update(job.id, { state: 'running', started: true });
      ctx.lifecycle.setReason(run.id, null);
    } else if (run.statusReason?.startsWith('requeued by Slurm')) {
      ctx.lifecycle.setReason(run.id, `running again after a Slurm requeue (job ${job.schedulerJobId})`);
    }
    if (run.status === 'starting') ctx.lifecycle.setStatus(run.id, 'running');
    if (p.heartbeatAgeSeconds !== null) ctx.store.jobs.update(job.id, { lastHeartbeat: Date.now() - p.heartbeatAgeSeconds * 1000 });
    deps.logs.follow(job, ctx.hosts.connection(host.name));
    deps.outputs.kick(host, run, job);
    checkAlerts({ store: ctx.store, lifecycle: ctx.lifecycle, lastLogGrowth: deps.logs.lastGrowth }, run, job, p);
    return;
  }
  if (!isFinalSlurmState(state)) {
    // PENDING, REQUEUED, PREEMPTED, held: not an end. The run shows Slurm's reason.
    const why = job.state === 'running' && REQUEUED.some((s) => state.startsWith(s))
      ? `requeued by Slurm: job ${job.schedulerJobId} waits to run again (${view.reason ?? state})`
      : state.startsWith('PENDING') ? `queued on Slurm (${view.reason ?? 'pending'})${queuePlace(poll, job.schedulerJobId)}` : `${state.toLowerCase()} on Slurm${view.reason ? ` (${view.reason})` : ''}`;
    if (run.statusReason !== why) ctx.lifecycle.setReason(run.id, why);
    return;
  }
  // Final without an exit_code: a COMPLETED/FAILED job's file may still be on its way.
  if ((state.startsWith('COMPLETED') || state.startsWith('FAILED')) && !memo.waited(`final:${job.id}`)) return;
  finish(deps, host, run, job, p, null, view, memo);
}

/** `, 2nd of 5 pending in gpu`: a pending job's place among its partition's pending jobs, by priority. */
function queuePlace(poll: SlurmPoll, id: string): string {
  const at = poll.positions.get(id);
  if (!at) return '';
  const nth = at.position % 100 >= 11 && at.position % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][at.position % 10] ?? 'th');
  return `, ${at.position}${nth} of ${at.pending} pending${at.partition ? ` in ${at.partition}` : ''}`;
}

/**
 * A train run with an eval command: its eval is launched as soon as the train job is in Slurm,
 * and submitted behind it (afterok), so it queues on the cluster while the laptop sleeps.
 * Once per train job, whatever the restarts (the record says whether it was chained).
 */
function chainEval(deps: ReconcileJobDeps, host: HostRecord, run: Run, job: Job, memo: SlurmMemo): void {
  if (memo.chained.has(job.id) || deps.ctx.lifecycle.cancelIntent(run.id)) return;
  memo.chained.add(job.id);
  const spec = launchSpecOf(deps.ctx.store, run.id);
  if (spec.kind !== 'train' || !spec.frozen?.eval || hasChainedEval(deps.ctx, run.id, job.id)) return;
  deps.chainEval(run, job, spec, host.name);
}

/** After the last sync and log drain: ends the run by the exit code and Slurm's final state. */
function finish(deps: ReconcileJobDeps, host: HostRecord, run: Run, job: Job, p: ProbedJob, exit: number | null, view: SlurmJobView | null, memo: SlurmMemo): void {
  deps.outputs.finish(host, run, job, p.logBytes, () => {
    memo.forget(job.id);
    settleSlurm(deps, host, run, job, p, exit, view);
    return Promise.resolve();
  });
}

function settleSlurm(deps: ReconcileJobDeps, host: HostRecord, run: Run, job: Job, p: ProbedJob, exit: number | null, view: SlurmJobView | null): void {
  const { ctx } = deps;
  const state = view?.state ?? '';
  const id = job.schedulerJobId ?? '?';
  if (view?.accounted && isFinalSlurmState(state)) {
    // GPU time as Slurm accounts it (usage.ts prefers it to Keel's clock).
    const { seconds, gpus } = view.accounted;
    ctx.store.events.add({ kind: 'slurm_usage', severity: 'info', runId: run.id, message: `Slurm accounted job ${id}: ${seconds} s × ${plural(gpus, 'GPU')}`, data: { jobId: job.id, seconds, gpus } });
  }
  if (state.startsWith('NODE_FAIL') || state.startsWith('BOOT_FAIL')) {
    settleLost(deps, host, run, job, `Slurm job ${id} ended ${state}`, p);
    return;
  }
  // Cancelled on the cluster (scancel by hand, an admin): the record follows Slurm.
  const byHand = ctx.lifecycle.cancelIntent(run.id) !== undefined;
  if (state.startsWith('CANCELLED') && !byHand) ctx.lifecycle.requestCancel(run.id);
  const cancelled = ctx.lifecycle.cancelIntent(run.id) !== undefined || p.cancelRequested || p.stopReason === 'cancel';
  const code = exit ?? view?.exitCode?.code ?? (state.startsWith('COMPLETED') ? 0 : null);
  if (cancelled) {
    if (!ctx.lifecycle.cancelIntent(run.id)) ctx.lifecycle.requestCancel(run.id);
    ctx.store.jobs.update(job.id, { state: 'finished', exitCode: code, ended: true });
    ctx.lifecycle.setStatus(run.id, 'cancelled', { exitCode: code, reason: dependencyReason(deps, run, job, state, byHand) ?? `cancelled (Slurm job ${id} ${state || 'ended'})` });
    return;
  }
  const limit = state.startsWith('TIMEOUT') ? 'time' : state.startsWith('OUT_OF_MEMORY') ? 'memory' : state.startsWith('DEADLINE') ? 'deadline' : null;
  if (limit !== null || code === null) {
    const reason = limit === 'time'
      ? `time limit reached: Slurm stopped job ${id} (TIMEOUT${launchTime(deps, run)}); launch again with a longer --time`
      : limit === 'memory'
        ? `out of memory: Slurm killed job ${id} (OUT_OF_MEMORY); launch again with a larger --mem`
        : limit === 'deadline'
          ? `Slurm ended job ${id} at its deadline (DEADLINE)`
          : `Slurm job ${id} ended ${state || 'without a state'} and left no exit code`;
    ctx.store.jobs.update(job.id, { state: 'finished', exitCode: code, ended: true });
    ctx.lifecycle.setStatus(run.id, 'failed', { exitCode: code, reason });
    if (limit === 'time') ctx.lifecycle.alert(run.id, 'slurm_time_limit', 'error', `run ${run.name} hit its Slurm time limit: ${reason}`);
    if (limit === 'memory') ctx.lifecycle.alert(run.id, 'oom', 'error', `run ${run.name} ran out of memory on Slurm: ${reason}`);
    return;
  }
  settleFinished(deps, host, run, job, code, p);
}

/**
 * An eval chained to a train job that did not succeed: Slurm cancelled it (afterok can never
 * be met, `--kill-on-invalid-dep=yes`) without running it. Says so, with the train run's end.
 */
function dependencyReason(deps: ReconcileJobDeps, run: Run, job: Job, state: string, cancelledHere: boolean): string | null {
  const after = launchSpecOf(deps.ctx.store, run.id).afterTrain;
  if (!after || cancelledHere || !state.startsWith('CANCELLED') || job.startedAt !== null) return null;
  const train = deps.ctx.store.runs.get(after.runId);
  if (train?.status === 'succeeded') return null;
  const how = train && isTerminal(train.status) ? `ended ${train.status}${train.exitCode !== null ? ` (exit ${train.exitCode})` : ''}` : 'did not succeed';
  return `Slurm never ran this eval: train run ${train?.name ?? after.runId} (Slurm job ${after.slurmJobId}) ${how}, so its afterok dependency can never be met (DependencyNeverSatisfied)`;
}

/** `, --time 01:00:00` when the launch set a time limit. */
function launchTime(deps: ReconcileJobDeps, run: Run): string {
  const time = launchSpecOf(deps.ctx.store, run.id).slurm?.time;
  return time ? `, --time ${time}` : '';
}

/**
 * A sweep on a Slurm host goes to the cluster as ONE job array (`sbatch --array=0-(N-1)%M`),
 * one Keel run per array task, each with its own job directory, record and lineage — how a
 * Slurm user submits a sweep, and what keeps a 200-point sweep one line in squeue and one
 * scheduling decision for Slurm.
 *
 * Every run of the sweep goes through the usual attempt (ship code and data, write its job
 * dir) and stops at `starting` without a Slurm id. The array is submitted when no member is
 * still on its way there (a barrier; each member's submit, and each reconciler tick after
 * it, asks again), with the members that are ready, in sweep order. What leaves the array:
 * a member cancelled or ended before the submit, and every retry (attempt 2 on is a job of its
 * own). Submitting is idempotent (slurm.sh submit-array: the sweep dir's id file, then the
 * array's name in squeue/sacct), so a daemon killed between sbatch and recording the ids
 * finds the array at its next start; task i's id `<array>_<i>` is in its job dir too, so a
 * cancel of one run scancels just its task.
 *
 * Cancelling the sweep cancels the array: one scancel of the array id (after marking every
 * task's job dir, and the sweep dir so an array not yet submitted never is).
 */
import { ErrorCode, RpcError, isTerminal, type Run, type RunStatus } from '../protocol/index.ts';
import type { Job } from '../store/jobs.ts';
import type { DispatchContext } from './context.ts';
import type { LaunchSpec } from './launch-request.ts';
import { cancelArrayOnSlurm, sbatchOptions, SbatchError, slurmArrayName, submitArrayToSlurm } from './slurm.ts';
import { cancelPendingReason } from './settle.ts';
import { isTimedOut, isUnreachable } from './transport/connection.ts';
import { plural } from '../protocol/format.ts';

/** A sweep's place in its job array, recorded in each run's launch spec. */
export interface SlurmArraySpec {
  sweepId: string;
  /** The point's index in the sweep (tasks keep this order). */
  index: number;
  /** `--max-parallel`: at most this many tasks run at once (`%M`); 0 = no limit. */
  maxParallel: number;
}

interface Member {
  runId: string;
  job: Job | undefined;
  /** ready: job dir written, waiting for the array; submitted: has its task id; waiting: not there yet; out: not part of the array. */
  kind: 'ready' | 'submitted' | 'waiting' | 'out';
}

/** Whether this attempt goes to Slurm as a task of its sweep's array (first attempts of an array sweep). */
export function isArrayAttempt(spec: LaunchSpec, job: Job): spec is LaunchSpec & { slurmArray: SlurmArraySpec } {
  return spec.slurmArray !== undefined && job.attempt === 1;
}

/** The runs of an array sweep and where each stands (one query; no launch spec read). */
function members(ctx: DispatchContext, sweepId: string): Member[] {
  return ctx.store.jobs.latestOfSweep(sweepId).map(({ runId, runStatus, cancelOpen, job }) => ({ runId, job, kind: memberKind(runStatus, cancelOpen, job) }));
}

function memberKind(status: RunStatus, cancelOpen: boolean, job: Job | undefined): Member['kind'] {
  if (isTerminal(status) || cancelOpen) return 'out';
  if (!job) return 'waiting'; // queued, not placed yet
  if (job.attempt !== 1) return 'out'; // a retry is a job of its own
  if (job.state === 'preparing') return 'waiting';
  if (job.schedulerJobId !== null) return 'submitted';
  return job.state === 'starting' ? 'ready' : 'out';
}

const inflight = new WeakMap<DispatchContext, Map<string, Promise<void>>>();
const looks = new WeakMap<DispatchContext, Map<string, { at: number; all: Member[] }>>();
/** How long one look at a sweep's runs answers "still waiting?" for all of them. */
const LOOK_MS = 1000;

/**
 * The submit of one member of an array sweep: nothing yet while other members are still on
 * their way (the run says so), else the sweep's array is submitted (or found) and every
 * ready member gets its task's id. Returns false when this member is not in the array on
 * the cluster (then it is submitted as a job of its own).
 */
export async function submitArrayMember(ctx: DispatchContext, run: Run, job: Job, host: string, spec: LaunchSpec & { slurmArray: SlurmArraySpec }): Promise<boolean> {
  const sweepId = spec.slurmArray.sweepId;
  // Every waiting run of a big sweep asks at every tick: one look at the sweep serves them all for a moment.
  let memo = looks.get(ctx);
  if (!memo) looks.set(ctx, (memo = new Map<string, { at: number; all: Member[] }>()));
  // A look that still has this run on its way is stale: this run is ready now (the last one to be is what ends the wait).
  const seen = memo.get(sweepId);
  const fresh = seen && Date.now() - seen.at < LOOK_MS && seen.all.find((m) => m.runId === run.id)?.kind === 'ready';
  const all = fresh ? seen.all : members(ctx, sweepId);
  if (!fresh) for (const [id, look] of memo) if (Date.now() - look.at > 10 * LOOK_MS) memo.delete(id); // sweeps no longer asked about
  memo.set(sweepId, { at: seen?.all === all ? seen.at : Date.now(), all });
  const waiting = all.filter((m) => m.kind === 'waiting').length;
  if (waiting > 0) {
    const why = `waiting for ${plural(waiting, 'more run')} of its sweep: the sweep goes to Slurm as one job array`;
    if (ctx.store.runs.get(run.id)?.statusReason !== why) ctx.lifecycle.setReason(run.id, why);
    return true;
  }
  let running = inflight.get(ctx);
  if (!running) inflight.set(ctx, (running = new Map<string, Promise<void>>()));
  const pending = running.get(sweepId);
  if (pending) await pending;
  else {
    memo.delete(sweepId);
    const p = submitArray(ctx, sweepId, host, members(ctx, sweepId)).finally(() => running.delete(sweepId));
    running.set(sweepId, p);
    await p;
  }
  const now = ctx.store.jobs.get(job.id);
  return now?.schedulerJobId !== null || now.state !== 'starting';
}

async function submitArray(ctx: DispatchContext, sweepId: string, host: string, all: Member[]): Promise<void> {
  if (all.some((m) => m.kind === 'waiting')) return;
  // Only now the runs and their specs are read: the sweep's order is the points' (spec index).
  const inArray = all.filter((m) => m.kind === 'ready' || m.kind === 'submitted').flatMap((m) => {
    const run = ctx.store.runs.get(m.runId);
    const spec = ctx.store.runs.launchSpec(m.runId) as LaunchSpec | null;
    return run && spec?.slurmArray && m.job ? [{ ...m, run, job: m.job, spec: spec as LaunchSpec & { slurmArray: SlurmArraySpec } }] : [];
  }).sort((a, b) => a.spec.slurmArray.index - b.spec.slurmArray.index);
  const first = inArray[0];
  if (!first || !inArray.some((m) => m.kind === 'ready')) return;
  const hostRecord = ctx.hosts.get(host);
  const sweepDir = `${await ctx.hosts.workdir(host)}/sweeps/${sweepId}`;
  const options = sbatchOptions(hostRecord.slurm, first.run.gpus, first.spec.slurm ?? {});
  const ready = inArray.filter((m) => m.kind === 'ready');
  let result;
  try {
    result = await submitArrayToSlurm(ctx, host, sweepDir, slurmArrayName(sweepId), inArray.map((m) => m.job.jobDir), first.spec.slurmArray.maxParallel, options);
  } catch (err) {
    if (!(err instanceof SbatchError)) throw err;
    for (const m of ready) {
      ctx.store.jobs.update(m.job.id, { state: 'abandoned', ended: true });
      ctx.lifecycle.setStatus(m.run.id, 'failed', { reason: `${err.message}. Check the partition, account and limits with \`keel hosts check ${host}\`` });
    }
    return;
  }
  if (result.outcome === 'cancelled') {
    for (const m of ready) {
      ctx.store.jobs.update(m.job.id, { state: 'abandoned', ended: true });
      ctx.lifecycle.setStatus(m.run.id, 'cancelled', { reason: 'cancelled with its sweep before the sweep was submitted' });
    }
    return;
  }
  const limit = first.spec.slurmArray.maxParallel;
  for (const m of ready) {
    const job = m.job;
    const task = result.tasks.get(job.jobDir);
    if (task === undefined) continue; // not in the array on the cluster: submitted on its own
    const id = `${result.id}_${task}`;
    ctx.store.jobs.setSchedulerJobId(job.id, id);
    ctx.store.runs.setBackoff(m.run.id, { notBefore: null, busyRetries: 0 });
    ctx.lifecycle.setReason(m.run.id, `submitted to Slurm on ${host} as task ${task} of job array ${result.id} (${result.tasks.size} tasks${limit > 0 ? `, at most ${limit} at once` : ''})`);
  }
  ctx.log.info(result.outcome === 'found' ? 'slurm job array found by its name; not submitted again' : 'slurm job array submitted', { sweep: sweepId, host, slurmJob: result.id, tasks: result.tasks.size });
}

/**
 * Cancels every run of a sweep that has not ended. The runs in its Slurm job array go with
 * one scancel of the array; the others (queued, retried, on other hosts) are cancelled one
 * by one. Returns the runs as they are after the request, and the array scancelled if any.
 */
export async function cancelSweep(ctx: DispatchContext, sweepId: string, cancelRun: (run: Run) => Promise<Run>, claim: (jobIds: string[], work: Promise<unknown>) => void): Promise<{ runs: Run[]; slurmArray: string | null }> {
  const ids = ctx.store.sweeps.runIds(sweepId);
  if (ids.length === 0) throw new RpcError(ErrorCode.NotFound, `no sweep ${sweepId} (or it has no runs); \`keel runs --sweep ID\` lists a sweep's runs`);
  const inArray = members(ctx, sweepId).filter((m) => (m.kind === 'ready' || m.kind === 'submitted') && m.job?.hostId);
  let slurmArray: string | null = null;
  const byArray = new Set<string>();
  const host = inArray[0]?.job?.hostId ? ctx.store.hosts.byId(inArray[0].job.hostId) : undefined;
  if (host && host.backend === 'slurm') {
    for (const m of inArray) {
      ctx.lifecycle.requestCancel(m.runId);
      byArray.add(m.runId);
    }
    const known = inArray.map((m) => m.job?.schedulerJobId).find((x) => x);
    const sending = ctx.hosts.workdir(host.name).then((workdir) => cancelArrayOnSlurm(ctx, host.name, `${workdir}/sweeps/${sweepId}`, slurmArrayName(sweepId), known ? known.replace(/_\d+$/, '') : null));
    claim(inArray.map((m) => (m.job as Job).id), sending);
    try {
      const outcome = await sending;
      slurmArray = outcome.outcome === 'scancel' ? outcome.id : null;
      ctx.log.info('sweep cancelled', { sweep: sweepId, host: host.name, outcome: outcome.outcome, ...(slurmArray ? { slurmJob: slurmArray } : {}) });
      for (const m of inArray) {
        const intent = ctx.lifecycle.cancelIntent(m.runId);
        if (intent) ctx.store.intents.advance(intent.id, 'applied', slurmArray ? `scancel ${slurmArray} (the sweep's job array)` : 'never submitted');
        // Never submitted: nothing runs, and the sweep dir's mark keeps it so.
        if (!slurmArray && m.job && m.job.schedulerJobId === null) {
          ctx.store.jobs.update(m.job.id, { state: 'abandoned', ended: true });
          ctx.lifecycle.setStatus(m.runId, 'cancelled', { reason: 'cancelled with its sweep before the sweep was submitted' });
        }
      }
    } catch (err) {
      if (!isUnreachable(err) && !isTimedOut(err)) throw err;
      // The intents stay pending: the reconciler sends each task's cancel when the host answers.
      for (const m of inArray) ctx.lifecycle.setReason(m.runId, cancelPendingReason(host.name));
    }
  }
  for (const id of ids) {
    const run = ctx.store.runs.get(id);
    if (!run || byArray.has(id) || isTerminal(run.status)) continue;
    await cancelRun(run).catch((err: Error) => ctx.log.warn('cannot cancel a run of the sweep', { sweep: sweepId, run: id, error: err.message }));
  }
  return { runs: ids.flatMap((id) => ctx.store.runs.get(id) ?? []), slurmArray };
}

/**
 * Starts one attempt of a run on a host, as a chain of idempotent "ensure" steps over the
 * run's frozen spec: ship the code snapshot (once per host) → ship the dataset versions
 * (once per host) → write the job directory → build its private workspace → start it
 * detached with start.sh (which never starts a second copy, nor a cancelled job).
 *
 * Before each step the attempt asks whether it is still wanted — its job row still
 * `preparing`, no cancel recorded for the run — and stops when not. The move to `starting`
 * happens in one synchronous step with that check, so a cancel either comes before it (the
 * attempt stops, start.sh never runs) or after it (the cancel goes to the host, where
 * start.sh and cancel.sh serialize on the job's start lock).
 */
import { isTerminal, type Run } from '../protocol/index.ts';
import type { Job } from '../store/jobs.ts';
import { parseStartOutput } from './remote/markers.ts';
import { launchSpecOf, type LaunchSpec } from './launch-request.ts';
import type { DispatchContext } from './context.ts';
import type { FrozenSpec } from './freeze.ts';
import { checkCaches, dataDir, ensureData } from './caches.ts';
import { codeDir, ensureCode } from './ship-code.ts';
import { buildWorkspace, writeJobDir } from './job-dir.ts';
import { SbatchError, submitToSlurm, type SubmitOutcome } from './slurm.ts';
import { isArrayAttempt, submitArrayMember } from './slurm-array.ts';

/** The attempt was cancelled or superseded before it started anything: nothing runs. */
export class AttemptStopped extends Error {
  override name = 'AttemptStopped';
  /** Whether the job directory was written on the host (then cancel.sh must mark it). */
  readonly wroteJobDir: boolean;
  constructor(message: string, wroteJobDir: boolean) {
    super(message);
    this.wroteJobDir = wroteJobDir;
  }
}

/** True while the attempt may go on: its job is still preparing and no cancel is recorded. */
export function attemptWanted(ctx: DispatchContext, job: Job): boolean {
  return ctx.store.jobs.get(job.id)?.state === 'preparing' && ctx.lifecycle.cancelIntent(job.runId) === undefined;
}

/**
 * The one move to `starting`, checked and made in the same synchronous step: false (nothing
 * changed) when the attempt is no longer wanted.
 */
export function beginStart(ctx: DispatchContext, run: Run, job: Job): boolean {
  if (!attemptWanted(ctx, job)) return false;
  if (!ctx.store.jobs.update(job.id, { state: 'starting' })) return false;
  ctx.lifecycle.setStatus(run.id, 'starting');
  return true;
}

/** The frozen part of a run's spec (a run frozen by an older Keel has none: attempt.ts refuses it). */
export function frozenOf(spec: LaunchSpec, run: Run): FrozenSpec {
  if (!spec.frozen) throw new Error(`run ${run.name} has no frozen launch spec; launch it again`);
  return spec.frozen;
}

/** Runs the ensure chain for `job` and starts it. Throws on failure (the caller decides: requeue, fail, or nothing). */
export async function startAttempt(ctx: DispatchContext, run: Run, job: Job, host: string): Promise<void> {
  const spec = launchSpecOf(ctx.store, run.id);
  const frozen = frozenOf(spec, run);
  let wrote = false;
  const guard = (before: string): void => {
    if (!attemptWanted(ctx, job)) throw new AttemptStopped(`attempt ${job.attempt} of ${run.name} stopped before ${before}: it was cancelled or abandoned`, wrote);
  };
  guard('syncing');
  ctx.lifecycle.setStatus(run.id, 'syncing');
  // One look at every cache the job needs; only what is missing or changed costs more.
  const workdir = await ctx.hosts.workdir(host);
  const seals = await checkCaches(ctx, host, [codeDir(workdir, frozen.code), ...frozen.datasets.map((d) => dataDir(workdir, d))]);
  const code = await ensureCode(ctx, run, job, host, spec.projectRoot, frozen.code, seals.get(codeDir(workdir, frozen.code)));
  guard('shipping its data');
  const links = await ensureData(ctx, run, job, host, frozen.datasets, seals);
  guard('writing its job directory');
  wrote = true;
  await writeJobDir(ctx, run, job, host, spec, frozen);
  guard('building its workspace');
  await buildWorkspace(ctx, host, job, code, links);
  const moved = ctx.takeTransfers(job.id);
  ctx.log.info('job directory ready', { run: run.id, attempt: job.attempt, host, codeBytes: moved.code, dataBytes: moved.data });
  if (!beginStart(ctx, run, job)) throw new AttemptStopped(`attempt ${job.attempt} of ${run.name} was cancelled before start.sh`, wrote);
  if (ctx.hosts.get(host).backend === 'slurm') await runSubmit(ctx, run, job, host);
  else await runStart(ctx, run, job, host);
}

/**
 * Slurm hosts: the job dir's run.sh goes to sbatch (slurm.sh looks the job's name up first,
 * so a submit the daemon did not see through is found, never repeated). The job stays
 * `starting` while Slurm queues it; the reconciler moves it on from squeue/sacct. A refusal
 * by sbatch (bad partition, account, QOS limit) fails the run with Slurm's words; anything
 * else throws, and the reconciler submits again (idempotent).
 */
export async function runSubmit(ctx: DispatchContext, run: Run, job: Job, host: string): Promise<void> {
  const spec = launchSpecOf(ctx.store, run.id);
  // A chained eval whose train run ended before it could be submitted: none is needed (it did
  // not succeed), or the dependency is met already (Slurm may have forgotten the train job).
  const after = spec.afterTrain;
  const train = after ? ctx.store.runs.get(after.runId) : undefined;
  if (after && train && isTerminal(train.status) && train.status !== 'succeeded') {
    ctx.store.jobs.update(job.id, { state: 'abandoned', ended: true });
    ctx.lifecycle.setStatus(run.id, 'cancelled', { reason: `not submitted: train run ${train.name} (Slurm job ${after.slurmJobId}) ended ${train.status}, so its afterok dependency can never be met (DependencyNeverSatisfied)` });
    return;
  }
  // The first attempt of a run of an array sweep goes as a task of the sweep's job array.
  if (isArrayAttempt(spec, job) && (await submitArrayMember(ctx, run, job, host, spec))) return;
  let outcome: SubmitOutcome;
  try {
    outcome = await submitToSlurm(ctx, run, job, host, spec.slurm ?? {}, after && train?.status !== 'succeeded' ? after.slurmJobId : undefined);
  } catch (err) {
    if (!(err instanceof SbatchError)) throw err;
    ctx.store.jobs.update(job.id, { state: 'abandoned', ended: true });
    ctx.lifecycle.setStatus(run.id, 'failed', { reason: `${err.message}. Check the partition, account and limits with \`keel hosts check ${host}\`` });
    return;
  }
  if (outcome.outcome === 'cancelled') {
    ctx.store.jobs.update(job.id, { state: 'abandoned', ended: true });
    ctx.lifecycle.setStatus(run.id, 'cancelled', { reason: 'cancelled before it was submitted' });
    return;
  }
  ctx.store.jobs.setSchedulerJobId(job.id, outcome.id);
  ctx.store.runs.setBackoff(run.id, { notBefore: null, busyRetries: 0 });
  ctx.lifecycle.setReason(run.id, `submitted to Slurm on ${host} as job ${outcome.id}${spec.afterTrain ? `, to run after job ${spec.afterTrain.slurmJobId} succeeds (afterok)` : ''}`);
  ctx.log.info(outcome.outcome === 'found' ? 'slurm job found by its name; not submitted again' : 'slurm job submitted', { run: run.id, attempt: job.attempt, host, slurmJob: outcome.id });
}

/** start.sh, and what its answer means for the job. Also used by the reconciler for a start the daemon did not see through. */
export async function runStart(ctx: DispatchContext, run: Run, job: Job, host: string): Promise<void> {
  const scripts = await ctx.hosts.scriptsDir(host);
  const r = await ctx.hosts.connection(host).exec(['bash', `${scripts}/start.sh`, job.jobDir], { timeoutMs: 90_000, what: 'start.sh' });
  const state = parseStartOutput(r.stdout);
  if (state.state === 'started' || state.state === 'running') {
    ctx.store.jobs.update(job.id, { state: 'running', pid: state.pid, started: true });
    ctx.lifecycle.setStatus(run.id, 'running');
    ctx.store.runs.setBackoff(run.id, { notBefore: null, busyRetries: 0 });
    ctx.log.info('job started', { run: run.id, attempt: job.attempt, host, pid: state.pid });
  } else if (state.state === 'finished') {
    ctx.store.jobs.update(job.id, { state: 'running', started: true }); // the reconciler drains and ends it
  } else if (state.state === 'starting' || state.state === 'lost') {
    ctx.log.info('start.sh answered', { run: run.id, attempt: job.attempt, host, state: state.state }); // the reconciler follows it
  } else {
    throw new Error(`start.sh on ${host} said ${state.state}${'reason' in state ? `: ${state.reason}` : ''}${r.stderr ? ` (${r.stderr.trim().slice(0, 300)})` : ''}`);
  }
}

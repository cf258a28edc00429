/**
 * Slurm hosts: Keel reaches a Slurm cluster the way people do — ssh to a login node, run
 * sbatch/squeue/sacct/scancel there (slurm.sh), job directories on the shared filesystem.
 * Slurm, not Keel, owns GPU placement: no GPU leases, CUDA_VISIBLE_DEVICES as Slurm sets it.
 *
 * Submission is idempotent: slurm.sh looks the job's name (`keel-<run>-<attempt>`) up before
 * any sbatch, so a daemon killed between sbatch and recording the id never submits twice.
 * Polling is batched: one ssh call per host per tick, running one squeue (this user's jobs,
 * all states) and one `sacct -X` for every active job, then probe.sh over their job dirs.
 */
import type { Run, SlurmCheckFacts } from '../protocol/index.ts';
import type { Job } from '../store/jobs.ts';
import type { SlurmDefaults } from '../store/hosts.ts';
import type { DispatchContext } from './context.ts';
import type { HostConnection } from './transport/connection.ts';
import { parseProbeOutput, readMarkers, type ProbeReport } from './remote/markers.ts';
import { SLURM_PARTITION, SLURM_TIME } from '../protocol/slurm-values.ts';

/** What a launch may ask of sbatch beyond the GPUs (`keel launch --time/--partition/--cpus/--mem`). */
export interface SlurmLaunch {
  time?: string;
  partition?: string;
  cpus?: number;
  mem?: string;
}

/** Slurm names (partition, account, qos): letters, digits, `.`, `_`, `-`; partitions may be a comma list. */
export const SLURM_NAME = SLURM_PARTITION;
const PARTITIONS = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}(,[A-Za-z0-9][A-Za-z0-9._-]{0,63}){0,15}$/;
/** sbatch --mem: a size with an optional K/M/G/T unit. */
export const SLURM_MEM = /^\d{1,9}[KMGT]?$/;

/** The error a bad Slurm value gets, or null. */
export function slurmValueProblem(field: 'partition' | 'account' | 'qos' | 'time' | 'mem', value: string): string | null {
  const ok = field === 'partition' ? PARTITIONS.test(value) : field === 'time' ? SLURM_TIME.test(value) : field === 'mem' ? SLURM_MEM.test(value) : SLURM_NAME.test(value);
  if (ok) return null;
  const want = {
    partition: 'a partition name (letters, digits, ".", "_", "-"; several separated by commas)',
    account: 'an account name (letters, digits, ".", "_", "-")',
    qos: 'a QOS name (letters, digits, ".", "_", "-")',
    time: 'a Slurm time limit: MM, MM:SS, HH:MM:SS or D-HH[:MM[:SS]] (e.g. 02:00:00)',
    mem: 'a memory size like 64G or 16000M',
  }[field];
  return `--${field} "${value}" is not ${want}`;
}

/** The Slurm job name of an attempt: what the look-up before a (re)submit finds it by. */
export function slurmJobName(runId: string, attempt: number): string {
  return `keel-${runId}-${attempt}`;
}

/** A Slurm job id as sbatch gives it (`123`, or `123_4` for an array task). */
export const SLURM_JOB_ID = /^\d+(_\d+)?$/;

/**
 * The sbatch options of a job: GPUs as GRES, the launch's limits, the host's defaults (a
 * launch's partition wins), and for an eval chained to its train job, `afterok` on that job
 * (Slurm cancels it when the train job fails: `--kill-on-invalid-dep=yes`).
 */
export function sbatchOptions(defaults: SlurmDefaults | null, gpus: number, launch: SlurmLaunch, afterOk?: string): string[] {
  const out: string[] = [];
  if (afterOk !== undefined) {
    if (!SLURM_JOB_ID.test(afterOk)) throw new Error(`"${afterOk}" is not a Slurm job id`);
    out.push(`--dependency=afterok:${afterOk}`, '--kill-on-invalid-dep=yes');
  }
  if (gpus > 0) out.push(`--gres=gpu:${gpus}`);
  if (launch.time) out.push(`--time=${launch.time}`);
  const partition = launch.partition ?? defaults?.partition ?? null;
  if (partition) out.push(`--partition=${partition}`);
  if (launch.cpus !== undefined) out.push(`--cpus-per-task=${launch.cpus}`);
  if (launch.mem) out.push(`--mem=${launch.mem}`);
  if (defaults?.account) out.push(`--account=${defaults.account}`);
  if (defaults?.qos) out.push(`--qos=${defaults.qos}`);
  return out;
}

// ---------------------------------------------------------------- the host check

export type SlurmFacts = SlurmCheckFacts;

/** Runs `slurm.sh check` and reads its answer; throws when the host is no Slurm login node or the answer was cut short. */
export async function checkSlurm(conn: HostConnection, scriptsDir: string): Promise<SlurmFacts> {
  const r = await conn.exec(['bash', `${scriptsDir}/slurm.sh`, 'check'], { timeoutMs: 60_000, what: 'the Slurm check' });
  const { markers, complete } = readMarkers(r.stdout);
  const error = markers.find((m) => m.key === 'ERROR')?.rest;
  if (error !== undefined) throw new Error(`${conn.hostName}: ${error}`);
  if (!complete) throw new Error(`the Slurm check on ${conn.hostName} was cut short (exit ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim().slice(0, 300)}` : ''}); run \`keel hosts check ${conn.hostName}\` again`);
  const fields = (rest: string): string[] => rest.split('|');
  const sacct = markers.find((m) => m.key === 'SACCT')?.rest ?? 'no';
  return {
    version: markers.find((m) => m.key === 'VERSION')?.rest.trim() || 'unknown',
    partitions: markers.filter((m) => m.key === 'PARTITION').map((m) => {
      const [name = '', gres = '', avail = '', nodes = '0', state = '', timeLimit = ''] = fields(m.rest);
      return { name: name.replace(/\*$/, ''), default: name.endsWith('*'), gres, avail, nodes: Number(nodes) || 0, state, timeLimit };
    }),
    nodes: markers.filter((m) => m.key === 'NODE').map((m) => {
      const [name = '', state = '', gres = '', partition = ''] = fields(m.rest);
      return { name, state, gres, partition: partition.replace(/\*$/, '') };
    }),
    sacct: sacct === 'ok' ? { ok: true, error: null } : { ok: false, error: sacct.replace(/^no ?/, '') || 'sacct failed' },
    queue: markers.filter((m) => m.key === 'QUEUE').map((m) => {
      const [id = '', name = '', state = '', reason = '', time = ''] = fields(m.rest);
      return { id, name, state, reason, time };
    }),
  };
}

// ---------------------------------------------------------------- submit

/** What the submit came to: a Slurm job id, or a job dir cancelled before it was submitted. */
export type SubmitOutcome = { outcome: 'submitted' | 'found'; id: string } | { outcome: 'cancelled' };

/** `slurm.sh submit`: sbatch unless the job dir was submitted (or cancelled) before. Throws when nothing was submitted and sbatch failed. */
export async function submitToSlurm(ctx: DispatchContext, run: Run, job: Job, hostName: string, launch: SlurmLaunch, afterOk?: string): Promise<SubmitOutcome> {
  const host = ctx.hosts.get(hostName);
  const scripts = await ctx.hosts.scriptsDir(hostName);
  const args = ['bash', `${scripts}/slurm.sh`, 'submit', job.jobDir, slurmJobName(run.id, job.attempt), ...sbatchOptions(host.slurm, run.gpus, launch, afterOk)];
  const r = await ctx.hosts.connection(hostName).exec(args, { timeoutMs: 120_000, what: 'sbatch' });
  const { markers, complete } = readMarkers(r.stdout);
  const line = markers.find((m) => m.key === 'SUBMIT')?.rest;
  if (!complete || line === undefined) throw new Error(`slurm.sh submit on ${hostName} gave no complete answer (exit ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim().slice(0, 300)}` : ''}); the submit is looked up and tried again`);
  const [word = '', ...rest] = line.split(' ');
  const detail = rest.join(' ');
  if ((word === 'submitted' || word === 'found') && SLURM_JOB_ID.test(detail)) return { outcome: word, id: detail };
  if (word === 'cancelled') return { outcome: 'cancelled' };
  throw new SbatchError(`${hostName} refused the job: ${detail || line}`);
}

/** The Slurm job name of a sweep's job array: what the look-up before a (re)submit finds it by. */
export function slurmArrayName(sweepId: string): string {
  return `keel-sweep-${sweepId}`;
}

/** A sweep's array as submitted (or found): its id, and which job dir each task runs. */
export type ArraySubmit = { outcome: 'cancelled' } | {
  outcome: 'submitted' | 'found';
  id: string;
  /** Task index by job dir (the task list on the cluster, which wins over the one sent). */
  tasks: Map<string, number>;
};

/**
 * `slurm.sh submit-array`: one `sbatch --array=0-(N-1)[%M]` for the job dirs of a sweep's
 * runs, unless the array was submitted before (found by the id file or its name). Throws
 * SbatchError when sbatch refused it, another Error when the answer was cut short.
 */
export async function submitArrayToSlurm(ctx: DispatchContext, hostName: string, sweepDir: string, name: string, jobDirs: readonly string[], maxParallel: number, options: readonly string[]): Promise<ArraySubmit> {
  const scripts = await ctx.hosts.scriptsDir(hostName);
  const args = ['bash', `${scripts}/slurm.sh`, 'submit-array', sweepDir, name, String(jobDirs.length), String(maxParallel), ...jobDirs, ...options];
  const r = await ctx.hosts.connection(hostName).exec(args, { timeoutMs: 180_000, what: 'sbatch --array' });
  const { markers, complete } = readMarkers(r.stdout);
  const line = markers.find((m) => m.key === 'SUBMIT')?.rest;
  if (line === undefined) throw new Error(`slurm.sh submit-array on ${hostName} gave no answer (exit ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim().slice(0, 300)}` : ''}); the submit is looked up and tried again`);
  const [word = '', ...rest] = line.split(' ');
  const detail = rest.join(' ');
  if (word === 'error') throw new SbatchError(`${hostName} refused the sweep's job array: ${detail}`);
  if (word === 'cancelled') return { outcome: 'cancelled' };
  if (!complete || (word !== 'submitted' && word !== 'found') || !/^\d+$/.test(detail)) {
    throw new Error(`slurm.sh submit-array on ${hostName} gave no complete answer (${line}); the submit is looked up and tried again`);
  }
  const tasks = new Map<string, number>();
  for (const m of markers.filter((x) => x.key === 'TASK')) {
    const space = m.rest.indexOf(' ');
    tasks.set(m.rest.slice(space + 1), Number(m.rest.slice(0, space)));
  }
  return { outcome: word, id: detail, tasks };
}

/** `slurm.sh cancel-array`: marks every task's job dir cancelled and scancels the whole array. */
export async function cancelArrayOnSlurm(ctx: DispatchContext, hostName: string, sweepDir: string, name: string, id: string | null): Promise<SlurmCancelOutcome> {
  const scripts = await ctx.hosts.scriptsDir(hostName);
  const r = await ctx.hosts.connection(hostName).exec(['bash', `${scripts}/slurm.sh`, 'cancel-array', sweepDir, name, ...(id ? [id] : [])], { timeoutMs: 90_000, what: 'scancel of a job array' });
  return readCancelAnswer(r.stdout, hostName);
}

/** sbatch said no (a bad partition, a QOS limit, an account…): the run fails with Slurm's words. */
export class SbatchError extends Error {
  override name = 'SbatchError';
}

// ---------------------------------------------------------------- poll

/** A job as squeue or sacct sees it. */
export interface SlurmJobView {
  state: string;
  reason: string | null;
  /** sacct's ExitCode `code:signal`; null from squeue. */
  exitCode: { code: number; signal: number } | null;
  /** sacct's ElapsedRaw and the GPUs of its AllocTRES (`gres/gpu=N`); absent from squeue. */
  accounted?: { seconds: number; gpus: number };
}

/** The GPUs in an AllocTRES (`billing=1,cpu=1,gres/gpu=2,node=1`): the untyped `gres/gpu=` count (typed ones repeat it). */
export function tresGpus(tres: string): number {
  const m = /(?:^|,)gres\/gpu=(\d+)(?:,|$)/.exec(tres);
  return m ? Number(m[1]) : 0;
}

export interface SlurmPoll {
  /** squeue's answer by job id; null when squeue failed (judge nothing). */
  squeue: Map<string, SlurmJobView> | null;
  /** sacct's answer by job id; null when sacct is unusable (no slurmdbd) or was not asked. */
  sacct: Map<string, SlurmJobView> | null;
  sacctError: string | null;
  /** This user's pending jobs: place among the partition's pending jobs by priority (1 = next). */
  positions: Map<string, { position: number; pending: number; partition: string }>;
  probe: ProbeReport;
}

/** One ssh call: squeue, sacct for `jobs`' Slurm ids, and a look at their job dirs. */
export async function pollSlurm(ctx: DispatchContext, hostName: string, jobs: readonly Job[]): Promise<SlurmPoll> {
  const scripts = await ctx.hosts.scriptsDir(hostName);
  const ids = jobs.flatMap((j) => (j.schedulerJobId ? [j.schedulerJobId] : []));
  const r = await ctx.hosts.connection(hostName).exec(['bash', `${scripts}/slurm.sh`, 'poll', ...ids, '--', ...jobs.map((j) => j.jobDir)], { timeoutMs: 60_000, what: 'polling Slurm' });
  return parseSlurmPoll(r.stdout, ids.length > 0);
}

/** slurm.sh poll's answer. */
export function parseSlurmPoll(stdout: string, askedSacct: boolean): SlurmPoll {
  const { markers } = readMarkers(stdout);
  const squeueOk = markers.find((m) => m.key === 'SQUEUE')?.rest === 'ok';
  const sacctLine = markers.find((m) => m.key === 'SACCT')?.rest;
  const squeue = new Map<string, SlurmJobView>();
  const sacct = new Map<string, SlurmJobView>();
  const positions: SlurmPoll['positions'] = new Map();
  for (const m of markers) {
    if (m.key === 'POS') {
      const [id = '', position = '', pending = '', partition = ''] = m.rest.split('|');
      if (/^\d+$/.test(position) && /^\d+$/.test(pending)) positions.set(id, { position: Number(position), pending: Number(pending), partition });
    }
    if (m.key === 'SQ') {
      const [id = '', state = '', reason = ''] = m.rest.split('|');
      squeue.set(id, { state, reason: reason === '' || reason === 'None' ? null : reason, exitCode: null });
    } else if (m.key === 'SA') {
      const [id = '', state = '', exit = '', elapsed = '', tres = ''] = m.rest.split('|');
      const e = /^(\d+):(\d+)$/.exec(exit);
      sacct.set(id, { state, reason: null, exitCode: e ? { code: Number(e[1]), signal: Number(e[2]) } : null, ...(/^\d+$/.test(elapsed) ? { accounted: { seconds: Number(elapsed), gpus: tresGpus(tres) } } : {}) });
    }
  }
  return {
    squeue: squeueOk ? squeue : null,
    sacct: askedSacct && sacctLine === 'ok' ? sacct : null,
    sacctError: sacctLine !== undefined && sacctLine !== 'ok' ? sacctLine.replace(/^no ?/, '') : null,
    positions,
    probe: parseProbeOutput(stdout),
  };
}

/** A state is final by its prefix (after a slurmctld restart a record may read `CANCELLED by 0`). */
const FINAL = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'BOOT_FAIL', 'DEADLINE', 'REVOKED'];

export function isFinalSlurmState(state: string): boolean {
  return FINAL.some((f) => state.startsWith(f));
}

/**
 * What Slurm says of job `id`: a final state from either source wins (sacct's, with its exit
 * code, before squeue's); else squeue's live state; else sacct's; null when neither knows it
 * (a job new to sacct reads empty for a few seconds: "not known yet", never "gone").
 */
export function slurmViewOf(poll: SlurmPoll, id: string): SlurmJobView | null {
  const live = poll.squeue?.get(id) ?? null;
  const acct = poll.sacct?.get(id) ?? null;
  if (acct && isFinalSlurmState(acct.state)) return acct;
  if (live && isFinalSlurmState(live.state)) return live;
  return live ?? acct;
}

// ---------------------------------------------------------------- cancel

export type SlurmCancelOutcome = { outcome: 'scancel'; id: string } | { outcome: 'never-started' };

/** `slurm.sh cancel`: marks the job dir (never submitted after this) and scancels the job. Throws when scancel failed. */
export async function cancelOnSlurm(ctx: DispatchContext, hostName: string, job: Job): Promise<SlurmCancelOutcome> {
  const scripts = await ctx.hosts.scriptsDir(hostName);
  const args = ['bash', `${scripts}/slurm.sh`, 'cancel', job.jobDir, slurmJobName(job.runId, job.attempt), ...(job.schedulerJobId ? [job.schedulerJobId] : [])];
  const r = await ctx.hosts.connection(hostName).exec(args, { timeoutMs: 90_000, what: 'scancel' });
  return readCancelAnswer(r.stdout, hostName);
}

function readCancelAnswer(stdout: string, hostName: string): SlurmCancelOutcome {
  const { markers, complete } = readMarkers(stdout);
  const line = markers.find((m) => m.key === 'CANCEL')?.rest;
  if (!complete || line === undefined) throw new Error(`slurm.sh cancel on ${hostName} gave no complete answer; it is sent again`);
  const [word = '', ...rest] = line.split(' ');
  if (word === 'scancel') return { outcome: 'scancel', id: rest.join(' ') };
  if (word === 'never-started') return { outcome: 'never-started' };
  throw new Error(`cancel on ${hostName}: ${rest.join(' ') || line}`);
}

/**
 * The reconciler: one loop per host with active jobs, each on its own timer, so a slow or
 * dead host delays only its own runs. Each turn, one probe call reads all of the host's job
 * state files (on a Slurm host, the same call runs one squeue and one sacct too); each job is
 * then reconciled from them (reconcile-job.ts, reconcile-slurm.ts), with anything long
 * in background tasks. A failed SSH call marks the host's runs unreachable and judges
 * nothing; a probe that outran its time-out marks them timed out, also judging nothing.
 */
import type { Job } from '../store/jobs.ts';
import type { HostRecord } from './hosts.ts';
import { parseProbeOutput, type ProbedJob } from './remote/markers.ts';
import { GpuIdleWatch } from './alerts.ts';
import { settleUnreachable } from './settle.ts';
import { reconcileJob, type ReconcileJobDeps } from './reconcile-job.ts';
import { reconcileSlurmJob, SlurmMemo } from './reconcile-slurm.ts';
import { pollSlurm, type SlurmPoll } from './slurm.ts';
import { isTimedOut, isUnreachable } from './transport/connection.ts';

export interface ReconcilerOptions {
  pollMs: number;
}

class HostLoop {
  private readonly hostId: string;
  private readonly deps: ReconcileJobDeps;
  private readonly opts: ReconcilerOptions;
  private readonly gpuIdle: GpuIdleWatch;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private wasUnreachable = true; // the first turn after start syncs every job's outputs at once
  private readonly slurmMemo = new SlurmMemo();
  readonly done: () => void;

  constructor(hostId: string, deps: ReconcileJobDeps, opts: ReconcilerOptions, gpuIdle: GpuIdleWatch, done: () => void) {
    this.hostId = hostId;
    this.deps = deps;
    this.opts = opts;
    this.gpuIdle = gpuIdle;
    this.done = done;
  }

  /** Runs a turn now (or right after the one in progress). */
  wake(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running ??= this.turn().finally(() => {
      this.running = null;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => this.wake(), this.opts.pollMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private async turn(): Promise<void> {
    const { ctx } = this.deps;
    try {
      const host = ctx.store.hosts.byId(this.hostId);
      const jobs = ctx.store.jobs.active(this.hostId).filter((j) => j.state !== 'preparing');
      if (!host || jobs.length === 0) {
        this.stopped = true;
        this.done();
        return;
      }
      if (host.backend === 'slurm') {
        await this.slurmTurn(host, jobs);
        return;
      }
      const probed = await this.probe(host, jobs);
      if (!probed) return;
      for (const job of jobs) {
        const p = probed.find((x) => x.jobDir === job.jobDir);
        if (!p) continue;
        try {
          reconcileJob(this.deps, host, job, p);
        } catch (err) {
          ctx.log.error('reconcile failed', { run: job.runId, error: (err as Error).stack });
        }
      }
      void this.sampleGpus(host, jobs);
    } catch (err) {
      ctx.log.error('reconcile turn failed', { host: this.hostId, error: (err as Error).stack });
    }
  }

  /** A Slurm host: one ssh call (squeue, sacct, probe.sh), then each job from it (reconcile-slurm.ts). */
  private async slurmTurn(host: HostRecord, jobs: Job[]): Promise<void> {
    const { ctx } = this.deps;
    let poll: SlurmPoll;
    try {
      poll = await pollSlurm(ctx, host.name, jobs);
    } catch (err) {
      this.failedCall(host, jobs, err);
      return;
    }
    if (!poll.probe.complete) return; // cut short: unknown, ask again
    this.answered(host, jobs);
    for (const job of jobs) {
      const p = poll.probe.jobs.find((x) => x.jobDir === job.jobDir);
      if (!p) continue;
      try {
        reconcileSlurmJob(this.deps, host, job, p, poll, this.slurmMemo);
      } catch (err) {
        ctx.log.error('reconcile failed', { run: job.runId, error: (err as Error).stack });
      }
    }
  }

  /** The host answered: reachable again, and after an outage every job's outputs are synced at once. */
  private answered(host: HostRecord, jobs: Job[]): void {
    if (host.reachable === false) this.deps.ctx.store.hosts.setReachable(host.name, true);
    if (this.wasUnreachable) for (const job of jobs) this.deps.outputs.syncSoon(job.id);
    this.wasUnreachable = false;
  }

  /** A failed call judges nothing: unreachable marks the host's runs, timed out marks them timed out. */
  private failedCall(host: HostRecord, jobs: Job[], err: unknown): void {
    const { ctx } = this.deps;
    if (isUnreachable(err)) {
      this.wasUnreachable = true;
      settleUnreachable(this.deps, host, jobs, (err as Error).message);
      return;
    }
    if (isTimedOut(err)) {
      for (const job of jobs) ctx.lifecycle.setTimedOut(job.runId, Date.now());
      ctx.log.warn('probe timed out', { host: host.name, error: (err as Error).message });
      return;
    }
    throw err;
  }

  /** probe.sh for every job of the host; null when it could not answer (unreachable, timed out, cut short). */
  private async probe(host: HostRecord, jobs: Job[]): Promise<ProbedJob[] | null> {
    const { ctx } = this.deps;
    try {
      const scripts = await ctx.hosts.scriptsDir(host.name);
      const r = await ctx.hosts.connection(host.name).exec(['bash', `${scripts}/probe.sh`, ...jobs.map((j) => j.jobDir)], { timeoutMs: 60_000, what: 'probing its jobs' });
      const report = parseProbeOutput(r.stdout);
      if (!report.complete) return null; // cut short: unknown, ask again
      this.answered(host, jobs);
      return report.jobs;
    } catch (err) {
      this.failedCall(host, jobs, err);
      return null;
    }
  }

  /** nvidia-smi utilization on hosts running GPU jobs, for the "GPU idle" alert. */
  private async sampleGpus(host: HostRecord, jobs: Job[]): Promise<void> {
    const { ctx } = this.deps;
    if (!jobs.some((j) => j.state === 'running' && j.gpuIds.length > 0) || !this.gpuIdle.due(host.name)) return;
    const r = await ctx.hosts.connection(host.name).exec(['nvidia-smi', '--query-gpu=index,uuid,utilization.gpu', '--format=csv,noheader,nounits'], { timeoutMs: 30_000, what: 'nvidia-smi' }).catch(() => null);
    if (!r || r.code !== 0) return;
    const util = new Map<string, number>();
    for (const line of r.stdout.split('\n')) {
      const fields = line.split(',').map((x) => x.trim());
      const [idx, uuid] = fields;
      const pct = Number(fields.at(-1)) || 0;
      if (idx && /^\d+$/.test(idx) && fields.length >= 3) {
        util.set(idx, pct);
        if (uuid) util.set(uuid, pct);
      }
    }
    this.gpuIdle.record({ store: ctx.store, lifecycle: ctx.lifecycle, lastLogGrowth: this.deps.logs.lastGrowth }, host.name, jobs, util);
  }
}

export class Reconciler {
  private readonly deps: ReconcileJobDeps;
  private readonly opts: ReconcilerOptions;
  private readonly loops = new Map<string, HostLoop>();
  private readonly gpuIdle = new GpuIdleWatch();
  private closed = false;

  constructor(deps: ReconcileJobDeps, opts: ReconcilerOptions) {
    this.deps = deps;
    this.opts = opts;
  }

  /** Starts a loop for every host with an active job (past preparing) that has none. */
  ensure(): void {
    if (this.closed) return;
    const hostIds = new Set(this.deps.ctx.store.jobs.active().filter((j) => j.state !== 'preparing').flatMap((j) => (j.hostId ? [j.hostId] : [])));
    for (const hostId of hostIds) {
      if (this.loops.has(hostId)) continue;
      const loop = new HostLoop(hostId, this.deps, this.opts, this.gpuIdle, () => {
        if (this.loops.get(hostId) === loop) this.loops.delete(hostId);
      });
      this.loops.set(hostId, loop);
      loop.wake();
    }
  }

  /** Brings the next turn of every loop forward (a job just started). */
  wake(): void {
    this.ensure();
    for (const loop of this.loops.values()) loop.wake();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.loops.values()].map((l) => l.stop()));
    await this.deps.outputs.idle();
    await Promise.allSettled([...this.deps.background.values()]);
  }
}

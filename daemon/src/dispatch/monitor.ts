/**
 * The reconciler. Each tick, per host with active jobs: one probe call reads every job's
 * state files; outputs are synced back and ingested; logs are followed; a job ends only
 * when its host says so (exit_code present → drain, then the final status). A failed SSH
 * call marks the host's runs unreachable and judges nothing.
 */
import { join } from 'node:path';
import { isTerminal, type Run } from '../protocol/index.ts';
import type { Job } from '../store/jobs.ts';
import type { ProbedJob } from './remote/markers.ts';
import { parseCancelOutput, parseProbeOutput } from './remote/markers.ts';
import { registerRemoteCheckpoints } from './artifacts.ts';
import type { Dispatcher } from './dispatcher.ts';
import type { HostRecord } from './hosts.ts';
import { checkAlerts, GpuIdleWatch } from './alerts.ts';
import { readProjectFileAsync } from '../projects/record-project.ts';
import { ensurePrivateDir } from '../home/paths.ts';
import { IngestStoppedError } from '../track/ingest/ingest-stopped.ts';

/** Exit code run.sh uses when a GPU was leased to another job: nothing ran, requeue. */
const EXIT_GPU_BUSY = 75;
/** Files never pulled back from a host: weights and optimizer state stay where they were written. */
const HEAVY = ['*.safetensors', '*.bin', '*.pt', '*.pth', '*.gguf', '*.ckpt', '*.h5', '*.msgpack', '*.onnx', '*.distcp'];

export class Monitor {
  private readonly d: Dispatcher;
  private readonly opts: { pollMs: number; unreachableGraceMs: number };
  readonly cancelRequested = new Set<string>();
  private running: Promise<void> | null = null;
  private readonly lastSync = new Map<string, number>();
  private readonly gpuIdle = new GpuIdleWatch();

  constructor(d: Dispatcher, opts: { pollMs: number; unreachableGraceMs: number }) {
    this.d = d;
    this.opts = opts;
  }

  /** Poll fast while jobs are active, slowly otherwise. */
  interval(): number {
    return this.d.store.jobs.active().length > 0 || this.d.store.runs.queue().length > 0 ? this.opts.pollMs : Math.max(this.opts.pollMs, 10_000);
  }

  tick(): Promise<void> {
    this.running ??= this.tickNow().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Waits for a tick in progress; its failure was already reported by the tick's caller. */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private async tickNow(): Promise<void> {
    const byHost = new Map<string, Job[]>();
    for (const job of this.d.store.jobs.active()) {
      if (job.state === 'preparing') continue; // its attempt is being set up right now
      const list = byHost.get(job.hostId ?? '') ?? [];
      list.push(job);
      byHost.set(job.hostId ?? '', list);
    }
    await Promise.all([...byHost].map(async ([hostId, jobs]) => {
      const host = this.d.store.hosts.byId(hostId);
      if (host) await this.reconcileHost(host, jobs);
    }));
  }

  private async reconcileHost(host: HostRecord, jobs: Job[]): Promise<void> {
    const conn = this.d.hosts.connection(host.name);
    let probed: ProbedJob[];
    try {
      const scripts = await this.d.hosts.scriptsDir(host.name);
      const r = await conn.exec(['bash', `${scripts}/probe.sh`, ...jobs.map((j) => j.jobDir)], { timeoutMs: 60_000 });
      const report = parseProbeOutput(r.stdout);
      if (!report.complete) return; // cut short: unknown, ask again
      probed = report.jobs;
    } catch (err) {
      if ((err as { code?: string }).code === 'E_HOST_UNREACHABLE') return this.unreachable(host, jobs, (err as Error).message);
      throw err;
    }
    if (host.reachable === false) this.d.store.hosts.setReachable(host.name, true);
    await this.sampleGpus(host, jobs);
    for (const job of jobs) {
      const p = probed.find((x) => x.jobDir === job.jobDir);
      if (!p) continue;
      try {
        await this.reconcileJob(host, job, p);
      } catch (err) {
        if ((err as { code?: string }).code === 'E_HOST_UNREACHABLE') return this.unreachable(host, jobs, (err as Error).message);
        this.d.log.error('reconcile failed', { run: job.runId, error: (err as Error).stack });
      }
    }
  }

  /** nvidia-smi utilization on hosts running GPU jobs, for the "GPU idle" alert. */
  private async sampleGpus(host: HostRecord, jobs: Job[]): Promise<void> {
    if (!jobs.some((j) => j.state === 'running' && j.gpuIds.length > 0) || !this.gpuIdle.due(host.name)) return;
    const r = await this.d.hosts.connection(host.name).exec(['nvidia-smi', '--query-gpu=index,utilization.gpu', '--format=csv,noheader,nounits'], { timeoutMs: 30_000 }).catch(() => null);
    if (!r || r.code !== 0) return;
    const util = new Map<string, number>();
    for (const line of r.stdout.split('\n')) {
      const fields = line.split(',').map((x) => x.trim());
      const idx = fields[0];
      const pct = fields.at(-1);
      if (idx && pct && fields.length >= 2 && /^\d+$/.test(idx)) util.set(idx, Number(pct) || 0);
    }
    this.gpuIdle.record(this.d, host.name, jobs, util);
  }

  private unreachable(host: HostRecord, jobs: Job[], why: string): void {
    this.d.store.hosts.setReachable(host.name, false);
    const now = Date.now();
    for (const job of jobs) {
      const run = this.d.store.runs.get(job.runId);
      if (!run || isTerminal(run.status)) continue;
      if (run.unreachableSince === null) {
        this.d.store.runs.setUnreachable(run.id, now);
        this.d.log.warn('host unreachable', { host: host.name, run: run.id, error: why });
        this.d.publish('runs', { runId: run.id, status: run.status, unreachableSince: now, statusReason: `host ${host.name} unreachable` }, run.id);
        this.d.alert(run.id, 'host_unreachable', 'warning', `host ${host.name} is unreachable (${why}); the run is left alone and watched`);
      } else if (now - run.unreachableSince > this.opts.unreachableGraceMs && this.retriesLeft(run) > 0) {
        this.d.store.jobs.update(job.id, { state: 'abandoned', ended: true });
        this.d.logs.stop(job.id);
        this.d.setStatus(run.id, 'queued', { reason: `retrying: host ${host.name} unreachable for ${Math.round((now - run.unreachableSince) / 60_000)} min` });
      }
    }
  }

  private retriesLeft(run: Run): number {
    const attempts = this.d.store.jobs.byRun(run.id).filter((j) => j.state === 'lost' || j.state === 'abandoned').length;
    return this.d.store.runs.maxRetries(run.id) - attempts;
  }

  private async reconcileJob(host: HostRecord, job: Job, p: ProbedJob): Promise<void> {
    const run = this.d.store.runs.get(job.runId);
    if (!run) return;
    if (run.unreachableSince !== null) {
      this.d.store.runs.setUnreachable(run.id, null);
      this.d.publish('runs', { runId: run.id, status: run.status, unreachableSince: null, statusReason: run.statusReason }, run.id);
    }
    const s = p.state;
    if (s.state === 'running' || s.state === 'started') {
      if (run.status === 'starting') this.d.setStatus(run.id, 'running');
      this.d.store.jobs.update(job.id, { state: 'running', pid: s.pid, lastHeartbeat: p.heartbeatAgeSeconds === null ? null : Date.now() - p.heartbeatAgeSeconds * 1000 });
      this.d.logs.follow(job, this.d.hosts.connection(host.name));
      await this.syncOutputs(host, run, job, false);
      checkAlerts(this.d, run, job, p);
      return;
    }
    if (s.state === 'finished') return this.finish(host, run, job, s.exitCode, p);
    if (s.state === 'lost' || s.state === 'missing') return this.lost(host, run, job, s.state === 'lost' ? s.reason : 'its job directory is gone');
    // starting / new: the wrapper has not written its pid yet; the next tick looks again.
  }

  /** Pulls (ssh) or reads (local) the job's outputs and ingests them; throttled while running. */
  private async syncOutputs(host: HostRecord, run: Run, job: Job, final: boolean): Promise<void> {
    const every = host.backend === 'local' ? 0 : 5_000;
    const last = this.lastSync.get(job.id) ?? 0;
    if (!final && Date.now() - last < every) return;
    this.lastSync.set(job.id, Date.now());
    const outputs = `${job.jobDir}/outputs`;
    if (host.backend === 'local') {
      ensurePrivateDir(outputs);
      await this.d.tracker.ingestRun(run.projectId, outputs, 'launch', { runId: run.id });
      return;
    }
    const mirror = join(this.d.ctx.keelHome, 'mirror', run.id, String(job.attempt));
    ensurePrivateDir(mirror);
    const conn = this.d.hosts.connection(host.name);
    await conn.pull(`${outputs}/`, join(mirror, 'outputs'), { excludes: HEAVY, partial: false });
    const report = await this.d.tracker.ingestRun(run.projectId, join(mirror, 'outputs'), 'launch', { runId: run.id, checkpoints: false });
    const finalStep = this.d.store.metrics.series(run.id).reduce<number | null>((m, x) => (x.lastStep !== null && (m === null || x.lastStep > m) ? x.lastStep : m), null);
    const added = await registerRemoteCheckpoints(this.d.store, conn, { id: run.id, hostId: host.id }, job.jobDir, finalStep, final);
    if (added.length > 0 || report.points > 0) this.d.log.debug('synced', { run: run.id, points: report.points, checkpoints: added.length });
  }

  private async finish(host: HostRecord, run: Run, job: Job, exitCode: number, p: ProbedJob): Promise<void> {
    // Drain: outputs and the log to the end, then the final status.
    try {
      await this.syncOutputs(host, run, job, true);
    } catch (err) {
      // The store could not take the outputs (disk full…): settling now would record a run
      // with points missing. The job stays unsettled and the next tick drains it again.
      if (err instanceof IngestStoppedError) this.d.log.error('final ingest stopped; the run is left unsettled', { run: run.id, error: err.message });
      throw err;
    }
    await this.drainLog(host, job, p.logBytes);
    this.d.store.jobs.update(job.id, { state: 'finished', exitCode, ended: true });
    if (exitCode === EXIT_GPU_BUSY && !this.cancelRequested.has(run.id)) {
      this.d.setStatus(run.id, 'queued', { reason: `a GPU was in use by another job on ${host.name}: requeued` });
      return;
    }
    if (this.cancelRequested.has(run.id)) {
      this.cancelRequested.delete(run.id);
      this.d.setStatus(run.id, 'cancelled', { exitCode, reason: 'cancelled' });
      return;
    }
    if (exitCode === 0) {
      this.d.setStatus(run.id, 'succeeded', { exitCode: 0 });
      await this.afterSuccess(host, run);
    } else {
      this.d.setStatus(run.id, 'failed', { exitCode, reason: p.error ?? `exit code ${exitCode}` });
    }
  }

  private async drainLog(host: HostRecord, job: Job, remoteBytes: number): Promise<void> {
    this.d.logs.follow(job, this.d.hosts.connection(host.name));
    const deadline = Date.now() + 10_000;
    while (this.d.logs.offset(job) < remoteBytes && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    this.d.logs.stop(job.id);
  }

  private lost(host: HostRecord, run: Run, job: Job, reason: string): void {
    const canRetry = this.retriesLeft(run) > 0; // counted before this attempt is marked lost
    this.d.store.jobs.update(job.id, { state: 'lost', ended: true });
    this.d.logs.stop(job.id);
    if (this.cancelRequested.has(run.id)) {
      this.cancelRequested.delete(run.id);
      this.d.setStatus(run.id, 'cancelled', { reason: `cancelled (${reason})` });
      return;
    }
    if (canRetry) {
      this.d.log.warn('attempt lost; retrying', { run: run.id, attempt: job.attempt, reason });
      this.d.setStatus(run.id, 'queued', { reason: `attempt ${job.attempt} lost on ${host.name} (${reason}); retrying` });
      return;
    }
    this.d.setStatus(run.id, 'lost', { reason: `${reason} (host ${host.name})` });
  }

  /** Eval after train: the best (else the last) checkpoint gets the project's eval command. */
  private async afterSuccess(host: HostRecord, run: Run): Promise<void> {
    const spec = this.d.ctx.launchSpec(run.id);
    if (spec.kind !== 'train') return;
    // keel.yaml is re-read: an eval command added after the launch still counts.
    if (!(await readProjectFileAsync(spec.projectRoot)).project?.eval?.command) return;
    const best = this.d.store.checkpoints.bestOrLatest(run.id);
    if (!best) return;
    this.d.launchEval(run, best, spec, host.name);
  }

  async cancelJob(hostName: string, job: Job): Promise<void> {
    const scripts = await this.d.hosts.scriptsDir(hostName);
    const r = await this.d.hosts.connection(hostName).exec(['bash', `${scripts}/cancel.sh`, job.jobDir], { timeoutMs: 60_000 });
    const outcome = parseCancelOutput(r.stdout);
    this.d.log.info('cancel requested', { run: job.runId, outcome: outcome.outcome });
    if (outcome.outcome === 'never-started' || outcome.outcome === 'missing') {
      this.d.store.jobs.update(job.id, { state: 'abandoned', ended: true });
      this.d.setStatus(job.runId, 'cancelled', { reason: 'cancelled before it started' });
      this.cancelRequested.delete(job.runId);
    }
  }
}

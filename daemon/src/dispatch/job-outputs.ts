/**
 * A running job's outputs, synced back and ingested by background tasks of their own — one
 * per job at a time, each step with its own time-out — so a slow pull or a 100 GB checkpoint
 * hash holds up nothing but that job: not the host's probe, not cancel, not other runs. A
 * step past its time-out marks the run "timed out" (the host answers; the step was slow) and
 * is tried again at the next look. When the job has ended, one last sync must complete
 * (outputs, every checkpoint, the log to its end) before the run is settled.
 */
import { join } from 'node:path';
import type { Run } from '../protocol/index.ts';
import type { Job } from '../store/jobs.ts';
import type { Tracker } from '../track/tracker.ts';
import { IngestStoppedError } from '../track/ingest/ingest-stopped.ts';
import { ensurePrivateDir } from '../home/paths.ts';
import type { DispatchContext } from './context.ts';
import type { HostRecord } from './hosts.ts';
import type { LogFollower } from './logs.ts';
import { registerRemoteCheckpoints } from './artifacts.ts';
import { isTimedOut, isUnreachable } from './transport/connection.ts';

/** Files never pulled back from a host: weights and optimizer state stay where they were written. */
const HEAVY = ['*.safetensors', '*.bin', '*.pt', '*.pth', '*.gguf', '*.ckpt', '*.h5', '*.msgpack', '*.onnx', '*.distcp'];

export interface JobOutputsDeps {
  ctx: DispatchContext;
  tracker: Pick<Tracker, 'ingestRun'>;
  logs: LogFollower;
}

export class JobOutputs {
  private readonly deps: JobOutputsDeps;
  private readonly tasks = new Map<string, Promise<void>>();
  private readonly lastSync = new Map<string, number>();
  private readonly finishing = new Set<string>();

  constructor(deps: JobOutputsDeps) {
    this.deps = deps;
  }

  /** The next sync of this job's outputs happens at the next look, unthrottled (a host came back, the daemon started). */
  syncSoon(jobId: string): void {
    this.lastSync.delete(jobId);
  }

  /** Starts a sync of a running job's outputs, unless one is in flight or the last was moments ago. */
  kick(host: HostRecord, run: Run, job: Job): void {
    const every = host.backend === 'local' ? 0 : 5_000;
    if (this.tasks.has(job.id) || this.finishing.has(job.id) || Date.now() - (this.lastSync.get(job.id) ?? 0) < every) return;
    this.lastSync.set(job.id, Date.now());
    this.track(job.id, this.sync(host, run, job, false).catch((err: unknown) => this.failed(host, run, job, err)));
  }

  /**
   * The job ended: after any sync in flight, one last complete sync and the log drained to
   * `logBytes`, then `settle`. Once per job; a failure leaves the job for the next look.
   */
  finish(host: HostRecord, run: Run, job: Job, logBytes: number, settle: () => Promise<void>): void {
    if (this.finishing.has(job.id)) return;
    this.finishing.add(job.id);
    const before = this.tasks.get(job.id) ?? Promise.resolve();
    const task = before.catch(() => undefined).then(async () => {
      await this.sync(host, run, job, true);
      await this.drainLog(host, job, logBytes);
      await settle();
    }).catch((err: unknown) => {
      // The store could not take the outputs (disk full…): settling now would record a run
      // with points missing. The job stays unsettled and the next turn drains it again.
      if (err instanceof IngestStoppedError) this.deps.ctx.log.error('final ingest stopped; the run is left unsettled', { run: run.id, error: err.message });
      this.failed(host, run, job, err);
    }).finally(() => this.finishing.delete(job.id));
    this.track(job.id, task);
  }

  /** Waits for every task in flight (shutdown). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.tasks.values()]);
  }

  private track(jobId: string, task: Promise<void>): void {
    this.tasks.set(jobId, task);
    void task.finally(() => {
      if (this.tasks.get(jobId) === task) this.tasks.delete(jobId);
    });
  }

  private failed(host: HostRecord, run: Run, job: Job, err: unknown): void {
    const message = (err as Error).message;
    if (isTimedOut(err)) {
      this.deps.ctx.lifecycle.setTimedOut(run.id, Date.now());
      this.deps.ctx.log.warn('output sync timed out', { run: run.id, host: host.name, error: message });
    } else if (isUnreachable(err)) {
      this.deps.ctx.log.info('output sync stopped: host unreachable', { run: run.id, host: host.name });
    } else {
      this.deps.ctx.log.error('output sync failed; it is tried again', { run: run.id, attempt: job.attempt, error: (err as Error).stack ?? message });
    }
    this.syncSoon(job.id);
  }

  /** Pulls (ssh) or reads (local) the job's outputs, ingests them, and registers its checkpoints. */
  private async sync(host: HostRecord, run: Run, job: Job, final: boolean): Promise<void> {
    const { ctx, tracker } = this.deps;
    const outputs = `${job.jobDir}/outputs`;
    if (host.backend === 'local') {
      ensurePrivateDir(outputs);
      await tracker.ingestRun(run.projectId, outputs, 'launch', { runId: run.id });
    } else {
      const mirror = join(ctx.keelHome, 'mirror', run.id, String(job.attempt));
      ensurePrivateDir(mirror);
      await ctx.hosts.connection(host.name).pull(`${outputs}/`, join(mirror, 'outputs'), { excludes: HEAVY, partial: false, timeoutMs: ctx.timeouts.outputSyncMs });
      const report = await tracker.ingestRun(run.projectId, join(mirror, 'outputs'), 'launch', { runId: run.id, checkpoints: false });
      const finalStep = ctx.store.metrics.series(run.id).reduce<number | null>((m, x) => (x.lastStep !== null && (m === null || x.lastStep > m) ? x.lastStep : m), null);
      const added = await registerRemoteCheckpoints(ctx, host.name, { id: run.id, hostId: host.id }, job.jobDir, finalStep, final);
      if (added.length > 0 || report.points > 0) ctx.log.debug('synced', { run: run.id, points: report.points, checkpoints: added.length });
    }
    const now = ctx.store.runs.get(run.id);
    if ((now?.timedOutSince ?? null) !== null) ctx.lifecycle.setTimedOut(run.id, null);
  }

  private async drainLog(host: HostRecord, job: Job, remoteBytes: number): Promise<void> {
    const { logs, ctx } = this.deps;
    logs.follow(job, ctx.hosts.connection(host.name));
    const deadline = Date.now() + 10_000;
    while (logs.offset(job) < remoteBytes && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    logs.stop(job.id);
  }
}

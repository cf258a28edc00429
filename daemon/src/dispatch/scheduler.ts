/**
 * Placement: the pump serves queued runs (FIFO within priority), places each on a host with
 * free GPUs, records the attempt (a job row, `preparing`) and starts it in the background.
 * The pump never waits on a host: hosts are checked in the background (a run waits, with
 * the reason, until its host has answered), GPU leases are read in the background and
 * only when a placement needs them, and a run held back (a GPU found taken, a step timed
 * out) is not looked at again before its back-off runs out. So one slow or dead host never
 * holds up placement on the others, and nothing here can spin.
 */
import { isTerminal, type Run } from '../protocol/index.ts';
import type { Job } from '../store/jobs.ts';
import type { DispatchContext } from './context.ts';
import type { HostRecord } from './hosts.ts';
import { launchSpecOf, type LaunchSpec } from './launch-request.ts';
import { place } from './placement.ts';
import { backoffMs, GpuLeases } from './leases.ts';
import { AttemptStopped, startAttempt } from './attempt.ts';
import { RetryableError } from './caches.ts';
import { sendCancel } from './cancel.ts';
import { isTimedOut, isUnreachable } from './transport/connection.ts';

export interface SchedulerOptions {
  pollMs: number;
  /** Jobs whose attempt this daemon is running now (the reconciler leaves their start alone). */
  attempts: Set<string>;
  /** An attempt finished starting (or failed): the reconciler should look soon. */
  wake(): void;
}

export class Scheduler {
  private readonly ctx: DispatchContext;
  private readonly opts: SchedulerOptions;
  readonly leases: GpuLeases;
  private pumping: Promise<void> | null = null;
  private pumpAgain = false;
  private closed = false;
  private readonly checking = new Map<string, Promise<void>>();

  constructor(ctx: DispatchContext, opts: SchedulerOptions) {
    this.ctx = ctx;
    this.opts = opts;
    this.leases = new GpuLeases(ctx, () => void this.pump());
  }

  /** Places queued runs and starts their attempts. Serialized; never rejects (callers fire and forget it). */
  pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return this.pumping;
    }
    this.pumping = (async () => {
      do {
        this.pumpAgain = false;
        try {
          await this.pumpOnce();
        } catch (err) {
          this.ctx.log.error('dispatch pump failed', { error: (err as Error).stack ?? String(err) });
        }
      } while (this.pumpAgain && !this.closed);
    })().finally(() => {
      this.pumping = null;
    });
    return this.pumping;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pumping;
    await Promise.allSettled([...this.checking.values()]);
  }

  private async pumpOnce(): Promise<void> {
    await Promise.resolve(); // a pump is always asynchronous: callers chain on it
    for (const run of this.ctx.store.runs.queue()) {
      if (this.closed) return;
      const { notBefore } = this.ctx.store.runs.backoff(run.id);
      if (notBefore !== null && notBefore > Date.now()) continue;
      try {
        this.placeRun(run, launchSpecOf(this.ctx.store, run.id));
      } catch (err) {
        this.ctx.log.error('cannot place run', { run: run.id, error: (err as Error).stack ?? String(err) });
        this.ctx.lifecycle.setStatus(run.id, 'failed', { reason: `Keel could not place this run: ${(err as Error).message}` });
      }
    }
  }

  /** Hosts ready for placement (checked, answering, work dir known); starts checks of the others in the background. */
  private readyHosts(spec: LaunchSpec): { ready: HostRecord[]; waiting: string | null } {
    const ready: HostRecord[] = [];
    let waiting: string | null = null;
    for (const h of this.ctx.hosts.list()) {
      if (spec.host !== null && h.name !== spec.host) continue;
      const recheck = h.reachable === false && Date.now() - (h.checkedAt ?? 0) > Math.min(60_000, 30 * this.opts.pollMs);
      if (h.checkedAt === null || recheck || (h.reachable !== false && this.ctx.hosts.knownWorkdir(h.name) === undefined)) {
        this.checkInBackground(h.name);
        if (h.reachable !== false) {
          waiting ??= `checking host ${h.name}`;
          continue;
        }
      }
      ready.push(h);
    }
    return { ready, waiting };
  }

  private checkInBackground(name: string): void {
    if (this.checking.has(name)) return;
    const p = this.ctx.hosts.check(name)
      .then((r) => {
        if (r.error === null) this.ctx.log.debug('host checked', { host: name });
      })
      .finally(() => {
        this.checking.delete(name);
        if (!this.closed) void this.pump();
      });
    this.checking.set(name, p);
  }

  private placeRun(run: Run, spec: LaunchSpec): void {
    if (!spec.frozen) throw new Error('it was queued by an older Keel and has no frozen launch spec; launch it again');
    const { ready, waiting } = this.readyHosts(spec);
    const where = place(this.ctx.store, ready, { host: spec.host, gpus: spec.gpus }, (h) => this.leases.heldOn(h));
    if ('wait' in where) {
      this.ctx.lifecycle.setReason(run.id, waiting ?? where.wait);
      this.reportHeld(run, ready);
      return;
    }
    if (spec.gpus > 0 && where.host.backend !== 'slurm' && !this.leases.isFresh(where.host, Math.max(1000, this.opts.pollMs))) {
      this.ctx.lifecycle.setReason(run.id, `looking at the GPU locks on ${where.host.name}`);
      this.leases.refresh(where.host);
      return;
    }
    const job = this.newAttempt(run, where.host, where.gpuIds);
    this.opts.attempts.add(job.id);
    void startAttempt(this.ctx, run, job, where.host.name)
      .catch((err: unknown) => this.attemptFailed(run, job, where.host.name, err as Error))
      .catch((err: unknown) => this.ctx.log.error('could not record a failed start', { run: run.id, error: String(err) }))
      .finally(() => {
        this.opts.attempts.delete(job.id);
        this.opts.wake();
      });
  }

  /** One clear event per run when the GPUs it waits for are held outside Keel's jobs. */
  private reportHeld(run: Run, hosts: HostRecord[]): void {
    for (const host of hosts) {
      for (const id of this.leases.heldOn(host)) {
        const what = this.leases.describe(host, id);
        if (what) this.ctx.lifecycle.alert(run.id, 'gpu_busy', 'warning', `${what}; Keel places nothing on it and looks again with back-off`);
      }
    }
  }

  private newAttempt(run: Run, host: HostRecord, gpuIds: string[]): Job {
    const workdir = this.ctx.hosts.knownWorkdir(host.name) ?? host.workdir;
    const job = this.ctx.store.jobs.create({ runId: run.id, backend: host.backend, hostId: host.id, gpuIds, jobDirFor: (attempt) => `${workdir}/jobs/${run.id}/${attempt}` });
    this.ctx.store.runs.setHost(run.id, host.id);
    return job;
  }

  /** An attempt that did not get its job started: stop, requeue (with back-off), or fail — never a second copy. */
  private attemptFailed(run: Run, job: Job, host: string, err: Error): void {
    if (err instanceof AttemptStopped) {
      this.ctx.store.jobs.update(job.id, { state: 'abandoned', ended: true });
      this.ctx.log.info('attempt stopped', { run: run.id, attempt: job.attempt, reason: err.message });
      if (err.wroteJobDir) void sendCancel(this.ctx, host, job).catch((e: Error) => this.ctx.log.warn('cannot mark a stopped attempt on its host', { run: run.id, error: e.message }));
      return;
    }
    this.ctx.log.error('attempt could not start', { run: run.id, attempt: job.attempt, error: err.message });
    // Once start.sh may have run, only the host knows whether the job runs: the reconciler asks it.
    if (this.ctx.store.jobs.get(job.id)?.state !== 'preparing') return;
    this.ctx.store.jobs.update(job.id, { state: 'abandoned', ended: true });
    if (isTerminal(this.ctx.store.runs.get(run.id)?.status ?? 'failed')) return;
    if (isUnreachable(err)) {
      this.ctx.hosts.markUnreachable(host, err.message);
      this.requeue(run, `host unreachable: ${err.message}, retrying`, false);
    } else if (isTimedOut(err)) {
      this.requeue(run, `${err.message}; retrying`, true);
      this.ctx.lifecycle.setTimedOut(run.id, Date.now());
    } else if (err instanceof RetryableError) {
      this.requeue(run, err.message, true);
    } else {
      this.ctx.lifecycle.setStatus(run.id, 'failed', { reason: err.message });
    }
  }

  /** Back to the queue, a retry recorded first; with `backoff`, not before its delay. */
  requeue(run: Run, reason: string, backoff: boolean): void {
    this.ctx.lifecycle.recordIntent(run.id, 'retry', reason);
    if (backoff) {
      const times = this.ctx.store.runs.backoff(run.id).busyRetries + 1;
      const delay = backoffMs(times, this.ctx.backoff.firstMs, this.ctx.backoff.maxMs);
      this.ctx.store.runs.setBackoff(run.id, { notBefore: Date.now() + delay, busyRetries: times });
      reason = `${reason} (in ${Math.round(delay / 1000)} s)`;
    }
    this.ctx.lifecycle.setStatus(run.id, 'queued', { reason });
    this.ctx.lifecycle.setReason(run.id, reason);
  }
}

/**
 * Dispatch: launches runs on hosts and never loses them. `launch` records the intent and
 * returns; the pump places queued runs (FIFO within priority) and starts attempts; the
 * monitor re-derives every active job from its host's files on a timer (and at start-up —
 * that is the reconciler), streams logs and outputs back through the tracking ingesters,
 * and ends runs only on the host's word. An unreachable host is a condition, not an end.
 */
import { join } from 'node:path';
import { ErrorCode, RpcError, isTerminal, type Run, type RunStatus } from '../protocol/index.ts';
import type { Logger } from '../log/logger.ts';
import { EdgeTypes, type Store } from '../store/index.ts';
import type { HashPool } from '../track/hash/index.ts';
import type { Tracker } from '../track/tracker.ts';
import type { Publish } from '../track/publish.ts';
import type { Job } from '../store/jobs.ts';
import { HostRegistry, splitLocation, type HostRecord } from './hosts.ts';
import { launchSpecOf, prepareLaunch, type LaunchInput, type LaunchSpec } from './launch-request.ts';
import { startAttempt } from './attempt.ts';
import { place } from './placement.ts';
import { LogFollower } from './logs.ts';
import { Monitor } from './monitor.ts';
import type { DispatchContext } from './context.ts';
import { IllegalTransitionError } from '../store/runs.ts';

/** An SSH failure (not a command's): the host may come back, so nothing is judged. */
function isUnreachable(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === ErrorCode.HostUnreachable;
}

export interface DispatcherDeps {
  store: Store;
  log: Logger;
  pool: HashPool;
  tracker: Tracker;
  publish: Publish;
  keelHome: string;
  controlDir: string;
  sshConfig?: string;
  /** How often active jobs are probed (ms). */
  pollMs?: number;
  /** How long a host may be unreachable before a run with retries left is re-attempted elsewhere. */
  unreachableGraceMs?: number;
  heartbeatSeconds?: number;
  killGraceSeconds?: number;
}

export class Dispatcher {
  readonly hosts: HostRegistry;
  readonly ctx: DispatchContext;
  readonly logs: LogFollower;
  private readonly deps: DispatcherDeps;
  private readonly monitor: Monitor;
  private pumping: Promise<void> | null = null;
  private pumpAgain = false;
  private readonly starting = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Bytes moved per job while its attempt is prepared (logged, then dropped). */
  private readonly transfers = new Map<string, { code: number; data: number }>();

  constructor(deps: DispatcherDeps) {
    this.deps = deps;
    this.hosts = new HostRegistry({ store: deps.store, log: deps.log, keelHome: deps.keelHome, controlDir: deps.controlDir, ...(deps.sshConfig ? { sshConfig: deps.sshConfig } : {}) });
    this.ctx = {
      store: deps.store, log: deps.log, pool: deps.pool, hosts: this.hosts, keelHome: deps.keelHome,
      heartbeatSeconds: deps.heartbeatSeconds ?? 15, killGraceSeconds: deps.killGraceSeconds ?? 30,
      launchSpec: (runId) => launchSpecOf(deps.store, runId),
      setStatus: (runId, status, detail) => this.setStatus(runId, status, detail),
      alert: (runId, kind, severity, message) => this.alert(runId, kind, severity, message),
      recordTransfer: (jobId, what, bytes) => {
        const t = this.transfers.get(jobId) ?? { code: 0, data: 0 };
        t[what] += bytes;
        this.transfers.set(jobId, t);
      },
      takeTransfers: (jobId) => {
        const t = this.transfers.get(jobId) ?? { code: 0, data: 0 };
        this.transfers.delete(jobId);
        return t;
      },
    };
    this.logs = new LogFollower(
      deps.store, deps.keelHome, (runId, lines, offset) => deps.publish('logs', { runId, lines, offset }, runId),
      (runId, err) => deps.log.error('log follow stopped; it resumes from its cursor', { run: runId, error: err.message }),
    );
    this.monitor = new Monitor(this, { pollMs: deps.pollMs ?? 2000, unreachableGraceMs: deps.unreachableGraceMs ?? 30 * 60_000 });
  }

  get store(): Store {
    return this.deps.store;
  }

  get tracker(): Tracker {
    return this.deps.tracker;
  }

  get log(): Logger {
    return this.deps.log;
  }

  get publish(): Publish {
    return this.deps.publish;
  }

  /** Starts the reconciler: every active job is re-derived from its host now and on a timer. */
  start(): void {
    this.recoverInterruptedStarts();
    void this.tick();
  }

  /**
   * An attempt still 'preparing' when the daemon died never reached start.sh (the job is
   * marked 'starting' before that call), so nothing runs on the host: requeue it. Attempts
   * in 'starting' or 'running' are left to the reconciler, which asks the host.
   */
  private recoverInterruptedStarts(): void {
    for (const job of this.store.jobs.active()) {
      if (job.state !== 'preparing') continue;
      this.store.jobs.update(job.id, { state: 'abandoned', ended: true });
      const run = this.store.runs.get(job.runId);
      if (run && !isTerminal(run.status)) this.setStatus(run.id, 'queued', { reason: 'the daemon stopped while preparing this run; requeued' });
    }
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      await this.monitor.tick();
      await this.pump();
    } catch (err) {
      this.deps.log.error('dispatch tick failed', { error: (err as Error).stack });
    }
    if (!this.closed && !this.timer) this.timer = setTimeout(() => void this.tick(), this.nextInterval());
  }

  /** The reconciler must keep ticking even if asking the store how busy it is fails. */
  private nextInterval(): number {
    try {
      return this.monitor.interval();
    } catch (err) {
      this.deps.log.error('dispatch interval failed', { error: (err as Error).message });
      return this.deps.pollMs ?? 2000;
    }
  }

  /** Brings the next reconcile forward (a job just started; the idle interval is long). */
  wake(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), this.deps.pollMs ?? 2000);
  }

  setStatus(runId: string, status: RunStatus, detail: { reason?: string | null; exitCode?: number | null } = {}): void {
    const before = this.store.runs.get(runId);
    if (!before || before.status === status) return;
    let run: Run;
    try {
      run = this.store.runs.setStatus(runId, status, detail);
    } catch (err) {
      if (err instanceof IllegalTransitionError) {
        this.deps.log.warn('ignored status change', { run: runId, from: before.status, to: status });
        return;
      }
      throw err;
    }
    this.deps.publish('runs', { runId, status: run.status, unreachableSince: run.unreachableSince, statusReason: run.statusReason }, runId);
    if (status === 'failed') this.alert(runId, 'run_failed', 'error', `run ${run.name} failed${run.exitCode !== null ? ` with exit code ${run.exitCode}` : ''}${detail.reason ? `: ${detail.reason}` : ''}`);
    if (status === 'lost') this.alert(runId, 'run_lost', 'error', `run ${run.name} was lost: ${detail.reason ?? 'its process is gone without an exit code'}`);
  }

  alert(runId: string, kind: string, severity: 'info' | 'warning' | 'error', message: string): void {
    if (this.store.events.hasAlert(runId, kind)) return;
    const e = this.store.events.add({ kind, severity, runId, message });
    this.deps.log.warn('alert', { run: runId, kind, message });
    this.deps.publish('alerts', { id: e.id, kind, severity, runId, message }, runId);
  }

  /** Records the run and returns at once; placement and start happen in the background. */
  async launch(input: LaunchInput): Promise<Run> {
    if (input.host && !input.local) this.hosts.get(input.host);
    const run = await prepareLaunch(this.store, input);
    this.deps.log.info('run launched', { run: run.id, config: input.config, host: input.host ?? (input.local ? 'local' : 'any'), gpus: input.gpus ?? 0 });
    this.deps.publish('runs', { runId: run.id, status: run.status, unreachableSince: null, statusReason: null }, run.id);
    void this.pump();
    return run;
  }

  /**
   * Places queued runs and starts their attempts. Serialized; a call during a pump reruns it
   * after. Never rejects (callers fire and forget it): a failure is logged, and the run it
   * concerns is left queued with the reason, or failed with it.
   */
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
          this.deps.log.error('dispatch pump failed', { error: (err as Error).stack ?? String(err) });
        }
      } while (this.pumpAgain && !this.closed);
    })().finally(() => {
      this.pumping = null;
    });
    return this.pumping;
  }

  private async pumpOnce(): Promise<void> {
    for (const run of this.store.runs.queue()) {
      if (this.closed || this.starting.has(run.id)) continue;
      try {
        await this.placeRun(run);
      } catch (err) {
        this.placementFailed(run, err as Error);
      }
    }
  }

  private async placeRun(run: Run): Promise<void> {
    const spec = launchSpecOf(this.store, run.id);
    await this.ensureChecked(spec.host);
    const where = place(this.store, this.hosts.list(), { host: spec.host, gpus: spec.gpus });
    if ('wait' in where) {
      this.setQueuedReason(run, where.wait);
      return;
    }
    const host = where.host.name;
    let job: Job;
    try {
      job = await this.newAttempt(run, where.host, where.gpuIds); // asks an ssh host for its home: may fail
    } catch (err) {
      if (isUnreachable(err)) this.hosts.markUnreachable(host, (err as Error).message);
      throw err;
    }
    this.starting.add(run.id);
    void startAttempt(this.ctx, run, job, host)
      .then(() => this.wake())
      .catch((err: Error) => this.attemptFailed(run.id, job, host, err))
      .catch((err: unknown) => this.deps.log.error('could not record a failed start', { run: run.id, error: String(err) }))
      .finally(() => this.starting.delete(run.id));
  }

  /** Placement failed before any attempt was recorded: nothing runs anywhere. */
  private placementFailed(run: Run, err: Error): void {
    if (isUnreachable(err)) {
      this.deps.log.warn('host unreachable while placing a run; it stays queued', { run: run.id, error: err.message });
      this.setQueuedReason(run, `host unreachable: ${err.message}, retrying`);
      return;
    }
    this.deps.log.error('cannot place run', { run: run.id, error: err.stack ?? err.message });
    this.setStatus(run.id, 'failed', { reason: `Keel could not place this run: ${err.message}` });
  }

  private setQueuedReason(run: Run, reason: string): void {
    if (run.statusReason === reason) return;
    this.store.runs.setStatusReason(run.id, reason);
    this.deps.publish('runs', { runId: run.id, status: run.status, unreachableSince: run.unreachableSince, statusReason: reason }, run.id);
  }

  /**
   * How long an unreachable host is left alone before the pump checks it again: a minute at
   * the default 2 s poll, so a queued run waits instead of hammering the host (shorter when
   * the poll is made faster, as tests do).
   */
  private recheckMs(): number {
    return Math.min(60_000, 30 * (this.deps.pollMs ?? 2000));
  }

  /**
   * Hosts are checked (GPU inventory) before their first placement; an unreachable host is
   * checked again at most once per recheckMs.
   */
  private async ensureChecked(hostName: string | null): Promise<void> {
    for (const h of this.hosts.list()) {
      if (hostName !== null && h.name !== hostName) continue;
      const stale = h.reachable === false && Date.now() - (h.checkedAt ?? 0) > this.recheckMs();
      if (h.checkedAt === null || stale) await this.hosts.check(h.name);
    }
  }

  private async newAttempt(run: Run, host: HostRecord, gpuIds: string[]): Promise<Job> {
    const workdir = await this.hosts.workdir(host.name);
    const job = this.store.jobs.create({
      runId: run.id, backend: host.backend, hostId: host.id, gpuIds,
      jobDirFor: (attempt) => `${workdir}/jobs/${run.id}/${attempt}`,
    });
    this.store.runs.setHost(run.id, host.id);
    return job;
  }

  private attemptFailed(runId: string, job: Job, host: string, err: Error): void {
    const unreachable = isUnreachable(err);
    this.deps.log.error('attempt could not start', { run: runId, attempt: job.attempt, error: err.message });
    this.store.jobs.update(job.id, { state: 'abandoned', ended: true });
    if (unreachable) this.hosts.markUnreachable(host, err.message);
    const run = this.store.runs.get(runId);
    if (!run || isTerminal(run.status)) return;
    if (unreachable) {
      // Nothing started (start.sh is the only starter and it never ran): wait for the host.
      this.setStatus(runId, 'queued', { reason: `host unreachable: ${err.message}, retrying` });
      return;
    }
    this.setStatus(runId, 'failed', { reason: err.message });
  }

  /** Asks the job to stop: TERM to its process group, KILL after the grace period. */
  async cancel(runRef: string): Promise<Run> {
    const run = this.findRun(runRef);
    if (isTerminal(run.status)) throw new RpcError(ErrorCode.InvalidState, `run ${run.name} already ${run.status}`);
    this.monitor.cancelRequested.add(run.id);
    const job = this.store.jobs.latest(run.id);
    if (run.status === 'queued' || !job || job.state === 'abandoned') {
      this.setStatus(run.id, 'cancelled', { reason: 'cancelled before it started' });
      return this.store.runs.get(run.id) as Run;
    }
    const host = this.store.hosts.byId(job.hostId ?? '');
    if (host) await this.monitor.cancelJob(host.name, job);
    return this.store.runs.get(run.id) as Run;
  }

  /** Launches the same code, data and config again (a new run that records its parent). */
  rerun(runRef: string): Run {
    const run = this.findRun(runRef);
    const spec = launchSpecOf(this.store, run.id);
    const next = this.store.runs.create({
      projectId: run.projectId, name: `${run.name}-rerun`, source: 'launch', kind: spec.kind, configId: run.configId,
      codeVersionId: run.codeVersionId, parentRunId: run.id, priority: run.priority, gpus: run.gpus,
      maxRetries: this.store.runs.maxRetries(run.id), launch: spec,
    });
    this.store.runLinks.setParams(next.id, this.store.runLinks.params(run.id));
    this.store.lineage.addEdge({ kind: 'run', id: run.id }, { kind: 'run', id: next.id }, EdgeTypes.Reran);
    void this.pump();
    return next;
  }

  /** Launches an eval job for a checkpoint (after a train run succeeds, or on request). */
  launchEval(parent: Run, checkpoint: { id: string; location: string }, spec: LaunchSpec, hostName: string): Run {
    const { path } = splitLocation(checkpoint.location);
    const evalSpec: LaunchSpec = { ...spec, kind: 'eval', configPath: null, effectiveConfigHash: null, overrides: [], host: hostName, checkpoint: path, evalOf: checkpoint.id };
    const run = this.store.runs.create({
      projectId: parent.projectId, name: `${parent.name}-eval`, source: 'launch', kind: 'eval', parentRunId: parent.id,
      codeVersionId: parent.codeVersionId, gpus: spec.gpus, priority: parent.priority + 1, launch: evalSpec,
    });
    this.store.lineage.addEdge({ kind: 'checkpoint', id: checkpoint.id }, { kind: 'run', id: run.id }, EdgeTypes.EvaluatedBy);
    this.deps.publish('runs', { runId: run.id, status: run.status, unreachableSince: null, statusReason: null }, run.id);
    void this.pump();
    return run;
  }

  findRun(ref: string): Run {
    const run = this.store.runs.find(ref);
    if (!run) throw new RpcError(ErrorCode.NotFound, `no run "${ref}"; \`keel runs\` lists them`);
    return run;
  }

  logPath(run: Run): string | null {
    const job = this.store.jobs.latest(run.id);
    return job ? join(this.deps.keelHome, 'logs', run.id, `${job.attempt}.log`) : null;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.logs.stopAll();
    await this.pumping;
    await this.monitor.idle();
    await this.hosts.close();
  }
}

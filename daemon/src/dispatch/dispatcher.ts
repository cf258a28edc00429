/**
 * Dispatch: launches runs on hosts and never loses them. `launch` freezes what the run will
 * execute and records it (intent first), then returns; the scheduler places queued runs and
 * starts their attempts; the reconciler — one loop per host — re-derives every active job
 * from its host's files (at start-up too), streams logs and outputs back, and ends runs only
 * on the host's word. Every status change goes through the RunLifecycle. An unreachable host
 * is a condition, not an end; so is a step that timed out.
 */
import { join } from 'node:path';
import { ErrorCode, RpcError, isTerminal, type Checkpoint, type Run } from '../protocol/index.ts';
import type { Logger } from '../log/logger.ts';
import { EdgeTypes, type Store } from '../store/index.ts';
import type { Job } from '../store/jobs.ts';
import type { HashPool } from '../track/hash/index.ts';
import type { Tracker } from '../track/tracker.ts';
import type { Publish } from '../track/publish.ts';
import type { RunLifecycle } from '../runs/lifecycle.ts';
import { HostRegistry, splitLocation } from './hosts.ts';
import { freezeProject, launchProject, launchSpecOf, prepareLaunch, type LaunchInput, type LaunchSpec } from './launch-request.ts';
import { recordFrozenLineage, type FrozenSources } from './freeze.ts';
import { LogFollower } from './logs.ts';
import { CodeSnapshots } from './code-snapshots.ts';
import { DEFAULT_TIMEOUTS, type BackoffSettings, type DispatchContext, type StepTimeouts } from './context.ts';
import { Scheduler } from './scheduler.ts';
import { Reconciler } from './reconciler.ts';
import { JobOutputs } from './job-outputs.ts';
import { cancelRun } from './cancel.ts';
import { cancelSweep } from './slurm-array.ts';

export interface DispatcherDeps {
  store: Store;
  log: Logger;
  pool: HashPool;
  tracker: Tracker;
  lifecycle: RunLifecycle;
  /** Where log lines go (the `logs` topic). */
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
  timeouts?: Partial<StepTimeouts>;
  backoff?: Partial<BackoffSettings>;
  /** The machine-wide GPU lock folder on hosts (KEEL_GPU_LOCK_DIR); default /tmp/keel-gpu-locks. */
  gpuLockDir?: string;
}

export class Dispatcher {
  readonly hosts: HostRegistry;
  readonly ctx: DispatchContext;
  readonly logs: LogFollower;
  private readonly deps: DispatcherDeps;
  private readonly scheduler: Scheduler;
  private readonly reconciler: Reconciler;
  /** Background work per job (a cancel, a re-submit) that the reconciler must not start twice. */
  private readonly background = new Map<string, Promise<void>>();
  private readonly attempts = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly transfers = new Map<string, { code: number; data: number }>();

  constructor(deps: DispatcherDeps) {
    this.deps = deps;
    this.hosts = new HostRegistry({ store: deps.store, log: deps.log, keelHome: deps.keelHome, controlDir: deps.controlDir, ...(deps.sshConfig ? { sshConfig: deps.sshConfig } : {}) });
    this.ctx = {
      store: deps.store, log: deps.log, pool: deps.pool, hosts: this.hosts, keelHome: deps.keelHome, lifecycle: deps.lifecycle,
      snapshots: new CodeSnapshots(deps.keelHome, { store: deps.store, hasher: deps.pool, hashCache: deps.store.fileHashes }),
      heartbeatSeconds: deps.heartbeatSeconds ?? 15, killGraceSeconds: deps.killGraceSeconds ?? 30,
      timeouts: { ...DEFAULT_TIMEOUTS, ...deps.timeouts }, backoff: { firstMs: 5_000, maxMs: 300_000, ...deps.backoff },
      gpuLockDir: deps.gpuLockDir ?? null,
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
    const pollMs = deps.pollMs ?? 2000;
    this.scheduler = new Scheduler(this.ctx, { pollMs, attempts: this.attempts, wake: () => this.reconciler.wake() });
    this.reconciler = new Reconciler({
      ctx: this.ctx, logs: this.logs, attempts: this.attempts, background: this.background,
      outputs: new JobOutputs({ ctx: this.ctx, tracker: deps.tracker, logs: this.logs }),
      requeue: (run, reason, backoff) => this.scheduler.requeue(run, reason, backoff),
      gpuTaken: (host) => this.scheduler.leases.invalidate(host),
      launchEval: (parent, checkpoint, spec, host) => this.launchEval(parent, checkpoint, spec, host),
      chainEval: (parent, job, spec, host) => this.chainEval(parent, job, spec, host),
      unreachableGraceMs: deps.unreachableGraceMs ?? 30 * 60_000,
    }, { pollMs });
    deps.lifecycle.onEnd((run) => {
      void this.dropSnapshotOf(run);
      void this.scheduler.pump(); // its GPUs are free for the next run
    });
  }

  get store(): Store {
    return this.deps.store;
  }

  /** Starts the reconciler (every active job is re-derived from its host now) and the scheduler. */
  start(): void {
    this.recoverInterruptedStarts();
    this.tick();
  }

  /**
   * An attempt still 'preparing' when the daemon died never reached start.sh (the job moves
   * to 'starting' before that call), so nothing runs on the host: requeue it — or, when a
   * cancel was recorded, end it cancelled. 'starting' and 'running' are the reconciler's.
   */
  private recoverInterruptedStarts(): void {
    for (const job of this.store.jobs.active()) {
      if (job.state !== 'preparing') continue;
      this.store.jobs.update(job.id, { state: 'abandoned', ended: true });
      const run = this.store.runs.get(job.runId);
      if (!run || isTerminal(run.status)) continue;
      if (this.ctx.lifecycle.cancelIntent(run.id)) this.ctx.lifecycle.setStatus(run.id, 'cancelled', { reason: 'cancelled before it started' });
      else this.scheduler.requeue(run, 'the daemon stopped while preparing this run; requeued', false);
    }
  }

  /** The scheduler's heartbeat: pump queued runs (a back-off may have run out) and keep host loops going. */
  private tick(): void {
    if (this.closed) return;
    this.timer = null;
    try {
      this.reconciler.ensure();
      void this.scheduler.pump();
    } catch (err) {
      this.deps.log.error('dispatch tick failed', { error: (err as Error).stack });
    }
    const busy = this.store.runs.queue().length > 0 || this.store.jobs.active().length > 0;
    const pollMs = this.deps.pollMs ?? 2000;
    this.timer = setTimeout(() => this.tick(), busy ? pollMs : Math.max(pollMs, 10_000));
  }

  /** Brings the next reconcile forward (a job just started; the idle interval is long). */
  wake(): void {
    if (this.closed) return;
    this.reconciler.wake();
  }

  /** Records the run (its spec frozen) and returns at once; placement and start happen in the background. */
  async launch(input: LaunchInput, sources?: FrozenSources): Promise<Run> {
    if (input.host && !input.local) this.hosts.get(input.host);
    const { run, sources: used } = await prepareLaunch({ store: this.store, hasher: this.deps.pool, hashCache: this.store.fileHashes, snapshots: this.ctx.snapshots }, input, sources);
    recordFrozenLineage(this.store, run.id, used);
    for (const note of used.notes) this.ctx.lifecycle.alert(run.id, note.kind, note.severity, note.message);
    this.ctx.lifecycle.recordIntent(run.id, 'launch', `host ${input.local ? 'local' : input.host ?? 'any'}, ${input.gpus ?? 0} GPU(s)`);
    this.deps.log.info('run launched', { run: run.id, config: input.config, host: input.host ?? (input.local ? 'local' : 'any'), gpus: input.gpus ?? 0, snapshot: used.code.snapshotId });
    this.ctx.lifecycle.changed(run.id);
    void this.scheduler.pump();
    return run;
  }

  /** Freezes code and data once for several launches of one project (a sweep). */
  freezeFor(input: Pick<LaunchInput, 'config' | 'cwd'>): Promise<FrozenSources> {
    const project = launchProject(this.store, input);
    return freezeProject({ store: this.store, hasher: this.deps.pool, hashCache: this.store.fileHashes, snapshots: this.ctx.snapshots }, project);
  }

  /** Stops a run (see cancel.ts). */
  async cancel(runRef: string): Promise<Run> {
    return cancelRun(this.ctx, this.findRun(runRef));
  }

  /** Stops every run of a sweep; its Slurm job array, if any, with one scancel (slurm-array.ts). */
  cancelSweep(sweepId: string): Promise<{ runs: Run[]; slurmArray: string | null }> {
    return cancelSweep(this.ctx, sweepId, (run) => cancelRun(this.ctx, run), (jobIds, work) => {
      // The reconciler sends nothing of its own for these jobs while the sweep's cancel is on its way.
      const mine = jobIds.filter((id) => !this.background.has(id));
      const done = work.then(() => undefined, () => undefined).finally(() => {
        for (const id of mine) this.background.delete(id);
      });
      for (const id of mine) this.background.set(id, done);
    });
  }

  /**
   * Runs the same frozen spec again — the recorded command, code snapshot and dataset
   * versions — as a new run that records its parent; `host` places it elsewhere.
   */
  rerun(runRef: string, host?: string): Run {
    const run = this.findRun(runRef);
    const spec = launchSpecOf(this.store, run.id);
    if (!spec.frozen) throw new RpcError(ErrorCode.InvalidState, `run ${run.name} was launched by an older Keel and recorded no frozen spec; launch its config again instead`);
    if (host !== undefined) this.hosts.get(host);
    const next = this.store.runs.create({
      projectId: run.projectId, name: `${run.name}-rerun`, source: 'launch', kind: spec.kind, configId: run.configId,
      codeVersionId: spec.frozen.code.versionId, parentRunId: run.id, priority: run.priority, gpus: run.gpus,
      maxRetries: this.store.runs.maxRetries(run.id), launch: { ...spec, ...(host !== undefined ? { host } : {}) },
    });
    this.ctx.lifecycle.recordIntent(next.id, 'rerun', `of ${run.id}${host !== undefined ? ` on ${host}` : ''}`);
    this.store.runLinks.setParams(next.id, this.store.runLinks.params(run.id));
    recordFrozenLineage(this.store, next.id, spec.frozen);
    this.store.lineage.addEdge({ kind: 'run', id: run.id }, { kind: 'run', id: next.id }, EdgeTypes.Reran);
    this.ctx.lifecycle.changed(next.id);
    void this.scheduler.pump();
    return this.store.runs.get(next.id) as Run;
  }

  /** Launches the frozen eval command for a checkpoint (after a train run succeeds). */
  launchEval(parent: Run, checkpoint: Pick<Checkpoint, 'id' | 'location'>, spec: LaunchSpec, hostName: string): Run | undefined {
    const frozen = spec.frozen;
    if (!frozen?.eval) return undefined;
    const { path } = splitLocation(checkpoint.location);
    const evalSpec: LaunchSpec = {
      ...spec, kind: 'eval', configPath: null, effectiveConfigHash: null, overrides: [], host: hostName, checkpoint: path, evalOf: checkpoint.id,
      frozen: { ...frozen, job: frozen.eval, eval: null },
    };
    const run = this.store.runs.create({
      projectId: parent.projectId, name: `${parent.name}-eval`, source: 'launch', kind: 'eval', parentRunId: parent.id,
      codeVersionId: frozen.code.versionId, gpus: spec.gpus, priority: parent.priority + 1, launch: evalSpec,
    });
    this.ctx.lifecycle.recordIntent(run.id, 'launch', `eval of checkpoint ${checkpoint.id}`);
    recordFrozenLineage(this.store, run.id, frozen);
    this.store.lineage.addEdge({ kind: 'checkpoint', id: checkpoint.id }, { kind: 'run', id: run.id }, EdgeTypes.EvaluatedBy);
    this.ctx.lifecycle.changed(run.id);
    void this.scheduler.pump();
    return run;
  }

  /**
   * Slurm hosts: the eval of a train run, launched as soon as the train job is submitted and
   * submitted behind it with `--dependency=afterok:<train job>`, so it runs on the cluster
   * with no daemon awake. Which checkpoint is best is not known yet: it evaluates the train
   * job's output folder (its final model), and is linked to that checkpoint when the train
   * run succeeds (settle.ts).
   */
  chainEval(parent: Run, trainJob: Job, spec: LaunchSpec, hostName: string): Run | undefined {
    const frozen = spec.frozen;
    if (!frozen?.eval || trainJob.schedulerJobId === null) return undefined;
    const outputDir = `${trainJob.jobDir}/outputs`;
    const evalSpec: LaunchSpec = {
      ...spec, kind: 'eval', configPath: null, effectiveConfigHash: null, overrides: [], host: hostName, checkpoint: outputDir, evalOf: null,
      afterTrain: { runId: parent.id, jobId: trainJob.id, slurmJobId: trainJob.schedulerJobId, outputDir },
      frozen: { ...frozen, job: frozen.eval, eval: null },
    };
    const run = this.store.runs.create({
      projectId: parent.projectId, name: `${parent.name}-eval`, source: 'launch', kind: 'eval', parentRunId: parent.id,
      codeVersionId: frozen.code.versionId, gpus: spec.gpus, priority: parent.priority + 1, launch: evalSpec,
    });
    this.ctx.lifecycle.recordIntent(run.id, 'launch', `eval chained to Slurm job ${trainJob.schedulerJobId} of ${parent.name} (afterok)`);
    recordFrozenLineage(this.store, run.id, frozen);
    this.ctx.lifecycle.changed(run.id);
    void this.scheduler.pump();
    return run;
  }

  /**
   * A snapshot nothing active uses any more is dropped from this machine when it can be
   * rebuilt from commit + patch; one that cannot (no git, files left out of the patch) stays.
   */
  private async dropSnapshotOf(run: Run): Promise<void> {
    const frozen = (this.store.runs.launchSpec(run.id) as LaunchSpec | null)?.frozen;
    if (!frozen?.code.rebuildable) return;
    const id = frozen.code.snapshotId;
    if (this.store.runs.usesSnapshot(id)) return;
    await this.ctx.snapshots.remove(id).catch((err: Error) => this.deps.log.warn('cannot remove a code snapshot', { snapshot: id, error: err.message }));
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
    await this.scheduler.close();
    await this.reconciler.close();
    await this.hosts.close();
  }
}

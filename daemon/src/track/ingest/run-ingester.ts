/**
 * A training output folder → a tracked run, incrementally and idempotently: the run (found by
 * its output folder, or created), its metric curves, checkpoints and eval results. A user
 * changes nothing in their training script. Ingesting the same folder twice adds nothing;
 * ingesting it after it grew adds only what is new.
 *
 * The run is finished (status `succeeded`) when the root holds `trainer_state.json`,
 * `train_results.json`, `all_results.json` or qlora's `completed` marker, or when the newest
 * trainer_state says global_step ≥ max_steps or should_training_stop. Otherwise it is
 * `running`. Only watched and imported runs change status here (a launched run's status is
 * the dispatcher's), and a terminal status is never changed.
 */
import { realpath } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Logger } from '../../log/logger.ts';
import type { Run } from '../../protocol/index.ts';
import type { MetricInput, Store } from '../../store/index.ts';
import { readMetricsJsonlFile, readTorchtuneLogFile, torchtuneLogStartTime } from '../formats/index.ts';
import type { FileHasher, HashCache } from '../hash/index.ts';
import { ingestCheckpointFolders, markBestCheckpoint, markCheckpointPresence } from './checkpoint-folders.ts';
import { addErrorIssue, fileStamp, sameVersion, stampFrom } from './context.ts';
import type { IngestContext, IngestReport } from './context.ts';
import { ingestEvalFile } from './eval-files.ts';
import type { EvalFileOptions, EvalFileReport } from './eval-files.ts';
import { ingestEventFiles } from './event-files.ts';
import { ingestLineFiles } from './line-files.ts';
import { isInside } from './model-refs.ts';
import { scanRunDir } from './scan.ts';
import type { RunDirLayout } from './scan.ts';
import { chooseTrainerState, ingestHfResults, ingestTrainerState, trainingEnded } from './trainer-files.ts';
import type { TrainerFacts } from './trainer-files.ts';
import { asIngestStopped, type IngestStoppedError } from './ingest-stopped.ts';
import { reportDroppedKeys } from './metric-writes.ts';
import { defaultParsePool, type ParsePool } from '../../work/parse-pool.ts';
import { RunLifecycle, type RunStatusWriter } from '../../runs/lifecycle.ts';

/** What a RunIngester works with. */
export interface RunIngesterDeps {
  store: Store;
  hasher: FileHasher;
  hashCache: HashCache;
  log?: Logger;
  /** A checkpoint folder other than HF `checkpoint-N/` whose files are all this old counts as complete. Default 60 s. */
  quietMs?: number;
  /** Metric points per store write. Default 5,000. */
  batchSize?: number;
  /** Clock (ms since epoch), for tests. */
  now?: () => number;
  /** Hears new metric points (see IngestContext.onNewPoints). */
  onNewPoints?: (runId: string, points: readonly MetricInput[]) => void;
  /** Parses files off the event loop; default: the process's parse pool. */
  parser?: ParsePool;
  /**
   * Hears an ingest that stopped on a store write error (disk full, I/O error…) before the
   * run's status was settled: the run may lack points its files hold. The ingest itself
   * rejects with the same error. (For a run status such as `incomplete`.)
   */
  onIngestStopped?: (runId: string, reason: IngestStoppedError) => void;
  /** Where run status changes go (the daemon's RunLifecycle); default: one that tells no one. */
  statuses?: RunStatusWriter;
}

/** How a folder is being ingested. */
export interface IngestRunOptions {
  projectId: string | null;
  /** A launched run writing to this folder: ingest into it (and record the folder as its output). */
  runId?: string;
  source: 'watch' | 'import' | 'launch';
  /** Name of a new run; defaults to the folder's name. */
  name?: string;
  /**
   * false for a local mirror of a remote job's outputs (weights left on the host): its
   * checkpoints are registered from the host's own manifest instead, as `host:path`.
   */
  checkpoints?: boolean;
}

export class RunIngester {
  private readonly deps: RunIngesterDeps;
  /** Checkpoint folders seen while possibly still being written → their fingerprint then. */
  private readonly pending = new Map<string, string>();
  /** One ingest per folder at a time; a second call waits for the first. */
  private readonly inFlight = new Map<string, Promise<IngestReport>>();

  private readonly statuses: RunStatusWriter;

  constructor(deps: RunIngesterDeps) {
    this.deps = deps;
    this.statuses = deps.statuses ?? new RunLifecycle({ store: deps.store, publish: () => {}, ...(deps.log ? { log: deps.log } : {}) });
  }

  /**
   * Ingests the output folder `dir` (see the module comment). Rejects when `dir` cannot be
   * read, when `opts.runId` names no run, and with an IngestStoppedError (E_IO) when the
   * store cannot be written — then the run's status is left as it was. Every problem with a
   * file is an issue in the report.
   */
  async ingestRunDir(dir: string, opts: IngestRunOptions): Promise<IngestReport> {
    const real = await realpath(dir);
    const previous = this.inFlight.get(real) ?? Promise.resolve(undefined);
    const next = previous.catch(() => undefined).then(() => this.ingestNow(real, opts));
    this.inFlight.set(real, next);
    try {
      return await next;
    } finally {
      if (this.inFlight.get(real) === next) this.inFlight.delete(real);
    }
  }

  /** Ingests one lm-eval results file (see eval-files.ts for the subject matching rules). */
  ingestEvalFile(path: string, opts: EvalFileOptions): Promise<EvalFileReport> {
    return ingestEvalFile(this.deps.store, path, { ...(this.deps.parser ? { parser: this.deps.parser } : {}), ...opts });
  }

  private async ingestNow(dir: string, opts: IngestRunOptions): Promise<IngestReport> {
    const issues: string[] = [];
    const layout = await scanRunDir(dir, (m) => issues.push(m));
    this.forgetVanishedPending(dir, layout);
    let runId = opts.runId ?? '(new)';
    try {
      const resolved = this.resolveRun(dir, opts, issues);
      runId = resolved.run.id;
      // An import in progress is `incomplete` ("import in progress") until it has read
      // everything: a daemon killed meanwhile leaves it so, never `running` or `succeeded`.
      const run = opts.source === 'import' ? this.statuses.beginImport(runId) : resolved.run;
      return await this.ingestInto(run, resolved.created, dir, opts, layout, issues);
    } catch (err) {
      const stopped = asIngestStopped(err, { runId, dir, db: this.deps.store.file });
      if (stopped === undefined) throw err;
      this.deps.log?.error('ingest stopped: the store cannot be written', { dir, runId, sqliteCode: stopped.details.sqliteCode, error: stopped.message });
      if (runId !== '(new)') this.deps.onIngestStopped?.(runId, stopped);
      throw stopped;
    }
  }

  private async ingestInto(run: Run, created: boolean, dir: string, opts: IngestRunOptions, layout: RunDirLayout, issues: string[]): Promise<IngestReport> {
    const { store } = this.deps;
    const report: IngestReport = { runId: run.id, created, points: 0, checkpoints: 0, evals: 0, issues, pending: [] };
    const projectId = run.projectId ?? opts.projectId;
    const ctx: IngestContext = {
      store, runId: run.id, owner: `run:${run.id}`, dir, report, log: this.deps.log, batchSize: this.deps.batchSize ?? 5_000,
      ...(this.deps.onNewPoints ? { onNewPoints: this.deps.onNewPoints } : {}),
      projectRoot: projectId === null ? null : (store.projects.get(projectId)?.root ?? null),
      parser: this.deps.parser ?? defaultParsePool(), dropped: new Map(),
    };
    const facts = await this.ingestMetrics(ctx, layout);
    reportDroppedKeys(ctx);
    const finished = layout.finishedMarkers.length > 0 || trainingEnded(facts);
    const rules = { hasher: this.deps.hasher, hashCache: this.deps.hashCache, pending: this.pending, quietMs: this.deps.quietMs ?? 60_000, now: this.deps.now ?? Date.now };
    if (opts.checkpoints !== false) {
      await ingestCheckpointFolders(ctx, layout.checkpoints, rules, { finished, imported: opts.source === 'import', finalStep: facts?.globalStep });
      report.checkpoints += markCheckpointPresence(ctx);
    }
    markBestCheckpoint(ctx, facts?.bestCheckpointName);
    await this.ingestEvalsIn(ctx, layout.lmEvalCandidates, projectId);
    if (opts.source === 'import') this.statuses.finishImport(run.id);
    this.settleStatus(run.id, finished);
    const changed = report.created || report.points > 0 || report.checkpoints > 0 || report.evals > 0;
    this.deps.log?.[changed ? 'info' : 'debug']('run folder ingested', {
      dir, runId: run.id, created, points: report.points, checkpoints: report.checkpoints, evals: report.evals,
      issues: report.issues.length, pending: report.pending.length,
    });
    return report;
  }

  /** The folder's run: the given one (now pointing at this folder), the one owning the folder, or a new one. */
  private resolveRun(dir: string, opts: IngestRunOptions, issues: string[]): { run: Run; created: boolean } {
    const { store } = this.deps;
    if (opts.runId !== undefined) {
      const run = store.runs.get(opts.runId);
      if (run === undefined) throw new Error(`cannot ingest ${dir}: no run ${opts.runId}`);
      if (run.outputDir !== dir && !store.runs.setOutputDir(run.id, dir)) {
        issues.push(`${dir}: this folder is already the output of run ${store.runs.findByOutputDir(dir)?.id ?? '?'}; ingested into ${run.id} without moving it`);
      }
      return { run, created: false };
    }
    return store.runs.ensureForOutputDir({
      projectId: opts.projectId, name: opts.name ?? basename(dir), status: 'running', source: opts.source, outputDir: dir,
    });
  }

  /** Every metrics source, in an order that makes re-reads deterministic: trainer_state, event files, logs, then results files. */
  private async ingestMetrics(ctx: IngestContext, layout: RunDirLayout): Promise<TrainerFacts | undefined> {
    const stateFile = chooseTrainerState(layout);
    let facts: TrainerFacts | undefined;
    let stateRead = false;
    await guard(ctx, stateFile ?? ctx.dir, async () => {
      if (stateFile === undefined) return;
      ({ facts, read: stateRead } = await ingestTrainerState(ctx, stateFile));
    });
    await guard(ctx, ctx.dir, () => ingestEventFiles(ctx, layout.tfevents));
    await guard(ctx, ctx.dir, () => ingestLineFiles(ctx, layout.metricsJsonl, readMetricsJsonlFile, 'metrics_jsonl'));
    const logs = [...layout.torchtuneLogs].sort((a, b) => (torchtuneLogStartTime(a) ?? 0) - (torchtuneLogStartTime(b) ?? 0));
    await guard(ctx, ctx.dir, () => ingestLineFiles(ctx, logs, readTorchtuneLogFile, 'torchtune_log'));
    if (layout.hfResults.length > 0) {
      const finalStep = facts?.globalStep ?? lastStepOf(ctx);
      await guard(ctx, ctx.dir, () => ingestHfResults(ctx, layout.hfResults, finalStep, stateRead));
    }
    return facts;
  }

  /** lm-eval results files inside the run folder; unchanged ones are skipped. */
  private async ingestEvalsIn(ctx: IngestContext, files: readonly string[], projectId: string | null): Promise<void> {
    for (const file of files) {
      const stamp = await fileStamp(file);
      if (stamp === undefined || sameVersion(stampFrom(ctx.store.cursors.get(ctx.owner, file)?.state), stamp)) continue;
      // The run whose folder holds the file wrote it (an eval job's output): its eval run.
      const result = await ingestEvalFile(ctx.store, file, { projectId, parser: ctx.parser, runId: ctx.runId }, { notResults: true });
      ctx.report.evals += result.evals;
      for (const issue of result.issues) ctx.report.issues.push(issue);
      if (result.issues.length === 0 || result.evals > 0) ctx.store.cursors.put(ctx.owner, file, { byteOffset: stamp.size, state: stamp });
    }
  }

  /** Drops pending checkpoint folders of `dir` that are gone (deleted, or renamed by the writer). */
  private forgetVanishedPending(dir: string, layout: RunDirLayout): void {
    const present = new Set(layout.checkpoints.map((c) => c.path));
    for (const path of this.pending.keys()) if (isInside(path, dir) && !present.has(path)) this.pending.delete(path);
  }

  /** A watched or imported run that now looks finished becomes `succeeded`; terminal states stay. */
  private settleStatus(runId: string, finished: boolean): void {
    if (finished) this.statuses.settleFinished(runId, 'the output folder shows training finished');
  }
}

/** The highest step recorded for the run so far (0 when none). */
function lastStepOf(ctx: IngestContext): number {
  let last = 0;
  for (const s of ctx.store.metrics.series(ctx.runId)) if (s.lastStep !== null && s.lastStep > last) last = s.lastStep;
  return last;
}

/** Runs one phase; an unexpected error becomes an issue instead of stopping the other phases. */
async function guard(ctx: IngestContext, file: string, phase: () => Promise<void>): Promise<void> {
  try {
    await phase();
  } catch (err) {
    addErrorIssue(ctx, file, err);
  }
}

/**
 * The store: the only module that touches SQL. Each area of the domain has its own
 * small class over one shared connection; see SCHEMA.md for the tables.
 */
import { markShutdownState, openDb, type Db, type OpenOptions, type OpenReport } from './db.ts';
import { CheckpointStore } from './checkpoints.ts';
import { CursorStore } from './cursors.ts';
import { EvalStore } from './evals.ts';
import { BlobStore } from './blobs.ts';
import { CodeVersionStore } from './code-versions.ts';
import { ConfigStore } from './configs.ts';
import { DatasetStore } from './datasets.ts';
import { FileHashStore } from './file-hashes.ts';
import { EventStore } from './events.ts';
import { HostStore } from './hosts.ts';
import { JobStore } from './jobs.ts';
import { IntentStore } from './intents.ts';
import { SweepStore } from './sweeps.ts';
import { MetaStore } from './meta.ts';
import { MetricStore } from './metrics.ts';
import { ModelStore } from './models.ts';
import { LineageStore } from './lineage.ts';
import { ProjectStore } from './projects.ts';
import { RunLinkStore } from './run-links.ts';
import { RunStore } from './runs.ts';
import { RunSummaryStore } from './run-summary.ts';
import { BaseModelStore } from './base-models.ts';

export { StoreOpenError } from './db.ts';
export type { OpenOptions, OpenReport } from './db.ts';
export type { Migration, MigrationOutcome, MigrationStep } from './migrate.ts';
export { EdgeTypes, type RecordRef } from './lineage.ts';
export type { MetricInput, RecordOptions, SeriesSummary } from './metrics.ts';
export type { Disagreement } from './metric-merge.ts';
export type { SummaryInput } from './run-summary.ts';
export type { ModelSighting } from './base-models.ts';
export type { AddedVersion, DatasetFile, DatasetFileMatch, DatasetInput, NewDatasetVersion } from './datasets.ts';
export type { NewConfig } from './configs.ts';
export type { NewCodeVersion } from './code-versions.ts';
export type { KnownFile } from './file-hashes.ts';
export { formatRunCursor, parseRunCursor, type RunCursor, type RunListFilter, type RunPage } from './run-list.ts';
export { IMPORT_IN_PROGRESS, type DeletedOutput, type NewRun, type RunDeletion } from './runs.ts';
export { RunNotDeletableError, type BlockingAlias, type RunDeletionCounts } from './run-delete.ts';
export { BEST_CHECKPOINT_EDGE, type CheckpointInput } from './checkpoints.ts';
export { evalGroupId, type EvalInput } from './evals.ts';
export type { FileCursor, FileCursorInput } from './cursors.ts';
export type { IntentKind, IntentState, RunIntent } from './intents.ts';

export class Store {
  readonly file: string;
  readonly projects: ProjectStore;
  readonly runs: RunStore;
  readonly metrics: MetricStore;
  /** End-of-run summary values (run-summary.ts). */
  readonly summaries: RunSummaryStore;
  /** Base model records (base-models.ts); `models` is the aliases. */
  readonly baseModels: BaseModelStore;
  readonly meta: MetaStore;
  readonly lineage: LineageStore;
  readonly checkpoints: CheckpointStore;
  readonly evals: EvalStore;
  readonly cursors: CursorStore;
  readonly blobs: BlobStore;
  readonly fileHashes: FileHashStore;
  readonly datasets: DatasetStore;
  readonly configs: ConfigStore;
  readonly codeVersions: CodeVersionStore;
  readonly models: ModelStore;
  readonly runLinks: RunLinkStore;
  readonly events: EventStore;
  readonly hosts: HostStore;
  readonly jobs: JobStore;
  readonly intents: IntentStore;
  readonly sweeps: SweepStore;
  /** What opening found and did: the check it ran, the last shutdown, the migration and its backup. */
  readonly opened: OpenReport;
  private readonly db: Db;
  private readonly readonly: boolean;
  private closed = false;

  constructor(file: string, opts: OpenOptions = {}) {
    this.file = file;
    this.readonly = opts.readonly ?? false;
    ({ db: this.db, report: this.opened } = openDb(file, opts));
    this.projects = new ProjectStore(this.db);
    this.runs = new RunStore(this.db);
    this.metrics = new MetricStore(this.db);
    this.summaries = new RunSummaryStore(this.db);
    this.baseModels = new BaseModelStore(this.db);
    this.meta = new MetaStore(this.db);
    this.lineage = new LineageStore(this.db);
    this.checkpoints = new CheckpointStore(this.db);
    this.evals = new EvalStore(this.db);
    this.cursors = new CursorStore(this.db);
    this.blobs = new BlobStore(this.db);
    this.fileHashes = new FileHashStore(this.db);
    this.datasets = new DatasetStore(this.db);
    this.configs = new ConfigStore(this.db, this.blobs);
    this.codeVersions = new CodeVersionStore(this.db, this.blobs);
    this.models = new ModelStore(this.db);
    this.runLinks = new RunLinkStore(this.db);
    this.events = new EventStore(this.db);
    this.hosts = new HostStore(this.db);
    this.jobs = new JobStore(this.db);
    this.intents = new IntentStore(this.db);
    this.sweeps = new SweepStore(this.db);
  }

  /** Runs `fn` in one transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** `PRAGMA integrity_check`: 'ok' or the problems found. */
  integrityCheck(): string {
    return String(this.db.pragma('integrity_check', { simple: true }));
  }

  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /**
   * Records a clean shutdown (the next open skips its check), checkpoints the WAL into the
   * main file and closes. Safe to call twice.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (!this.readonly) {
        markShutdownState(this.db, 'clean');
        // Fresh planner statistics for tables that changed a lot, each sampled, so closing stays quick.
        this.db.pragma('analysis_limit = 400');
        this.db.pragma('optimize');
      }
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }
}

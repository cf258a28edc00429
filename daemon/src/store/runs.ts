/** Runs: the status machine lives here, so no caller can make an illegal transition. */
import { isTerminal, RunStatuses, RunTransitions, type Run, type RunStatus, type RunSummary } from '../protocol/index.ts';
import { shellWord } from '../protocol/format.ts';
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.ts';
import { newId } from './ids.ts';
import { checkDeletable, deleteRunRows, type RunDeletionCounts } from './run-delete.ts';
import { listRunSummaries, type RunListFilter, type RunPage } from './run-list.ts';

/** The status reason of a run an import has begun and not finished (see RunStore.beginImport). */
export const IMPORT_IN_PROGRESS = 'import in progress';

/** What `RunStore.delete` did. */
export interface RunDeletion {
  run: Run;
  removed: RunDeletionCounts;
  /** The output folder recorded as deleted (the watcher must not re-create the run), if any. */
  tombstone: string | null;
}

/** A deleted run's output folder (see RunStore.isDeletedOutput). */
export interface DeletedOutput {
  path: string;
  runId: string;
  runName: string;
  deletedAt: number;
}

export interface NewRun {
  projectId: string | null;
  name?: string;
  status?: RunStatus;
  /** Why the run is in `status` (e.g. IMPORT_IN_PROGRESS for a run created `incomplete`). */
  statusReason?: string | null;
  source: Run['source'];
  kind?: 'train' | 'eval';
  configId?: string | null;
  codeVersionId?: string | null;
  hostId?: string | null;
  sweepId?: string | null;
  parentRunId?: string | null;
  outputDir?: string | null;
  priority?: number;
  gpus?: number;
  maxRetries?: number;
  launch?: unknown;
}

/** A `runs` row joined with its host's name (selectRun). */
export interface RunRow {
  id: string;
  project_id: string | null;
  name: string;
  status: RunStatus;
  status_reason: string | null;
  exit_code: number | null;
  unreachable_since: number | null;
  timed_out_since: number | null;
  source: Run['source'];
  config_id: string | null;
  code_version_id: string | null;
  host_name: string | null;
  sweep_id: string | null;
  output_dir: string | null;
  priority: number;
  gpus: number;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  updated_at: number;
}

/** A run and its host's name, as a scalar subquery (runs.get: 7–8 µs; the LEFT JOIN it replaced took 70–100). Ends with `FROM runs`: callers add WHERE… */
const selectRun = 'SELECT runs.*, (SELECT name FROM hosts WHERE hosts.id = runs.host_id) AS host_name FROM runs';

/** The statuses of a run that has not ended. */
const OPEN_STATUSES = RunStatuses.filter((s) => !isTerminal(s));

export function toRun(r: RunRow): Run {
  return {
    id: r.id,
    projectId: r.project_id,
    name: r.name,
    status: r.status,
    statusReason: r.status_reason,
    exitCode: r.exit_code,
    unreachableSince: r.unreachable_since,
    timedOutSince: r.timed_out_since ?? null,
    source: r.source,
    configId: r.config_id,
    codeVersionId: r.code_version_id,
    hostName: r.host_name,
    sweepId: r.sweep_id,
    outputDir: r.output_dir,
    priority: r.priority,
    gpus: r.gpus,
    createdAt: r.created_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    updatedAt: r.updated_at,
  };
}

/** Raised on a status change the machine does not allow. */
export class IllegalTransitionError extends Error {
  constructor(runId: string, from: RunStatus, to: RunStatus) {
    super(`run ${runId} cannot go from ${from} to ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export class RunStore {
  private readonly db: Db;
  /** The hottest lookup (every notification, hover and lineage node), compiled once. */
  private getStatement: Statement | undefined;
  constructor(db: Db) {
    this.db = db;
  }

  create(input: NewRun): Run {
    const id = newId('run');
    const now = Date.now();
    this.db
      .prepare(
        `INSERT INTO runs (id, project_id, name, status, status_reason, source, kind, config_id, code_version_id, host_id, sweep_id,
           parent_run_id, output_dir, priority, gpus, max_retries, launch_json, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id, input.projectId, input.name ?? id, input.status ?? 'queued', input.statusReason ?? null, input.source, input.kind ?? 'train',
        input.configId ?? null, input.codeVersionId ?? null, input.hostId ?? null, input.sweepId ?? null,
        input.parentRunId ?? null, input.outputDir ?? null, input.priority ?? 0, input.gpus ?? 0, input.maxRetries ?? 0,
        input.launch === undefined ? null : JSON.stringify(input.launch), now, now,
      );
    return this.get(id) as Run;
  }

  get(id: string): Run | undefined {
    this.getStatement ??= this.db.prepare(`${selectRun} WHERE runs.id = ?`);
    const row = this.getStatement.get(id) as RunRow | undefined;
    return row ? toRun(row) : undefined;
  }

  /**
   * Runs by id with their launch specs, in one query however many (a lineage graph describes
   * hundreds of nodes); ids of runs that no longer exist are left out.
   */
  getMany(ids: readonly string[]): Map<string, { run: Run; launch: unknown }> {
    const out = new Map<string, { run: Run; launch: unknown }>();
    if (ids.length === 0) return out;
    const rows = this.db.prepare(`${selectRun} WHERE runs.id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(ids)) as (RunRow & { launch_json: string | null })[];
    for (const r of rows) out.set(r.id, { run: toRun(r), launch: r.launch_json ? (JSON.parse(r.launch_json) as unknown) : null });
    return out;
  }

  /** Finds a run by id, unique id prefix or unique name. */
  find(ref: string): Run | undefined {
    const exact = this.get(ref);
    if (exact) return exact;
    if (ref === '') return undefined;
    // An id prefix as a key range (ids are lower case), so the primary key and runs_by_name answer it, not a scan.
    const lo = ref.toLowerCase();
    const hi = lo.slice(0, -1) + String.fromCharCode(lo.charCodeAt(lo.length - 1) + 1);
    const rows = this.db
      .prepare(`${selectRun} WHERE (runs.id >= ? AND runs.id < ?) OR runs.name = ? LIMIT 2`)
      .all(lo, hi, ref) as RunRow[];
    return rows.length === 1 ? toRun(rows[0] as RunRow) : undefined;
  }

  /** Runs, newest first (views read pages of summaries: `summaries`). */
  list(filter: { limit?: number } = {}): Run[] {
    return (this.db.prepare(`${selectRun} ORDER BY runs.created_at DESC LIMIT ?`).all(filter.limit ?? 1000) as RunRow[]).map(toRun);
  }

  /**
   * Whether a run that has not ended was launched from code snapshot `snapshotId` — one look
   * through runs_by_status (named: with few runs the planner would rather scan), however many
   * runs are active or stored.
   */
  usesSnapshot(snapshotId: string): boolean {
    const row = this.db.prepare(`SELECT 1 FROM runs INDEXED BY runs_by_status WHERE status IN (${OPEN_STATUSES.map(() => '?').join(', ')})
      AND CASE WHEN json_valid(launch_json) THEN json_extract(launch_json, '$.frozen.code.snapshotId') END = ? LIMIT 1`).get(...OPEN_STATUSES, snapshotId);
    return row !== undefined;
  }

  /**
   * The names taken among `base` and `base #2`, `base #3`… — all a new run's default name has to
   * avoid — read through runs_by_name as a key range, not by reading every run.
   */
  namesNumberedFrom(base: string): Set<string> {
    const prefix = `${base} #`;
    const end = `${base} $`; // '$' follows '#': the range holds exactly the names starting with prefix
    const rows = this.db.prepare('SELECT name FROM runs WHERE name = ? OR (name >= ? AND name < ?)').pluck().all(base, prefix, end) as string[];
    return new Set(rows);
  }

  /** The run named exactly `name`, other than `exceptId`, if any (names are unique). */
  namedOtherThan(name: string, exceptId: string): Run | undefined {
    const row = this.db.prepare(`${selectRun} WHERE runs.name = ? AND runs.id != ? LIMIT 1`).get(name, exceptId) as RunRow | undefined;
    return row ? toRun(row) : undefined;
  }

  /** The eval runs launched after `parentId` (a train run), newest first. */
  evalsOf(parentId: string): Run[] {
    return (this.db.prepare(`${selectRun} WHERE runs.parent_run_id = ? AND runs.kind = 'eval' ORDER BY runs.created_at DESC`).all(parentId) as RunRow[]).map(toRun);
  }

  /** A page of runs with their summaries, newest first, in one query (see run-list.ts). */
  summaries(filter: RunListFilter = {}): RunPage {
    return listRunSummaries(this.db, filter);
  }

  /** One run with its summary (the row a `runs` notification carries), or undefined when it is gone. */
  summary(id: string): RunSummary | undefined {
    return listRunSummaries(this.db, { ids: [id], limit: 1 }).runs[0];
  }

  /**
   * Moves a run to `to` if the status machine allows it; a no-op when it is already there.
   * Terminal states set `ended_at`; `running` sets `started_at` once.
   */
  setStatus(id: string, to: RunStatus, detail: { reason?: string | null; exitCode?: number | null } = {}): Run {
    return this.db.transaction(() => {
      const run = this.get(id);
      if (!run) throw new Error(`no run ${id}`);
      if (run.status === to) return run;
      if (!RunTransitions[run.status].includes(to)) throw new IllegalTransitionError(id, run.status, to);
      const now = Date.now();
      const terminal = isTerminal(to);
      this.db
        .prepare(
          `UPDATE runs SET status = ?, status_reason = ?, exit_code = coalesce(?, exit_code), updated_at = ?,
             started_at = CASE WHEN ? = 'running' THEN coalesce(started_at, ?) ELSE started_at END,
             ended_at = CASE WHEN ? THEN ? ELSE ended_at END,
             unreachable_since = CASE WHEN ? THEN NULL ELSE unreachable_since END
           WHERE id = ?`,
        )
        .run(to, detail.reason ?? null, detail.exitCode ?? null, now, to, now, terminal ? 1 : 0, now, terminal ? 1 : 0, id);
      return this.get(id) as Run;
    })();
  }

  /** The run whose output folder is `dir` (an absolute real path), if any. */
  findByOutputDir(dir: string): Run | undefined {
    const row = this.db.prepare(`${selectRun} WHERE runs.output_dir = ?`).get(dir) as RunRow | undefined;
    return row ? toRun(row) : undefined;
  }

  /**
   * The run that owns output folder `input.outputDir`, created from `input` when there is none —
   * atomically, so two ingests of one folder never make two runs. An import (explicit) clears
   * the folder's tombstone; the watcher must check `isDeletedOutput` before calling this.
   */
  ensureForOutputDir(input: NewRun & { outputDir: string }): { run: Run; created: boolean } {
    return this.db.transaction(() => {
      const existing = this.findByOutputDir(input.outputDir);
      if (existing) return { run: existing, created: false };
      if (input.source === 'import') this.clearDeletedOutput(input.outputDir);
      const run = this.create(input);
      // A run first seen already running started, as far as Keel can tell, when it was seen.
      if (run.status === 'running') this.db.prepare('UPDATE runs SET started_at = created_at WHERE id = ?').run(run.id);
      return { run: this.get(run.id) as Run, created: true };
    })();
  }

  /**
   * Points a run at its output folder (e.g. a launched run once its folder is known). Returns
   * false, changing nothing, when another run already owns that folder.
   */
  setOutputDir(id: string, dir: string | null): boolean {
    return this.db.transaction(() => {
      const owner = dir === null ? undefined : this.findByOutputDir(dir);
      if (owner && owner.id !== id) return false;
      this.db.prepare('UPDATE runs SET output_dir = ?, updated_at = ? WHERE id = ?').run(dir, Date.now(), id);
      return true;
    })();
  }

  /** The launch request recorded with the run (null for watched or imported runs). */
  launchSpec(id: string): unknown {
    const row = this.db.prepare('SELECT launch_json FROM runs WHERE id = ?').get(id) as { launch_json: string | null } | undefined;
    return row?.launch_json ? (JSON.parse(row.launch_json) as unknown) : null;
  }

  /** Gives run `id` a new name (the caller checks it is unique and well formed); returns the run. */
  rename(id: string, name: string): Run {
    this.db.prepare('UPDATE runs SET name = ?, updated_at = ? WHERE id = ?').run(name, Date.now(), id);
    const run = this.get(id);
    if (!run) throw new Error(`no run ${id}`);
    return run;
  }

  /** Why a run is where it is (e.g. "waiting for 2 free GPUs"), without a status change. */
  setStatusReason(id: string, reason: string | null): void {
    this.db.prepare('UPDATE runs SET status_reason = ?, updated_at = ? WHERE id = ?').run(reason, Date.now(), id);
  }

  /** Places (or un-places) a run on a host. */
  setHost(id: string, hostId: string | null): void {
    this.db.prepare('UPDATE runs SET host_id = ?, updated_at = ? WHERE id = ?').run(hostId, Date.now(), id);
  }

  /** Queued runs in the order the scheduler serves them: priority first, then first come. */
  queue(): Run[] {
    return (this.db.prepare(`${selectRun} WHERE runs.status = 'queued' ORDER BY runs.priority DESC, runs.created_at, runs.rowid`).all() as RunRow[]).map(toRun);
  }

  maxRetries(id: string): number {
    return (this.db.prepare('SELECT max_retries FROM runs WHERE id = ?').pluck().get(id) as number | undefined) ?? 0;
  }

  /** Marks the run's host unreachable since `since`, or reachable again when null. */
  setUnreachable(id: string, since: number | null): void {
    this.db
      .prepare('UPDATE runs SET unreachable_since = CASE WHEN ? IS NULL THEN NULL ELSE coalesce(unreachable_since, ?) END, updated_at = ? WHERE id = ?')
      .run(since, since, Date.now(), id);
  }

  /**
   * Marks that a step on the run's host outran its time-out since `since` (the host answers:
   * it is not unreachable), or clears it when null.
   */
  setTimedOut(id: string, since: number | null): void {
    this.db
      .prepare('UPDATE runs SET timed_out_since = CASE WHEN ? IS NULL THEN NULL ELSE coalesce(timed_out_since, ?) END, updated_at = ? WHERE id = ?')
      .run(since, since, Date.now(), id);
  }

  /**
   * Placement back-off: the run is not placed before `notBefore` (ms since epoch; null: at
   * once), after `busyRetries` consecutive times a GPU was found busy.
   */
  setBackoff(id: string, backoff: { notBefore: number | null; busyRetries: number }): void {
    this.db.prepare('UPDATE runs SET not_before = ?, busy_retries = ?, updated_at = ? WHERE id = ?').run(backoff.notBefore, backoff.busyRetries, Date.now(), id);
  }

  /** The run's placement back-off (see setBackoff). */
  backoff(id: string): { notBefore: number | null; busyRetries: number } {
    const row = this.db.prepare('SELECT not_before, busy_retries FROM runs WHERE id = ?').get(id) as { not_before: number | null; busy_retries: number } | undefined;
    return { notBefore: row?.not_before ?? null, busyRetries: row?.busy_retries ?? 0 };
  }

  /**
   * An import into run `id` begins: a running run becomes `incomplete` with reason
   * IMPORT_IN_PROGRESS (an interrupted one gets that reason back); a finished run is left as
   * it is. Call `finishImport` when the import is done; a daemon that stops in between leaves
   * the run for `interruptedImports` to find.
   */
  beginImport(id: string): Run {
    return this.db.transaction(() => {
      const run = this.get(id);
      if (!run) throw new Error(`no run ${id}`);
      if (run.status === 'incomplete') {
        this.setStatusReason(id, IMPORT_IN_PROGRESS);
        return this.get(id) as Run;
      }
      return RunTransitions[run.status].includes('incomplete') ? this.setStatus(id, 'incomplete', { reason: IMPORT_IN_PROGRESS }) : run;
    })();
  }

  /** The import into run `id` is done: a run `beginImport` made incomplete is `running` again (ingestion then settles it). */
  finishImport(id: string): Run {
    return this.db.transaction(() => {
      const run = this.get(id);
      if (!run) throw new Error(`no run ${id}`);
      return run.status === 'incomplete' && run.statusReason === IMPORT_IN_PROGRESS ? this.setStatus(id, 'running') : run;
    })();
  }

  /**
   * At daemon start, before any import begins: the runs an import left `incomplete` (the
   * daemon stopped mid-import), their reason now "import interrupted; run `keel import DIR`
   * again". Returns them (each call returns a run once).
   */
  interruptedImports(): Run[] {
    return this.db.transaction(() => {
      const rows = this.db.prepare(`${selectRun} WHERE runs.status = 'incomplete' AND runs.status_reason = ?`).all(IMPORT_IN_PROGRESS) as RunRow[];
      for (const r of rows) this.setStatusReason(r.id, `import interrupted; run \`keel import ${shellWord(r.output_dir ?? 'DIR')}\` again`);
      return rows.map((r) => this.get(r.id) as Run);
    })();
  }

  /**
   * Deletes run `id` and everything that hangs off it, in one transaction (see run-delete.ts).
   * Refuses with RunNotDeletableError while the run is active (unless `force`) or a model
   * alias points at one of its checkpoints. With `tombstone`, records the run's output folder
   * as deleted so the watcher does not re-create the run.
   */
  delete(id: string, opts: { force?: boolean; tombstone?: boolean } = {}): RunDeletion {
    return this.db.transaction(() => {
      const run = this.get(id);
      if (!run) throw new Error(`no run ${id}`);
      checkDeletable(this.db, run, opts.force ?? false);
      const removed = deleteRunRows(this.db, id);
      const tombstone = opts.tombstone && run.outputDir !== null ? run.outputDir : null;
      if (tombstone !== null) {
        this.db.prepare(`INSERT INTO deleted_outputs (path, run_id, run_name, deleted_at) VALUES (?, ?, ?, ?)
          ON CONFLICT (path) DO UPDATE SET run_id = excluded.run_id, run_name = excluded.run_name, deleted_at = excluded.deleted_at`)
          .run(tombstone, run.id, run.name, Date.now());
      }
      return { run, removed, tombstone };
    })();
  }

  /** True when `path` (a real path) is the output folder of a deleted run: the watcher must not make a run of it. */
  isDeletedOutput(path: string): boolean {
    return this.deletedOutput(path) !== undefined;
  }

  /** The tombstone of output folder `path`, if a deleted run left one. */
  deletedOutput(path: string): DeletedOutput | undefined {
    const row = this.db.prepare('SELECT path, run_id, run_name, deleted_at FROM deleted_outputs WHERE path = ?').get(path) as
      { path: string; run_id: string; run_name: string; deleted_at: number } | undefined;
    return row ? { path: row.path, runId: row.run_id, runName: row.run_name, deletedAt: row.deleted_at } : undefined;
  }

  /** Forgets the tombstone of `path` (an explicit import of the folder); true when there was one. */
  clearDeletedOutput(path: string): boolean {
    return this.db.prepare('DELETE FROM deleted_outputs WHERE path = ?').run(path).changes > 0;
  }
}

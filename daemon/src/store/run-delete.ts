/**
 * Deleting a run and everything that hangs off it, in one transaction: its metric series
 * and points, params, events, jobs, the cursors it and its jobs own (`run:<id>`,
 * `job:<id>`), lineage edges from or to it and its checkpoints, its checkpoint records
 * (files on disk are untouched), eval rows whose subject is one of them, and the blobs its
 * launch spec named (effective config, code manifest) that nothing else names. Runs it
 * parented keep living without a parent. Explicit deletes rather than ON DELETE cascades:
 * not every link is a foreign key (lineage edges, cursors, eval subjects), and the counts
 * go back to the user.
 */
import { isTerminal, type Run, type RunRemovalCounts } from '../protocol/index.ts';
import type { Db } from './db.ts';

/** What deleting a run removed, by kind of record (the wire shape of `runs/delete`). */
export type RunDeletionCounts = RunRemovalCounts;

/** An alias that blocks deleting a run: it points at one of the run's checkpoints. */
export interface BlockingAlias {
  alias: string;
  projectId: string | null;
  checkpointId: string;
  step: number | null;
}

/** Why a run cannot be deleted now. The message names the run and the next step. */
export class RunNotDeletableError extends Error {
  readonly reason: 'active' | 'aliased';
  readonly aliases: readonly BlockingAlias[];
  constructor(run: Run, reason: 'active' | 'aliased', aliases: readonly BlockingAlias[] = []) {
    super(reason === 'active'
      ? `run ${run.name} (${run.id}) is ${run.status}; stop it first with \`keel cancel ${run.id}\` (or delete it anyway with --force)`
      : `run ${run.name} (${run.id}) has a checkpoint a model alias points at: ${aliases.map((a) => `"${a.alias}" → ${a.checkpointId}${a.step === null ? '' : ` (step ${a.step})`}`).join(', ')}; ` +
        'point the alias at another checkpoint first (`keel tag CHECKPOINT ALIAS`), then delete the run');
    this.name = 'RunNotDeletableError';
    this.reason = reason;
    this.aliases = aliases;
  }
}

/**
 * True while a launched run may still have processes or a place in the queue. A watched or
 * imported run has neither (Keel only reads its folder): deleting it needs no cancel, and its
 * tombstone keeps the watcher from recording it again.
 */
export function isActiveRun(run: Run): boolean {
  return run.source === 'launch' && !isTerminal(run.status) && run.status !== 'incomplete';
}

function aliasesOnCheckpoints(db: Db, runId: string): BlockingAlias[] {
  return (db.prepare(`SELECT a.alias, a.project_id, a.checkpoint_id, c.step FROM model_aliases a JOIN checkpoints c ON c.id = a.checkpoint_id
    WHERE c.run_id = ? ORDER BY a.alias`).all(runId) as { alias: string; project_id: string | null; checkpoint_id: string; step: number | null }[])
    .map((r) => ({ alias: r.alias, projectId: r.project_id, checkpointId: r.checkpoint_id, step: r.step }));
}

/** Refuses (RunNotDeletableError) when `run` may not be deleted; see RunStore.delete. */
export function checkDeletable(db: Db, run: Run, force: boolean): void {
  if (isActiveRun(run) && !force) throw new RunNotDeletableError(run, 'active');
  const aliases = aliasesOnCheckpoints(db, run.id);
  if (aliases.length > 0) throw new RunNotDeletableError(run, 'aliased', aliases);
}

/** Removes the run `runId` and what hangs off it; call inside a transaction, after checkDeletable. */
export function deleteRunRows(db: Db, runId: string): RunDeletionCounts {
  const run = (sql: string, ...args: unknown[]): number => db.prepare(sql).run(...args).changes;
  // Temporary tables keep the id lists in SQL, whatever their length.
  db.exec('CREATE TEMP TABLE IF NOT EXISTS deleting_checkpoints (id TEXT PRIMARY KEY); DELETE FROM temp.deleting_checkpoints;');
  run('INSERT INTO temp.deleting_checkpoints SELECT id FROM checkpoints WHERE run_id = ?', runId);
  const subjects = `(subject_kind = 'run' AND subject_id = @runId) OR (subject_kind = 'checkpoint' AND subject_id IN (SELECT id FROM temp.deleting_checkpoints))`;
  run('DELETE FROM metric_rollups WHERE series_id IN (SELECT id FROM metric_series WHERE run_id = ?)', runId);
  const counts: RunDeletionCounts = {
    metricPoints: run('DELETE FROM metrics WHERE series_id IN (SELECT id FROM metric_series WHERE run_id = ?)', runId),
    metricSeries: run('DELETE FROM metric_series WHERE run_id = ?', runId),
    params: run('DELETE FROM run_params WHERE run_id = ?', runId),
    events: run('DELETE FROM events WHERE run_id = ?', runId),
    cursors: run("DELETE FROM cursors WHERE owner = 'run:' || @runId OR owner IN (SELECT 'job:' || id FROM jobs WHERE run_id = @runId)", { runId }),
    jobs: run('DELETE FROM jobs WHERE run_id = ?', runId),
    lineageEdges: run(`DELETE FROM lineage_edges WHERE (from_kind = 'run' AND from_id = @runId) OR (to_kind = 'run' AND to_id = @runId)
      OR (from_kind = 'checkpoint' AND from_id IN (SELECT id FROM temp.deleting_checkpoints))
      OR (to_kind = 'checkpoint' AND to_id IN (SELECT id FROM temp.deleting_checkpoints))`, { runId }),
    evals: run(`DELETE FROM evals WHERE ${subjects}`, { runId }),
    checkpoints: run('DELETE FROM checkpoints WHERE id IN (SELECT id FROM temp.deleting_checkpoints)'),
    childrenUnlinked: run('UPDATE runs SET parent_run_id = NULL, updated_at = ? WHERE parent_run_id = ?', Date.now(), runId),
  };
  const hashes = blobsNamedBy(db, runId);
  run('DELETE FROM runs WHERE id = ?', runId);
  counts.blobs = hashes.reduce((n, hash) => n + reclaimBlob(db, hash), 0);
  db.exec('DELETE FROM temp.deleting_checkpoints');
  return counts;
}

/** A blob hash as launch specs write them (`sha256:<hex>`, see track/hash/algorithm.ts). */
const BLOB_HASH = /\b[a-z0-9]+:[0-9a-f]{64}\b/g;

/** The blobs run `runId` names: its effective config column and every hash its launch spec holds. */
function blobsNamedBy(db: Db, runId: string): string[] {
  const row = db.prepare('SELECT effective_config_hash, launch_json FROM runs WHERE id = ?').get(runId) as { effective_config_hash: string | null; launch_json: string | null } | undefined;
  const found = new Set<string>(row?.launch_json?.match(BLOB_HASH) ?? []);
  if (row?.effective_config_hash) found.add(row.effective_config_hash);
  return [...found];
}

/**
 * Deletes blob `hash` unless a config, a code version, another run or a sweep still names it
 * (launch and sweep specs are JSON text: one that names it holds its text). Returns 1 when it went.
 */
function reclaimBlob(db: Db, hash: string): number {
  return db.prepare(`DELETE FROM blobs WHERE hash = @hash
    AND NOT EXISTS (SELECT 1 FROM configs WHERE content_hash = @hash)
    AND NOT EXISTS (SELECT 1 FROM code_versions WHERE patch_hash = @hash)
    AND NOT EXISTS (SELECT 1 FROM runs WHERE effective_config_hash = @hash OR instr(launch_json, @hash) > 0)
    AND NOT EXISTS (SELECT 1 FROM sweeps WHERE instr(spec_json, @hash) > 0)`).run({ hash }).changes;
}

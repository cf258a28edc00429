/**
 * One model, two locations. `trainer.save_model(output_dir)` writes the final model into the
 * output folder after the Trainer saved the same weights as `checkpoint-N/`. Those are not two
 * checkpoints: the output folder becomes a second location (role `final`) of `checkpoint-N`,
 * which is flagged as the run's final model. Recognised by the hash of the weight files only
 * (the folders differ in optimizer state, trainer_state.json, READMEs), and only when one
 * folder directly holds the other, so two unrelated folders with equal weights stay two
 * records. Works for local folders and `host:path` alike.
 */
import { dirname } from 'node:path/posix';
import { manifestHash, type ManifestEntry } from '../track/hash/manifest.ts';
import { isWeightFile } from '../track/ingest/weights.ts';
import type { Db } from './db.ts';

/**
 * The hash of a checkpoint's weight files (paths relative to the folder), from its stored
 * manifest — `{files: [...]}` (local) or a bare list (a remote host's manifest). Null when the
 * manifest lists no weight file or is not readable.
 */
export function weightsHashOf(manifest: unknown): string | null {
  const files = Array.isArray(manifest) ? manifest : (manifest as { files?: unknown } | null | undefined)?.files;
  if (!Array.isArray(files)) return null;
  const weights = files.filter((f): f is ManifestEntry =>
    typeof f === 'object' && f !== null && typeof (f as ManifestEntry).path === 'string' && typeof (f as ManifestEntry).hash === 'string'
    && typeof (f as ManifestEntry).size === 'number' && isWeightFile((f as ManifestEntry).path));
  if (weights.length === 0) return null;
  try {
    return manifestHash(weights.map((f) => ({ path: f.path, size: f.size, hash: f.hash })));
  } catch {
    return null;
  }
}

/** `host:/a/b` → ['host', '/a/b']; a local path → ['', path]. */
function splitHost(location: string): [string, string] {
  const m = /^([A-Za-z0-9._-]+):(\/.*)$/.exec(location);
  return m ? [m[1] as string, m[2] as string] : ['', location];
}

/** True when `outer` is the folder that directly holds `inner` (same host). */
export function directlyHolds(outer: string, inner: string): boolean {
  const [h1, p1] = splitHost(outer.replace(/\/+$/, ''));
  const [h2, p2] = splitHost(inner.replace(/\/+$/, ''));
  return h1 === h2 && dirname(p2) === p1;
}

interface TwinRow {
  id: string;
  location: string;
  deleted_at: number | null;
  created_at: number;
}

/**
 * Makes `outer` (the output folder's final model) a location of `inner` (its `checkpoint-N`):
 * every reference to `outer` — evals, lineage edges, aliases and their history — now points at
 * `inner`, `inner` is flagged final, and `outer`'s row goes. Call inside a transaction.
 */
export function foldInto(db: Db, outer: TwinRow, inner: TwinRow): void {
  const run = (sql: string, ...args: unknown[]): void => {
    db.prepare(sql).run(...args);
  };
  run(`INSERT INTO checkpoint_locations (location, checkpoint_id, role, deleted_at, created_at) VALUES (?, ?, 'final', ?, ?)
    ON CONFLICT (location) DO UPDATE SET checkpoint_id = excluded.checkpoint_id, deleted_at = excluded.deleted_at`, outer.location, inner.id, outer.deleted_at, outer.created_at);
  run('UPDATE checkpoint_locations SET checkpoint_id = ? WHERE checkpoint_id = ?', inner.id, outer.id);
  run("UPDATE evals SET subject_id = ? WHERE subject_kind = 'checkpoint' AND subject_id = ?", inner.id, outer.id);
  run(`INSERT OR IGNORE INTO lineage_edges (from_kind, from_id, to_kind, to_id, type, created_at)
    SELECT from_kind, ?, to_kind, to_id, type, created_at FROM lineage_edges WHERE from_kind = 'checkpoint' AND from_id = ?`, inner.id, outer.id);
  run(`INSERT OR IGNORE INTO lineage_edges (from_kind, from_id, to_kind, to_id, type, created_at)
    SELECT from_kind, from_id, to_kind, ?, type, created_at FROM lineage_edges WHERE to_kind = 'checkpoint' AND to_id = ?`, inner.id, outer.id);
  run("DELETE FROM lineage_edges WHERE (from_kind = 'checkpoint' AND from_id = ?) OR (to_kind = 'checkpoint' AND to_id = ?)", outer.id, outer.id);
  run('UPDATE model_aliases SET checkpoint_id = ? WHERE checkpoint_id = ?', inner.id, outer.id);
  run('UPDATE alias_history SET checkpoint_id = ? WHERE checkpoint_id = ?', inner.id, outer.id);
  run('UPDATE alias_history SET previous_checkpoint_id = ? WHERE previous_checkpoint_id = ?', inner.id, outer.id);
  run('UPDATE checkpoints SET final = 1 WHERE id = ?', inner.id);
  run('DELETE FROM checkpoints WHERE id = ?', outer.id);
}

/**
 * Folds `id` with its twin in the same run, if it has one (see the module comment). Returns
 * the id of the record that remains (the inner `checkpoint-N`).
 */
export function foldTwins(db: Db, id: string): string {
  const me = db.prepare('SELECT id, location, run_id, weights_hash, deleted_at, created_at FROM checkpoints WHERE id = ?').get(id) as
    (TwinRow & { run_id: string | null; weights_hash: string | null }) | undefined;
  if (me?.run_id == null || me.weights_hash === null) return id;
  const twins = db.prepare('SELECT id, location, deleted_at, created_at FROM checkpoints WHERE run_id = ? AND weights_hash = ? AND id != ?')
    .all(me.run_id, me.weights_hash, me.id) as TwinRow[];
  for (const twin of twins) {
    if (directlyHolds(me.location, twin.location)) {
      foldInto(db, me, twin);
      return twin.id;
    }
    if (directlyHolds(twin.location, me.location)) {
      foldInto(db, twin, me);
      return me.id;
    }
  }
  return id;
}

/**
 * The schema change of the fidelity work ("the record matches the tools"), as one
 * self-contained migration: append it anywhere after version 2. Its steps:
 *
 *  1. columns and tables: metric aliases and disagreement counts per series, precision and
 *     source per point, `run_summary` (end-of-run values), checkpoint `deleted_at` /
 *     `weights_hash` / `final` and `checkpoint_locations`, `models` and `model_locations`;
 *  2. metric identity: in runs read from HF Trainer files, series named as trainer_state.json
 *     names them (`loss`, `eval_loss`) are renamed to their canonical key (`train/loss`,
 *     `eval/loss`) and merged with the event files' series of the same quantity (the float64
 *     value wins a step both have); end-of-run values leave the series for `run_summary`;
 *  3. base models that were stored as run-less "unknown" checkpoints become model records, one
 *     per model however it was spelled (relative paths resolved against the project root);
 *  4. checkpoints get their weights hash from their stored manifest; the output folder's final
 *     model that holds a `checkpoint-N`'s weights becomes that checkpoint's second location;
 *  5. data lineage of launched runs: datasets shipped to a run whose config names none are
 *     linked as `shipped_data`; datasets its config does not name are unlinked.
 */
import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { hfTensorBoardName, isSummaryKey, MetricSourceCodes, sameReading } from '../track/formats/metric-names.ts';
import { foldTwins, weightsHashOf } from './checkpoint-twins.ts';
import type { Db } from './db.ts';
import { newId } from './ids.ts';
import type { Migration } from './migrate.ts';

const SCHEMA = `
ALTER TABLE metric_series ADD COLUMN aliases_json TEXT;
ALTER TABLE metric_series ADD COLUMN disagreements INTEGER NOT NULL DEFAULT 0;
ALTER TABLE metric_series ADD COLUMN sources INTEGER NOT NULL DEFAULT 0;
ALTER TABLE metrics ADD COLUMN bits INTEGER;
ALTER TABLE metrics ADD COLUMN source INTEGER;

CREATE TABLE run_summary (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value REAL,
  step INTEGER,
  bits INTEGER,
  source INTEGER,
  aliases_json TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

ALTER TABLE checkpoints ADD COLUMN deleted_at INTEGER;
ALTER TABLE checkpoints ADD COLUMN weights_hash TEXT;
ALTER TABLE checkpoints ADD COLUMN final INTEGER NOT NULL DEFAULT 0;
CREATE INDEX checkpoints_by_weights ON checkpoints(run_id, weights_hash);

CREATE TABLE checkpoint_locations (
  location TEXT PRIMARY KEY,
  checkpoint_id TEXT NOT NULL REFERENCES checkpoints(id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('final')),
  deleted_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX checkpoint_locations_by_checkpoint ON checkpoint_locations(checkpoint_id);

CREATE TABLE models (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('local', 'hub', 'path')),
  ref TEXT NOT NULL,
  revision TEXT NOT NULL DEFAULT '',
  hash TEXT,
  created_at INTEGER NOT NULL,
  UNIQUE (kind, ref, revision)
);
CREATE INDEX models_by_hash ON models(hash);

CREATE TABLE model_locations (
  location TEXT PRIMARY KEY,
  model_id TEXT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  seen_at INTEGER NOT NULL
);
CREATE INDEX model_locations_by_model ON model_locations(model_id);
`;

/** Files only the HF Trainer writes: a run with one of them named its metrics the Trainer's way. */
const HF_FILE = /(^|\/)(trainer_state\.json|(all|train|eval|test|predict)_results\.json)$/;
/** Keys only `*_results.json` carries: end-of-run values. */
const RESULTS_ONLY = /^((train|eval|test|predict)_samples|.*_mem_.*_delta)$/;

interface SeriesRow { id: number; run_id: string; key: string }

/** Step 2 (see the module comment). */
function canonicalMetrics(db: Db): void {
  const hfRuns = new Set((db.prepare("SELECT owner, file FROM cursors WHERE owner LIKE 'run:%'").all() as { owner: string; file: string }[])
    .filter((c) => HF_FILE.test(c.file)).map((c) => c.owner.slice(4)));
  const series = db.prepare('SELECT id, run_id, key FROM metric_series ORDER BY run_id, id').all() as SeriesRow[];
  const trainerNamed = (s: SeriesRow): boolean => hfRuns.has(s.run_id) && !/^(train|eval|test)\//.test(s.key);
  // Precision and source first, for every series, so merging below sees them all.
  for (const s of series) {
    if (!hfRuns.has(s.run_id)) continue;
    const [bits, source] = trainerNamed(s) ? [64, MetricSourceCodes.trainer_state] : [32, MetricSourceCodes.tfevents];
    db.prepare('UPDATE metrics SET bits = ?, source = ? WHERE series_id = ?').run(bits, source, s.id);
    db.prepare('UPDATE metric_series SET sources = ? WHERE id = ?').run(1 << source, s.id);
  }
  for (const s of series) {
    const fromJson = trainerNamed(s);
    const canonical = fromJson ? hfTensorBoardName(s.key) : s.key;
    if (isSummaryKey(canonical) || (fromJson && RESULTS_ONLY.test(s.key))) toSummary(db, s, canonical, fromJson);
    else if (canonical !== s.key) mergeSeries(db, s, canonical);
  }
}

/** Moves a series' last value into run_summary (a float64 one wins over a float32 one) and drops the series. */
function toSummary(db: Db, s: SeriesRow, key: string, fromJson: boolean): void {
  const last = db.prepare('SELECT step, value FROM metrics WHERE series_id = ? ORDER BY step DESC LIMIT 1').get(s.id) as { step: number; value: number | null } | undefined;
  if (last !== undefined) {
    const existing = db.prepare('SELECT bits FROM run_summary WHERE run_id = ? AND key = ?').get(s.run_id, key) as { bits: number } | undefined;
    const bits = fromJson ? 64 : 32;
    const aliases = key === s.key ? null : JSON.stringify([s.key]);
    if (existing === undefined || existing.bits < bits) {
      db.prepare(`INSERT INTO run_summary (run_id, key, value, step, bits, source, aliases_json, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, step = excluded.step, bits = excluded.bits, source = excluded.source,
          aliases_json = coalesce(excluded.aliases_json, aliases_json)`)
        .run(s.run_id, key, last.value, last.step, bits, fromJson ? MetricSourceCodes.trainer_state : MetricSourceCodes.tfevents, aliases, Date.now());
    } else if (aliases !== null) {
      db.prepare('UPDATE run_summary SET aliases_json = ? WHERE run_id = ? AND key = ?').run(aliases, s.run_id, key);
    }
  }
  db.prepare('DELETE FROM metrics WHERE series_id = ?').run(s.id);
  db.prepare('DELETE FROM metric_series WHERE id = ?').run(s.id);
}

/** Renames series `s` (trainer_state.json's name) to `key`, merging it into the series already under that key. */
function mergeSeries(db: Db, s: SeriesRow, key: string): void {
  const target = db.prepare('SELECT id FROM metric_series WHERE run_id = ? AND key = ?').get(s.run_id, key) as { id: number } | undefined;
  if (target === undefined) {
    db.prepare('UPDATE metric_series SET key = ?, aliases_json = ? WHERE id = ?').run(key, JSON.stringify([s.key]), s.id);
    return;
  }
  let disagreements = 0;
  const shared = db.prepare(`SELECT a.step, a.value AS mine, b.value AS theirs, a.wall_time AS wall FROM metrics a JOIN metrics b ON b.series_id = ? AND b.step = a.step
    WHERE a.series_id = ?`).all(target.id, s.id) as { step: number; mine: number | null; theirs: number | null; wall: number | null }[];
  for (const p of shared) {
    if (!sameReading(p.mine ?? NaN, p.theirs ?? NaN)) disagreements++;
    db.prepare('UPDATE metrics SET value = ?, bits = 64, source = ?, wall_time = coalesce(wall_time, ?) WHERE series_id = ? AND step = ?')
      .run(p.mine, MetricSourceCodes.trainer_state, p.wall, target.id, p.step);
  }
  db.prepare('DELETE FROM metrics WHERE series_id = ? AND step IN (SELECT step FROM metrics WHERE series_id = ?)').run(s.id, target.id);
  db.prepare('UPDATE metrics SET series_id = ? WHERE series_id = ?').run(target.id, s.id);
  db.prepare(`UPDATE metric_series SET
      points = (SELECT count(*) FROM metrics WHERE series_id = @id),
      first_step = (SELECT min(step) FROM metrics WHERE series_id = @id),
      last_step = (SELECT max(step) FROM metrics WHERE series_id = @id),
      min_value = (SELECT min(value) FROM metrics WHERE series_id = @id),
      max_value = (SELECT max(value) FROM metrics WHERE series_id = @id),
      last_value = (SELECT value FROM metrics WHERE series_id = @id ORDER BY step DESC LIMIT 1),
      aliases_json = @aliases, disagreements = disagreements + @disagreements,
      sources = sources | (SELECT sources FROM metric_series WHERE id = @merged)
    WHERE id = @id`).run({ id: target.id, aliases: JSON.stringify([s.key]), disagreements, merged: s.id });
  db.prepare('DELETE FROM metric_series WHERE id = ?').run(s.id);
}

interface RefRow { id: string; location: string; created_at: number }

/** Step 3 (see the module comment). */
function baseModelRecords(db: Db): void {
  const refs = db.prepare(`SELECT id, location, created_at FROM checkpoints WHERE run_id IS NULL AND kind = 'unknown' AND hash IS NULL
    AND manifest_json IS NULL AND id NOT IN (SELECT checkpoint_id FROM model_aliases)`).all() as RefRow[];
  for (const r of refs) {
    const roots = db.prepare(`SELECT DISTINCT p.root FROM lineage_edges e JOIN runs ON runs.id = e.to_id JOIN projects p ON p.id = runs.project_id
      WHERE e.from_kind = 'checkpoint' AND e.from_id = ? AND e.to_kind = 'run'`).pluck().all(r.id) as string[];
    const { kind, ref } = classify(r.location, roots);
    let modelId = db.prepare("SELECT id FROM models WHERE kind = ? AND ref = ? AND revision = ''").pluck().get(kind, ref) as string | undefined;
    if (modelId === undefined) {
      modelId = newId('mdl');
      db.prepare("INSERT INTO models (id, kind, ref, revision, hash, created_at) VALUES (?, ?, ?, '', NULL, ?)").run(modelId, kind, ref, r.created_at);
    }
    for (const location of new Set([r.location, ref])) {
      db.prepare('INSERT OR IGNORE INTO model_locations (location, model_id, seen_at) VALUES (?, ?, ?)').run(location, modelId, r.created_at);
    }
    db.prepare(`INSERT OR IGNORE INTO lineage_edges (from_kind, from_id, to_kind, to_id, type, created_at)
      SELECT 'model', ?, to_kind, to_id, type, created_at FROM lineage_edges WHERE from_kind = 'checkpoint' AND from_id = ?`).run(modelId, r.id);
    db.prepare("DELETE FROM lineage_edges WHERE (from_kind = 'checkpoint' AND from_id = ?) OR (to_kind = 'checkpoint' AND to_id = ?)").run(r.id, r.id);
    db.prepare("UPDATE evals SET subject_kind = 'model', subject_id = ? WHERE subject_kind = 'checkpoint' AND subject_id = ?").run(modelId, r.id);
    db.prepare('DELETE FROM checkpoints WHERE id = ?').run(r.id);
  }
}

/** A base model reference as the migration can judge it without hashing: a local folder, a path elsewhere, or a hub id. */
function classify(location: string, roots: readonly string[]): { kind: 'local' | 'hub' | 'path'; ref: string } {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  if (isAbsolute(location)) return existsSync(location) ? { kind: 'local', ref: real(location) } : { kind: 'path', ref: location };
  if (/^[A-Za-z0-9._-]+:\//.test(location)) return { kind: 'path', ref: location };
  for (const root of roots) {
    const candidate = resolve(root, location);
    if (existsSync(candidate)) return { kind: 'local', ref: real(candidate) };
  }
  return { kind: 'hub', ref: location.replace(/\/+$/, '') };
}

/** Step 4 (see the module comment). */
function checkpointWeights(db: Db): void {
  const rows = db.prepare('SELECT id, manifest_json FROM checkpoints WHERE manifest_json IS NOT NULL').all() as { id: string; manifest_json: string }[];
  for (const r of rows) {
    let manifest: unknown;
    try {
      manifest = JSON.parse(r.manifest_json);
    } catch {
      continue;
    }
    db.prepare('UPDATE checkpoints SET weights_hash = ? WHERE id = ?').run(weightsHashOf(manifest), r.id);
  }
  db.prepare('UPDATE checkpoints SET final = 1 WHERE run_id IS NOT NULL AND location = (SELECT output_dir FROM runs WHERE runs.id = checkpoints.run_id)').run();
  for (const r of rows) {
    if (db.prepare('SELECT 1 FROM checkpoints WHERE id = ?').get(r.id) !== undefined) foldTwins(db, r.id);
  }
}

/** Step 5 (see the module comment). */
function launchedRunData(db: Db): void {
  const runs = db.prepare("SELECT id, config_id FROM runs WHERE source = 'launch'").all() as { id: string; config_id: string | null }[];
  for (const run of runs) {
    const named = run.config_id === null ? [] : db.prepare(`SELECT DISTINCT v.dataset_id FROM lineage_edges e JOIN dataset_versions v ON v.id = e.from_id
      WHERE e.to_kind = 'config' AND e.to_id = ? AND e.type = 'references' AND e.from_kind = 'dataset_version'`).pluck().all(run.config_id) as string[];
    if (named.length === 0) {
      db.prepare(`INSERT OR IGNORE INTO lineage_edges (from_kind, from_id, to_kind, to_id, type, created_at)
        SELECT from_kind, from_id, to_kind, to_id, 'shipped_data', created_at FROM lineage_edges WHERE to_kind = 'run' AND to_id = ? AND type = 'used_data'`).run(run.id);
      db.prepare("DELETE FROM lineage_edges WHERE to_kind = 'run' AND to_id = ? AND type = 'used_data'").run(run.id);
      continue;
    }
    db.prepare(`DELETE FROM lineage_edges WHERE to_kind = 'run' AND to_id = ? AND type = 'used_data' AND from_kind = 'dataset_version'
      AND from_id NOT IN (SELECT id FROM dataset_versions WHERE dataset_id IN (SELECT value FROM json_each(?)))`).run(run.id, JSON.stringify(named));
  }
}

/** The migration to append to migrations.ts. */
export const fidelityMigration: Migration = {
  title: 'one series per quantity, summary values, checkpoint lifecycle, model records, precise data lineage',
  steps: [SCHEMA, canonicalMetrics, baseModelRecords, checkpointWeights, launchedRunData],
};

/**
 * An existing keel.db, written before the fidelity migration the way the old ingester wrote
 * a Trainer run (trainer_state.json's `loss` beside the event file's `train/loss`, a one-point
 * `train/train_runtime` curve, the base model as a run-less "unknown" checkpoint), opens as one
 * series per quantity, a summary value and a model record. The migration is found by identity,
 * not by number: another migration may be appended before or after it.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { EdgeTypes, Store } from './index.ts';
import { migrate } from './migrate.ts';
import { fidelityMigration } from './migration-fidelity.ts';
import { migrations } from './migrations.ts';

/** trainer_state.json's float64 losses and TensorBoard's float32 copies of them. */
const LOSS: [number, number][] = [[5, 3.404262924194336], [10, 3.1918731689453125], [15, 2.9876543210987654]];

function insertSeries(db: Database.Database, runId: string, key: string, points: [number, number][]): void {
  const values = points.map((p) => p[1]);
  const id = Number(db.prepare(`INSERT INTO metric_series (run_id, key, points, first_step, last_step, last_value, min_value, max_value, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(runId, key, points.length, points[0]?.[0], points.at(-1)?.[0], points.at(-1)?.[1], Math.min(...values), Math.max(...values), 1).lastInsertRowid);
  for (const [step, value] of points) db.prepare('INSERT INTO metrics (series_id, step, value, wall_time) VALUES (?, ?, ?, ?)').run(id, step, value, 1.7e9 + step);
}

/** A database at the schema just before the fidelity migration, holding one Trainer run as the old ingester stored it. */
function writeOldDatabase(file: string): void {
  const db = new Database(file);
  const at = migrations.indexOf(fidelityMigration);
  assert.ok(at > 0, 'the fidelity migration is in the list');
  migrate(db, file, migrations.slice(0, at));
  db.prepare("INSERT INTO projects (id, name, root, created_at, updated_at) VALUES ('prj_1', 'p', '/nowhere/p', 1, 1)").run();
  db.prepare(`INSERT INTO runs (id, project_id, name, status, source, output_dir, created_at, updated_at)
    VALUES ('run_1', 'prj_1', 'lora', 'succeeded', 'import', '/nowhere/p/outputs/lora', 1, 1)`).run();
  db.prepare("INSERT INTO cursors (owner, file, byte_offset, updated_at) VALUES ('run:run_1', '/nowhere/p/outputs/lora/checkpoint-60/trainer_state.json', 10, 1)").run();
  insertSeries(db, 'run_1', 'loss', LOSS);
  insertSeries(db, 'run_1', 'train/loss', LOSS.map(([s, v]) => [s, Math.fround(v)]));
  insertSeries(db, 'run_1', 'eval_loss', [[20, 3.1131629943847656]]);
  insertSeries(db, 'run_1', 'train/train_runtime', [[60, 7.769]]);
  db.prepare(`INSERT INTO checkpoints (id, run_id, step, location, hash, kind, created_at)
    VALUES ('ckpt_base', NULL, NULL, 'meta-llama/Llama-3.2-1B', NULL, 'unknown', 1)`).run();
  db.prepare(`INSERT INTO lineage_edges (from_kind, from_id, to_kind, to_id, type, created_at)
    VALUES ('checkpoint', 'ckpt_base', 'run', 'run_1', 'base_model', 1)`).run();
  db.close();
}

describe('the fidelity migration on an existing database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-migrate-fidelity-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'keel.db');
  writeOldDatabase(file);
  const store = new Store(file);
  after(() => store.close());

  it('reaches the latest schema', () => {
    assert.equal(store.schemaVersion(), migrations.length);
  });

  it('merges trainer_state.json\'s loss into train/loss: one series, the float64 values, the old name an alias', () => {
    assert.deepEqual(store.metrics.series('run_1').map((s) => s.key).sort(), ['eval/loss', 'train/loss']);
    assert.deepEqual(store.metrics.points('run_1', 'train/loss').map((p) => [p.step, p.value]), LOSS);
    assert.deepEqual(store.metrics.seriesSummary('run_1', 'train/loss')?.aliases, ['loss']);
    assert.deepEqual(store.metrics.seriesSummary('run_1', 'eval/loss')?.aliases, ['eval_loss']);
  });

  it('moves the one-point end-of-run curve into the run\'s summary values', () => {
    assert.deepEqual(store.summaries.list('run_1').map((v) => [v.key, v.value, v.step]), [['train/train_runtime', 7.769, 60]]);
  });

  it('turns the base model "checkpoint" into a model record linked to the run', () => {
    assert.equal(store.checkpoints.byLocation('meta-llama/Llama-3.2-1B'), undefined);
    const model = store.baseModels.byLocation('meta-llama/Llama-3.2-1B');
    assert.deepEqual([model?.kind, model?.ref], ['hub', 'meta-llama/Llama-3.2-1B']);
    assert.deepEqual(store.lineage.incoming({ kind: 'run', id: 'run_1' }).map((e) => [e.fromKind, e.fromId, e.type]), [['model', model?.id, EdgeTypes.BaseModel]]);
  });
});

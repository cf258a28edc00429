import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store, StoreOpenError } from './index.ts';
import { migrations } from './migrations.ts';
import { IllegalTransitionError } from './runs.ts';

describe('store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-store-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const open = (name: string): Store => new Store(join(dir, name));

  it('migrates a new file to the latest schema with WAL and foreign keys on', () => {
    const s = open('new.db');
    assert.equal(s.schemaVersion(), migrations.length);
    s.close();
    const raw = new Database(join(dir, 'new.db'));
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    const tables = (raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]).sort();
    for (const t of ['projects', 'datasets', 'dataset_versions', 'configs', 'code_versions', 'runs', 'metrics', 'metric_series', 'checkpoints', 'evals', 'lineage_edges', 'model_aliases', 'alias_history', 'hosts', 'jobs', 'cursors', 'events', 'sweeps']) {
      assert.ok(tables.includes(t), `table ${t}`);
    }
    raw.close();
  });

  it('reopening applies no migration twice and keeps data', () => {
    const s = open('reopen.db');
    s.projects.upsert('/p', 'p', { name: 'p' }, []);
    s.close();
    const again = open('reopen.db');
    assert.equal(again.projects.list().length, 1);
    assert.equal(again.integrityCheck(), 'ok');
    again.close();
    again.close(); // closing twice is harmless
  });

  it('refuses a file that is not a database and leaves it untouched', () => {
    const file = join(dir, 'garbage.db');
    writeFileSync(file, 'hello, not sqlite'.repeat(100));
    assert.throws(() => new Store(file), (e: unknown) => e instanceof StoreOpenError && e.code === 'E_STORE_CORRUPT');
  });

  it('refuses a database from a newer Keel', () => {
    const file = join(dir, 'newer.db');
    const raw = new Database(file);
    raw.pragma(`user_version = ${migrations.length + 5}`);
    raw.close();
    assert.throws(() => new Store(file), (e: unknown) => e instanceof StoreOpenError && e.code === 'E_STORE_TOO_NEW');
  });

  it('keeps NaN and ±Infinity in metrics, upserts on (step, key), and summarises', () => {
    const s = open('metrics.db');
    const run = s.runs.create({ projectId: null, source: 'import' });
    s.metrics.record(run.id, [
      { key: 'loss', step: 1, value: 2.5 },
      { key: 'loss', step: 2, value: Number.NaN },
      { key: 'loss', step: 3, value: Infinity },
      { key: 'loss', step: 4, value: -Infinity },
      { key: 'loss', step: 5, value: 1.25, wallTime: 1700000000.5 },
    ]);
    s.metrics.record(run.id, [{ key: 'loss', step: 1, value: 2.0 }]);
    const pts = s.metrics.points(run.id, 'loss');
    assert.deepEqual(pts.map((p) => [p.step, p.value, p.special ?? null]), [
      [1, 2.0, null], [2, null, 'nan'], [3, null, 'inf'], [4, null, '-inf'], [5, 1.25, null],
    ]);
    assert.equal(pts[4]?.wallTime, 1700000000.5);
    const [series] = s.metrics.series(run.id);
    assert.equal(series?.points, 5, 'the re-recorded step is not counted twice');
    assert.equal(series?.firstStep, 1);
    assert.equal(series?.lastStep, 5);
    assert.equal(series?.lastValue, 1.25);
    assert.equal(series?.min, -Infinity);
    assert.equal(series?.max, Infinity);
    s.close();
  });

  it('enforces the run status machine', () => {
    const s = open('runs.db');
    const run = s.runs.create({ projectId: null, source: 'launch' });
    assert.equal(run.status, 'queued');
    s.runs.setStatus(run.id, 'syncing');
    s.runs.setStatus(run.id, 'starting');
    const running = s.runs.setStatus(run.id, 'running');
    assert.ok(running.startedAt);
    s.runs.setUnreachable(run.id, 1000);
    assert.equal(s.runs.get(run.id)?.unreachableSince, 1000);
    s.runs.setUnreachable(run.id, 2000);
    assert.equal(s.runs.get(run.id)?.unreachableSince, 1000, 'the first failure time is kept');
    const failed = s.runs.setStatus(run.id, 'failed', { exitCode: 3, reason: 'exit 3' });
    assert.equal(failed.exitCode, 3);
    assert.ok(failed.endedAt);
    assert.equal(failed.unreachableSince, null);
    assert.throws(() => s.runs.setStatus(run.id, 'running'), IllegalTransitionError);
    assert.equal(s.runs.find(run.id.slice(0, 8))?.id, run.id, 'unique id prefix resolves');
    s.close();
  });
});

describe('metric downsampling', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-ds-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps min and max per bucket, the ends, and NaN/Inf points', () => {
    const s = new Store(join(dir, 'ds.db'));
    const run = s.runs.create({ projectId: null, source: 'import' });
    const pts = [];
    for (let i = 0; i < 100_000; i++) pts.push({ key: 'loss', step: i, value: 1 + Math.sin(i / 100) });
    pts[50_000] = { key: 'loss', step: 50_000, value: 1000 };
    pts[70_000] = { key: 'loss', step: 70_000, value: Number.NaN };
    pts[80_000] = { key: 'loss', step: 80_000, value: Infinity };
    s.metrics.record(run.id, pts);
    const { points, total, downsampled } = s.metrics.downsample(run.id, 'loss', 1000);
    assert.equal(total, 100_000);
    assert.ok(downsampled);
    assert.ok(points.length <= 1000 + 4, `got ${points.length}`);
    assert.equal(points[0]?.step, 0);
    assert.equal(points.at(-1)?.step, 99_999);
    assert.ok(points.some((p) => p.step === 50_000 && p.value === 1000), 'the spike survives');
    assert.ok(points.some((p) => p.step === 70_000 && p.special === 'nan'), 'the NaN survives');
    assert.ok(points.some((p) => p.step === 80_000 && p.special === 'inf'), 'the Inf survives');
    for (let i = 1; i < points.length; i++) assert.ok((points[i]?.step ?? 0) > (points[i - 1]?.step ?? 0));
    const small = s.metrics.downsample(run.id, 'loss', 1000, { fromStep: 10, toStep: 20 });
    assert.deepEqual(small.points.map((p) => p.step), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    s.close();
  });
});

describe('model aliases', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-models-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('move with history, and re-tagging an earlier checkpoint rolls back', () => {
    const s = new Store(join(dir, 'models.db'));
    const run = s.runs.create({ projectId: null, source: 'import' });
    const a = s.checkpoints.upsert({ location: '/ckpt/a', kind: 'full', runId: run.id, step: 100 }).checkpoint;
    const b = s.checkpoints.upsert({ location: '/ckpt/b', kind: 'full', runId: run.id, step: 200 }).checkpoint;
    assert.deepEqual(s.models.tag(null, 'prod', a.id), { changed: true, previousCheckpointId: null });
    assert.deepEqual(s.models.tag(null, 'prod', b.id, 'better eval'), { changed: true, previousCheckpointId: a.id });
    assert.deepEqual(s.models.tag(null, 'prod', b.id), { changed: false, previousCheckpointId: b.id });
    assert.deepEqual(s.models.tag(null, 'prod', a.id, 'rollback'), { changed: true, previousCheckpointId: b.id });
    assert.equal(s.models.get(null, 'prod')?.checkpointId, a.id);
    assert.deepEqual(s.models.aliasesOf(a.id), ['prod']);
    assert.deepEqual(s.models.aliasesOf(b.id), []);
    assert.deepEqual(s.models.history(null, 'prod').map((h) => [h.checkpointId, h.previousCheckpointId, h.note]), [
      [a.id, b.id, 'rollback'], [b.id, a.id, 'better eval'], [a.id, null, null],
    ]);
    s.close();
  });
});

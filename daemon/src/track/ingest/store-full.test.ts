import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { Store } from '../../store/index.ts';
import { createHashPool, createMemoryHashCache, type HashPool } from '../hash/index.ts';
import { writeTrainerState } from '../../../../test/support/trainer-state.ts';
import { RunIngester } from './index.ts';
import { IngestStoppedError } from './ingest-stopped.ts';
import { useTempStore } from '../../../../test/support/temp-store.ts';

/** The store's own connection: SQLite's `max_page_count` is set per connection. */
function connectionOf(store: Store): Database.Database {
  return (store as unknown as { db: Database.Database }).db;
}

/** Every point of a run as `key@step=value` lines, sorted (NaN stored as NULL prints as null). */
function dump(store: Store, runId: string): string[] {
  const lines: string[] = [];
  for (const s of store.metrics.series(runId)) {
    for (const p of store.metrics.points(runId, s.key)) lines.push(`${s.key}@${p.step}=${p.value ?? p.special ?? 'null'}`);
  }
  return lines.sort();
}

describe('a store that cannot be written during an ingest (a real SQLITE_FULL)', () => {
  let pool: HashPool;
  let clean: Store;
  // clean.db lives in the temp store's dir: it closes (and the pool stops) before that dir goes.
  const { dir: tmp, store } = useTempStore('keel-full-', { closeFirst: async () => { clean.close(); await pool.close(); } });
  const dir = (): string => join(tmp, 'run');
  before(() => {
    mkdirSync(dir());
    writeTrainerState(join(dir(), 'trainer_state.json'), { entries: 60_000, keys: ['grad_norm', 'loss'], nanEvery: 500, finished: true });
    pool = createHashPool({ size: 1 });
    clean = new Store(join(tmp, 'clean.db'));
  });

  it('stops the ingest with E_IO naming the cause and the next step, leaves the run unfinished and its cursor unmoved, and calls onIngestStopped', async () => {
    const db = connectionOf(store);
    // Room for the run and a few batches of points, not for 120,000.
    db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 200}`);
    const stopped: { runId: string; reason: IngestStoppedError }[] = [];
    const ingester = new RunIngester({ store, hasher: pool, hashCache: createMemoryHashCache(), batchSize: 2_000, onIngestStopped: (runId, reason) => stopped.push({ runId, reason }) });
    await assert.rejects(ingester.ingestRunDir(dir(), { projectId: null, source: 'import' }), (err: unknown) => {
      assert.ok(err instanceof IngestStoppedError, String(err));
      assert.equal(err.code, 'E_IO');
      assert.equal(err.details.sqliteCode, 'SQLITE_FULL');
      assert.match(err.message, new RegExp(`^recording run run_\\w+ from ${dir()} stopped: the database could not be written \\(database or disk is full\\); the run was not marked finished\\. Free space on the disk holding ${tmp}, then run \`keel import ${dir()}\` again`));
      return true;
    });
    const run = store.runs.findByOutputDir(dir());
    assert.ok(run);
    assert.equal(run.status, 'incomplete', 'never succeeded with points missing: the import marked it incomplete when it began');
    assert.deepEqual(stopped.map((s) => [s.runId, s.reason.details.sqliteCode]), [[run.id, 'SQLITE_FULL']]);
    assert.equal(store.cursors.get(`run:${run.id}`, join(dir(), 'trainer_state.json')), undefined, 'the file will be read again');
    const written = store.metrics.series(run.id).reduce((n, s) => n + s.points, 0);
    assert.ok(written > 0 && written < 120_000, `${written} points before the disk filled`);
  });

  it('once there is room, importing again gives exactly the points of a clean import', async () => {
    connectionOf(store).pragma('max_page_count = 1073741823');
    const again = await new RunIngester({ store, hasher: pool, hashCache: createMemoryHashCache(), batchSize: 2_000 }).ingestRunDir(dir(), { projectId: null, source: 'import' });
    assert.deepEqual(again.issues, []);
    assert.equal(store.runs.get(again.runId)?.status, 'succeeded');
    const fresh = await new RunIngester({ store: clean, hasher: pool, hashCache: createMemoryHashCache() }).ingestRunDir(dir(), { projectId: null, source: 'import' });
    const got = dump(store, again.runId);
    // 60,000 entries × 2 keys, and the end-of-training entry's epoch; its other values are summary values.
    assert.equal(got.length, 120_001);
    assert.deepEqual(got, dump(clean, fresh.runId));
    assert.deepEqual(store.summaries.list(again.runId), clean.summaries.list(fresh.runId));
    assert.deepEqual(store.summaries.list(again.runId).map((v) => v.key), ['train/total_flos', 'train/train_loss', 'train/train_runtime']);
  });

  it('a write that fails mid-transaction leaves no stale series behind: the next write of those keys lands', () => {
    const small = new Store(join(tmp, 'small.db'));
    try {
      const run = small.runs.create({ projectId: null, source: 'import', name: 'x' });
      const db = connectionOf(small);
      db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 2}`);
      const many = Array.from({ length: 20_000 }, (_, i) => ({ key: `k${i % 50}`, step: i, value: i }));
      assert.throws(() => small.metrics.record(run.id, many), /database or disk is full/);
      assert.deepEqual(small.metrics.series(run.id), [], 'the transaction rolled back');
      db.pragma('max_page_count = 1073741823');
      small.metrics.record(run.id, many);
      assert.equal(small.metrics.series(run.id).length, 50);
      assert.equal(small.metrics.points(run.id, 'k7').length, 400);
    } finally {
      small.close();
    }
  });
});

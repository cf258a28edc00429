/**
 * Metric insert rate: 1M points in batches through the store (upsert + series summary)
 * vs. the same rows through a bare better-sqlite3 prepared INSERT in one transaction
 * (the floor under any design).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../daemon/src/store/index.ts';
import { fmt, median } from './support.ts';

const N = 1_000_000;
const KEYS = ['loss', 'learning_rate', 'grad_norm', 'eval_loss'];
const BATCH = 10_000;

function storeRate(): number {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-'));
  const store = new Store(join(dir, 'keel.db'));
  const run = store.runs.create({ projectId: null, source: 'import' });
  const t0 = performance.now();
  for (let start = 0; start < N; start += BATCH) {
    const batch = [];
    for (let i = start; i < start + BATCH; i++) batch.push({ key: KEYS[i % 4] as string, step: Math.floor(i / 4), value: Math.sin(i), wallTime: 1.7e9 + i });
    store.metrics.record(run.id, batch);
  }
  const ms = performance.now() - t0;
  store.close();
  rmSync(dir, { recursive: true, force: true });
  return N / (ms / 1000);
}

function bareRate(): number {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-'));
  const db = new Database(join(dir, 'bare.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE m (series INTEGER, step INTEGER, value REAL, wall REAL, PRIMARY KEY (series, step)) WITHOUT ROWID');
  const ins = db.prepare('INSERT INTO m VALUES (?, ?, ?, ?)');
  const t0 = performance.now();
  db.transaction(() => {
    for (let i = 0; i < N; i++) ins.run(i % 4, Math.floor(i / 4), Math.sin(i), 1.7e9 + i);
  })();
  const ms = performance.now() - t0;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return N / (ms / 1000);
}

const keel: number[] = [];
const bare: number[] = [];
for (let i = 0; i < 3; i++) {
  bare.push(bareRate());
  keel.push(storeRate());
}
const k = median(keel);
const b = median(bare);
console.log(`metric insert, 1M points (4 keys, batches of ${BATCH}), median of 3: store ${fmt(k, 0)} points/s; bare prepared INSERT in one transaction ${fmt(b, 0)} points/s; ratio ${fmt(k / b)}x`);

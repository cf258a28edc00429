import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MetricPoint } from '../protocol/index.ts';
import { Store } from './index.ts';
import { rollupLevel } from './metric-downsample.ts';
import { MetricSourceCodes } from '../track/formats/metric-names.ts';
import { useTempStore } from '../../../test/support/temp-store.ts';

const N = 200_000;
const wave = (i: number): number => Math.sin(i / 500) + (i % 7) / 100;

/** The rollup rows of a series, level by level, as stored. */
function rollupRows(file: string, runId: string, key: string): unknown[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`SELECT r.level, r.bucket, r.n, r.min_value, r.min_step, r.min_wall, r.max_value, r.max_step, r.max_wall FROM metric_rollups r
      JOIN metric_series s ON s.id = r.series_id WHERE s.run_id = ? AND s.key = ? ORDER BY r.level, r.bucket`).all(runId, key);
  } finally {
    db.close();
  }
}

/** Puts a series back in the state the scale migration leaves one recorded before it: no rollups, no best steps. */
function asBeforeRollups(file: string): void {
  const db = new Database(file);
  try {
    db.exec('DELETE FROM metric_rollups; UPDATE metric_series SET rollup_ready = 0, min_step = NULL, max_step = NULL');
  } finally {
    db.close();
  }
}

function ready(file: string, runId: string, key: string): boolean {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT rollup_ready FROM metric_series WHERE run_id = ? AND key = ?').pluck().get(runId, key) === 1;
  } finally {
    db.close();
  }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('metric rollups', () => {
  const temp = useTempStore('keel-rollups-');
  const { file } = temp;
  let { store } = temp;
  let runId: string;
  before(() => {
    runId = store.runs.create({ projectId: null, source: 'import', name: 'long' }).id;
    for (let start = 0; start < N; start += 10_000) {
      store.metrics.record(runId, Array.from({ length: 10_000 }, (_, j) => ({ key: 'loss', step: start + j, value: wave(start + j), wallTime: 1e9 + start + j })));
    }
  });

  it('picks the coarsest level still as fine as the buckets asked for', () => {
    assert.equal(rollupLevel(1_000_000, 999), 3, '1 M steps in 999 buckets: 256-step rollups (3,907 rows)');
    assert.equal(rollupLevel(10_000, 999), 0, '10 k steps in 999 buckets: finer than any level, the points are grouped');
    assert.equal(rollupLevel(100_000_000, 10), 8);
  });

  it('draws from rollups: each group keeps its true min and max, ends and zooms included', () => {
    const all = store.metrics.points(runId, 'loss');
    for (const range of [{}, { fromStep: 12_345, toStep: 187_654 }, { fromStep: 50_001 }, { toStep: 99_999 }]) {
      const lo = range.fromStep ?? 0;
      const hi = range.toStep ?? N - 1;
      const r = store.metrics.downsample(runId, 'loss', 1000, range);
      const where = JSON.stringify(range);
      assert.ok(r.downsampled && r.points.length <= 1000 && r.points.length >= 900, `${where}: ${r.points.length} points`);
      assert.equal(r.points[0]?.step, lo, `${where}: first point`);
      assert.equal(r.points.at(-1)?.step, hi, `${where}: last point`);
      for (const p of r.points) assert.deepEqual(p, all[p.step], `${where}: step ${p.step} is the stored point`);
      const inRange = all.slice(lo, hi + 1).map((p) => p.value as number);
      const shown = r.points.map((p) => p.value as number);
      const top = (xs: number[]): number => xs.reduce((a, b) => Math.max(a, b), -Infinity);
      const bottom = (xs: number[]): number => xs.reduce((a, b) => Math.min(a, b), Infinity);
      assert.equal(top(shown), top(inRange), `${where}: the range's max is drawn`);
      assert.equal(bottom(shown), bottom(inRange), `${where}: the range's min is drawn`);
      for (let i = 1; i < r.points.length; i++) assert.ok((r.points[i] as MetricPoint).step > (r.points[i - 1] as MetricPoint).step, `${where}: in order`);
    }
  });

  it('follows a point another file replaced (a spike read later at higher precision)', () => {
    store.metrics.record(runId, [{ key: 'loss', step: 77_777, value: 5, bits: 32 }], { source: MetricSourceCodes.tfevents });
    store.metrics.record(runId, [{ key: 'loss', step: 77_777, value: 9, bits: 64 }], { source: MetricSourceCodes.trainer_state });
    const r = store.metrics.downsample(runId, 'loss', 500);
    assert.equal(r.points.find((p) => p.step === 77_777)?.value, 9, 'the kept reading is the drawn one');
    store.metrics.record(runId, [{ key: 'loss', step: 77_777, value: wave(77_777), bits: 64 }], { source: MetricSourceCodes.trainer_state });
    assert.equal(store.metrics.downsample(runId, 'loss', 500).points.find((p) => p.step === 77_777), undefined, 'a spike written away is no longer drawn');
  });

  it('keeps the step of the best value on the series row, the first step of a tie', () => {
    store.metrics.record(runId, [{ key: 'acc', step: 10, value: 0.5 }, { key: 'acc', step: 20, value: 0.7 }, { key: 'acc', step: 30, value: 0.7 }]);
    store.metrics.record(runId, [{ key: 'acc', step: 5, value: 0.7 }, { key: 'acc', step: 40, value: 0.2 }]);
    assert.equal(store.metrics.stepOfBest(runId, 'acc', 'max'), 5);
    assert.equal(store.metrics.stepOfBest(runId, 'acc', 'min'), 40);
    store.metrics.record(runId, [{ key: 'acc', step: 50, value: 0.9 }]);
    assert.equal(store.metrics.stepOfBest(runId, 'acc', 'max'), 50);
    assert.equal(store.metrics.stepOfBest(runId, 'acc', 'min'), 40);
  });

  it('builds the rollups of a series recorded before them lazily, identical to ones kept on ingest', async () => {
    // Steps like timestamps: far apart, so slices must go by points, not by steps.
    store.metrics.record(runId, Array.from({ length: 5_000 }, (_, i) => ({ key: 'sparse', step: 1_700_000_000 + i * 60_000 + (i % 7), value: wave(i) })));
    const fresh = rollupRows(file, runId, 'loss');
    const freshSparse = rollupRows(file, runId, 'sparse');
    const drawn = store.metrics.downsample(runId, 'loss', 1000);
    const drawnSparse = store.metrics.downsample(runId, 'sparse', 300);
    const best = [store.metrics.stepOfBest(runId, 'loss', 'min'), store.metrics.stepOfBest(runId, 'acc', 'max')];
    store = temp.reopen(() => asBeforeRollups(file));
    assert.deepEqual(rollupRows(file, runId, 'loss'), []);
    const early = store.metrics.downsample(runId, 'loss', 1000);
    assert.ok(early.downsampled && early.points.length <= 1000, 'drawn from its points meanwhile');
    assert.ok(store.metrics.downsample(runId, 'sparse', 300).downsampled);
    await until(() => ready(file, runId, 'loss') && ready(file, runId, 'sparse'), 'the lazy build');
    assert.deepEqual(rollupRows(file, runId, 'loss'), fresh);
    assert.deepEqual(rollupRows(file, runId, 'sparse'), freshSparse);
    assert.deepEqual(store.metrics.downsample(runId, 'loss', 1000), drawn);
    assert.deepEqual(store.metrics.downsample(runId, 'sparse', 300), drawnSparse);
    assert.deepEqual([store.metrics.stepOfBest(runId, 'loss', 'min'), store.metrics.stepOfBest(runId, 'acc', 'max')], best, 'best steps found once for old series');
  });
});

describe('metric rollups kept on ingest from the points in hand', () => {
  it('equal rollups rebuilt from the stored points, whatever the writes: appends, steps written twice in a batch, late steps, NaN, ties, negative steps, a second file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-rollups-mixed-'));
    const file = join(dir, 'keel.db');
    let store = new Store(file);
    try {
      const runId = store.runs.create({ projectId: null, source: 'import', name: 'mixed' }).id;
      const pt = (step: number, value: number) => ({ key: 'mixed', step, value, wallTime: 1e9 + step });
      // Appends in uneven batches, every 5th step skipped (filled in later).
      for (let start = -40; start < 3_000; start += 333) {
        store.metrics.record(runId, Array.from({ length: 333 }, (_, j) => start + j).filter((s) => s % 5 !== 0).map((s) => pt(s, s % 11 === 0 ? NaN : Math.cos(s / 40))));
      }
      // Late steps into existing buckets, and a step twice in one batch (the second wins).
      store.metrics.record(runId, [pt(3_100, 7), pt(3_100, -7), ...Array.from({ length: 200 }, (_, i) => pt(i * 5, i % 2 ? 0.5 : -0.5))]);
      // Ties for min and max past the last step, then a reading of another kind of file over some of them.
      store.metrics.record(runId, Array.from({ length: 64 }, (_, i) => pt(4_000 + i, i % 3 === 0 ? 2 : -2)));
      store.metrics.record(runId, [{ key: 'mixed', step: 4_010, value: 3, bits: 64 }, { key: 'mixed', step: 5_000, value: 1, bits: 64 }], { source: MetricSourceCodes.tfevents });
      const kept = rollupRows(file, runId, 'mixed');
      assert.ok(kept.length > 200, `${kept.length} rollup rows`);
      store.close();
      asBeforeRollups(file);
      store = new Store(file);
      store.metrics.downsample(runId, 'mixed', 100); // starts the lazy build from the points
      await until(() => ready(file, runId, 'mixed'), 'the lazy build');
      assert.deepEqual(rollupRows(file, runId, 'mixed'), kept);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

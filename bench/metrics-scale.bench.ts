/**
 * Scale of metric views: what drawing a series and comparing runs cost against what is
 * stored. Figures, each a ratio within this run (medians of repeated calls on a warm store):
 *  - `metrics/get --max-points 1000` on a 100 k-point series vs reading all its points;
 *  - 2,000 points from a 1 M-point series vs 2,000 from a 10 k one, and vs reading all 1 M;
 *  - `runs/compare` of 20 runs × 5 keys at 100 k steps vs the same at 1 k steps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareRuns } from '../daemon/src/runs/compare.ts';
import { Store } from '../daemon/src/store/index.ts';
import { fmt, median } from './support.ts';

const BATCH = 10_000;

function record(store: Store, runId: string, keys: readonly string[], steps: number): void {
  for (let start = 0; start < steps; start += BATCH) {
    const batch = [];
    for (let i = start; i < Math.min(steps, start + BATCH); i++) {
      for (const [k, key] of keys.entries()) batch.push({ key, step: i, value: Math.sin(i / 97 + k) + ((i * 7919) % 101) / 1000, wallTime: 1.7e9 + i });
    }
    store.metrics.record(runId, batch);
  }
}

/** Median ms of `n` calls of `f`, after one warm-up call. */
function time(f: () => unknown, n = 15): number {
  f();
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    f();
    xs.push(performance.now() - t0);
  }
  return median(xs);
}

function drawing(dir: string): void {
  const store = new Store(join(dir, 'draw.db'));
  const run = store.runs.create({ projectId: null, source: 'import' }).id;
  const t0 = performance.now();
  for (const [key, n] of [['s10k', 10_000], ['s100k', 100_000], ['s1m', 1_000_000]] as const) record(store, run, [key], n);
  const ingest = performance.now() - t0;
  const ds100k = time(() => store.metrics.downsample(run, 's100k', 1000));
  const all100k = time(() => store.metrics.points(run, 's100k'));
  const ds10k = time(() => store.metrics.downsample(run, 's10k', 2000));
  const ds1m = time(() => store.metrics.downsample(run, 's1m', 2000));
  const all1m = time(() => store.metrics.points(run, 's1m'), 5);
  const zoom = time(() => store.metrics.downsample(run, 's1m', 2000, { fromStep: 123_457, toStep: 654_321 }));
  store.close();
  console.log(`ingest of 1.11 M points (one series per batch of ${BATCH}): ${fmt(ingest, 0)} ms (${fmt(1_110_000 / (ingest / 1000), 0)} points/s)`);
  console.log(`metrics/get max 1000 of a 100 k series: ${fmt(ds100k)} ms vs all its points ${fmt(all100k)} ms: ratio ${fmt(ds100k / all100k)}x`);
  console.log(`metrics/get max 2000: 1 M series ${fmt(ds1m)} ms vs 10 k series ${fmt(ds10k)} ms: ratio ${fmt(ds1m / ds10k)}x; vs reading all 1 M (${fmt(all1m)} ms): ratio ${fmt(ds1m / all1m, 3)}x`);
  console.log(`metrics/get max 2000, zoom on steps 123,457–654,321 of the 1 M series: ${fmt(zoom)} ms (${fmt(zoom / ds10k)}x the 10 k series)`);
}

function comparing(dir: string): void {
  const keys = ['train/loss', 'eval/loss', 'train/learning_rate', 'train/grad_norm', 'eval/accuracy'];
  const figures = [1_000, 100_000].map((steps) => {
    const store = new Store(join(dir, `compare-${steps}.db`));
    const runs = Array.from({ length: 20 }, () => store.runs.create({ projectId: null, source: 'import' }));
    for (const r of runs) record(store, r.id, keys, steps);
    const ms = time(() => compareRuns(store, runs), 9);
    store.close();
    return ms;
  });
  const [small, big] = figures as [number, number];
  console.log(`runs/compare 20 runs x 5 keys: 100 k steps ${fmt(big)} ms vs 1 k steps ${fmt(small)} ms: ratio ${fmt(big / small)}x`);
}

const dir = mkdtempSync(join(tmpdir(), 'keel-bench-scale-'));
try {
  drawing(dir);
  comparing(dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

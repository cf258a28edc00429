import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHashPool, createMemoryHashCache } from '../hash/index.ts';
import type { HashPool } from '../hash/index.ts';
import { RunIngester } from './index.ts';
import { REAL_FIXTURES } from '../../../../test/support/fixtures.ts';
import { useTempStore } from '../../../../test/support/temp-store.ts';

const fixtureRoot = REAL_FIXTURES;
const TRL_STATE = join(fixtureRoot, 'trainer_state', 'interrupted-trl-sft-peft_fine-tune-ai-model', 'fine_tuned_model', 'checkpoint-200', 'trainer_state.json');

const STEPS = 100_000;

/**
 * A trainer_state.json of 100,000 logged steps × 8 keys, shaped like the real TRL SFT file
 * (same top-level fields, same per-step keys plus two TRL-style keys).
 */
function bigTrainerState(): string {
  const real = JSON.parse(readFileSync(TRL_STATE, 'utf8')) as Record<string, unknown>;
  const history: Record<string, number>[] = [];
  for (let step = 1; step <= STEPS; step++) {
    history.push({
      epoch: step / 33333, grad_norm: 1 / step, learning_rate: 2e-5 * (1 - step / STEPS), loss: 10 / Math.sqrt(step),
      mean_token_accuracy: step / (step + 100), num_tokens: step * 4096, 'rewards/mean': Math.sin(step), kl: step * 1e-6, step,
    });
  }
  return JSON.stringify({ ...real, global_step: STEPS, max_steps: STEPS, log_history: history }, null, 2);
}

describe('RunIngester at scale', () => {
  const { dir: tmp, store } = useTempStore('keel-ingest-scale-', { closeFirst: () => pool.close() });
  let pool: HashPool;
  let ingester: RunIngester;
  before(() => {
    pool = createHashPool({ size: 1 });
    ingester = new RunIngester({ store, hasher: pool, hashCache: createMemoryHashCache() });
  });
  it('ingests a 100,000-step × 8-key trainer_state.json (800,000 points) and skips it when unchanged', async (t) => {
    const dir = join(tmp, 'big-run');
    mkdirSync(dir);
    const file = join(dir, 'trainer_state.json');
    writeFileSync(file, bigTrainerState());
    const mb = statSync(file).size / 1e6;
    let started = performance.now();
    const first = await ingester.ingestRunDir(dir, { projectId: null, source: 'watch' });
    const firstMs = performance.now() - started;
    assert.deepEqual([first.points, first.issues], [STEPS * 8, []]);
    assert.equal(store.metrics.series(first.runId).reduce((sum, s) => sum + s.points, 0), STEPS * 8);
    assert.equal(store.metrics.points(first.runId, 'train/loss', { fromStep: 40_000, toStep: 40_000 })[0]?.value, 10 / Math.sqrt(40_000));
    assert.equal(store.runs.get(first.runId)?.status, 'succeeded');

    started = performance.now();
    const unchanged = await ingester.ingestRunDir(dir, { projectId: null, source: 'watch' });
    const unchangedMs = performance.now() - started;
    assert.equal(unchanged.points, 0);

    // A rewrite (new mtime) re-reads the whole log_history and upserts every point again.
    const later = new Date(Date.now() + 5_000);
    utimesSync(file, later, later);
    started = performance.now();
    const reread = await ingester.ingestRunDir(dir, { projectId: null, source: 'watch' });
    const rereadMs = performance.now() - started;
    assert.equal(reread.points, STEPS * 8);
    assert.equal(store.metrics.series(first.runId).reduce((sum, s) => sum + s.points, 0), STEPS * 8);
    const rate = (ms: number): string => `${Math.round((STEPS * 8) / (ms / 1000)).toLocaleString('en-US')} points/s`;
    t.diagnostic(`trainer_state.json ${mb.toFixed(1)} MB: first ingest ${firstMs.toFixed(0)} ms (${rate(firstMs)}), unchanged ${unchangedMs.toFixed(1)} ms, re-read after rewrite ${rereadMs.toFixed(0)} ms (${rate(rereadMs)})`);
  });
});

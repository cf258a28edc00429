import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NotificationOf } from '../../protocol/index.ts';
import { createHashPool, createMemoryHashCache } from '../hash/index.ts';
import type { HashPool } from '../hash/index.ts';
import { publishPoints } from '../publish.ts';
import { RunIngester } from './index.ts';
import { REAL_FIXTURES } from '../../../../test/support/fixtures.ts';
import { useTempStore } from '../../../../test/support/temp-store.ts';

const fixtureRoot = REAL_FIXTURES;
const fixturePath = (...parts: string[]): string => join(fixtureRoot, ...parts);
const TRL = fixturePath('trainer_state', 'interrupted-trl-sft-peft_fine-tune-ai-model', 'fine_tuned_model');

describe('live metric notifications from ingest (what the compare panel draws while a run trains)', () => {
  const { dir: tmp, store } = useTempStore('keel-newpoints-', { closeFirst: () => pool.close() });
  let pool: HashPool;
  const notes: NotificationOf['metrics'][] = [];
  let ingester: RunIngester;
  before(() => {
    pool = createHashPool({ size: 1 });
    const publish = <T extends keyof NotificationOf>(topic: T, params: NotificationOf[T]): void => {
      if (topic === 'metrics') notes.push(params as NotificationOf['metrics']);
    };
    ingester = new RunIngester({
      store, hasher: pool, hashCache: createMemoryHashCache(), quietMs: 3_600_000,
      onNewPoints: (runId, points) => publishPoints(publish, runId, points),
    });
  });

  it('sends every point of a first ingest, one notification per key, with the values from trainer_state.json', async () => {
    const dir = join(tmp, 'trl');
    cpSync(TRL, dir, { recursive: true });
    chmodSync(join(dir, 'checkpoint-200'), 0o755);
    chmodSync(join(dir, 'checkpoint-200', 'trainer_state.json'), 0o644);
    const report = await ingester.ingestRunDir(dir, { projectId: null, source: 'import' });
    // Under the canonical key: trainer_state.json's `loss` is the curve TensorBoard calls `train/loss`.
    const loss = notes.filter((n) => n.key === 'train/loss');
    assert.equal(loss.length, 1);
    assert.equal(loss[0]?.runId, report.runId);
    assert.equal(loss[0]?.points.length, 20);
    assert.deepEqual(loss[0]?.points[0], { step: 10, value: 10.9959, wallTime: null });
    assert.deepEqual(loss[0]?.points.at(-1), { step: 200, value: 0.6604, wallTime: null });
    assert.equal(notes.find((n) => n.key === 'train/mean_token_accuracy')?.points.at(-1)?.value, 0.8661274537444115);
  });

  it('sends nothing when a rewritten trainer_state.json holds no new step, and only the new step when it grows', async () => {
    const file = join(tmp, 'trl', 'checkpoint-200', 'trainer_state.json');
    notes.length = 0;
    const later = new Date(Date.now() + 5_000);
    utimesSync(file, later, later);
    await ingester.ingestRunDir(join(tmp, 'trl'), { projectId: null, source: 'import' });
    assert.equal(notes.length, 0);

    const state = JSON.parse(readFileSync(file, 'utf8')) as { log_history: Record<string, number>[] };
    state.log_history.push({ epoch: 0.017, loss: 0.6401, step: 210 });
    writeFileSync(file, JSON.stringify(state));
    await ingester.ingestRunDir(join(tmp, 'trl'), { projectId: null, source: 'import' });
    assert.deepEqual(notes.map((n) => [n.key, n.points]), [
      ['train/epoch', [{ step: 210, value: 0.017, wallTime: null }]],
      ['train/loss', [{ step: 210, value: 0.6401, wallTime: null }]],
    ]);
  });

  it('carries NaN and infinities as `special`, since JSON has neither', () => {
    const got: NotificationOf['metrics'][] = [];
    publishPoints((_t, params) => got.push(params as NotificationOf['metrics']), 'run_x', [
      { key: 'loss', step: 1, value: Number.NaN }, { key: 'loss', step: 2, value: Infinity, wallTime: 1700000000000 },
    ]);
    assert.deepEqual(got, [{ runId: 'run_x', key: 'loss', points: [
      { step: 1, value: null, special: 'nan', wallTime: null }, { step: 2, value: null, special: 'inf', wallTime: 1700000000000 },
    ] }]);
  });
});

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Run } from '../protocol/index.ts';
import { compareRuns, MAX_PARAMS_SHOWN } from './compare.ts';
import { useTempStore } from '../../../test/support/temp-store.ts';

describe('compareRuns stays bounded', () => {
  const { store } = useTempStore('keel-compare-');
  const runs: Run[] = [];
  before(() => {
    for (let r = 0; r < 3; r++) {
      const run = store.runs.create({ projectId: null, source: 'import', name: `run-${r}` });
      const params: Record<string, number | string> = { seed: 42 };
      for (let i = 0; i < 3_000; i++) params[`layers.${i}.lr`] = r * 10_000 + i;
      for (let i = 0; i < 2_500; i++) params[`same.${i}`] = i;
      store.runLinks.setParams(run.id, params);
      store.metrics.record(run.id, Array.from({ length: 800 }, (_, i) => ({ key: `probe/${String(i).padStart(3, '0')}`, step: 1, value: r + i })));
      store.metrics.record(run.id, [{ key: 'train_loss', step: 1, value: 1 + r }, { key: 'eval_accuracy', step: 1, value: 0.5 + r / 10 }]);
      runs.push(run);
    }
  });

  it('lists at most 2,000 differing and 2,000 equal params, with the full counts', () => {
    const c = compareRuns(store, runs);
    assert.equal(c.params.differ.length, MAX_PARAMS_SHOWN);
    assert.equal(c.params.differTotal, 3_000);
    assert.equal(c.params.equal, 2_501);
    assert.equal(Object.keys(c.params.equalParams).length, MAX_PARAMS_SHOWN);
  });

  it('shows at most 500 metric keys, losses and eval metrics among them, with the total', () => {
    const c = compareRuns(store, runs);
    assert.equal(c.metrics.length, 500);
    assert.equal(c.metricsTotal, 802);
    const keys = c.metrics.map((m) => m.key);
    assert.ok(keys.includes('train_loss') && keys.includes('eval_accuracy'));
    assert.deepEqual(keys, [...keys].sort(), 'rows by key');
    assert.deepEqual(c.metrics.find((m) => m.key === 'eval_accuracy')?.perRun[runs[2]?.id ?? '']?.last, 0.7);
  });
});

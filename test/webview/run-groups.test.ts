/**
 * The hundred-run helpers (webview/src/run-groups.ts) on a real grid sweep recorded in a
 * real store and compared by the daemon's own compareRuns: grouping by sweep and by a
 * param, the mean with its min–max band across seeds, the legend's search, and the
 * best/last table's sort.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricPoint } from '../../daemon/src/protocol/index.ts';
import { bandOf, bestLastRows, groupOptions, groupRuns, matchRuns, sortRows } from '../../webview/src/run-groups.ts';
import { sweepRuns, type SweepRuns } from './fixtures.ts';

const pts = (...xy: [number, number | null][]): MetricPoint[] => xy.map(([step, value]) => ({ step, value, wallTime: null }));

describe('run groups, bands, search and the best/last table', () => {
  let f: SweepRuns;
  before(() => {
    f = sweepRuns({ lrs: [1e-4, 3e-4, 1e-3], seeds: [1, 2, 3], steps: 400, sweeps: 2 });
  });
  after(() => f?.close());

  it('offers grouping by sweep and by each differing setting, never by seed or output_dir', () => {
    assert.deepEqual(groupOptions(f.init.comparison).map((o) => o.value), ['', 'sweep', 'param:learning_rate']);
  });

  it('groups by a param: one group per value, its seeds inside, in comparison order', () => {
    const groups = groupRuns(f.init.comparison, 'param:learning_rate');
    assert.ok(groups);
    assert.deepEqual(groups.map((g) => g.label), ['learning_rate=0.0001', 'learning_rate=0.0003', 'learning_rate=0.001']);
    const names = new Map(f.runs.map((r) => [r.id, r.name]));
    assert.deepEqual(groups[1]?.runIds.map((id) => names.get(id)), ['w1-lr2-s1', 'w1-lr2-s2', 'w1-lr2-s3', 'w2-lr2-s1', 'w2-lr2-s2', 'w2-lr2-s3']);
  });

  it('groups by sweep, and leaves hidden runs out of every group', () => {
    const visible = f.runs.filter((r) => !r.name.endsWith('-s3')).map((r) => r.id);
    const groups = groupRuns(f.init.comparison, 'sweep', visible);
    assert.ok(groups);
    assert.deepEqual(groups.map((g) => g.id), f.sweepIds.map((id) => `sweep:${id}`));
    assert.deepEqual(groups.map((g) => g.runIds.length), [6, 6]);
    assert.equal(groupRuns(f.init.comparison, 'param:no_such_param'), null);
  });

  it('bands: the mean and min–max of the runs at each step, read between points where a run skips the step', () => {
    const b = bandOf([pts([0, 1], [10, 3]), pts([0, 3], [5, 5], [10, 5]), pts([5, 10])]);
    assert.deepEqual(b.x, [0, 5, 10]);
    // At step 5 the first run lies half-way (2), the second is 5, the third 10.
    assert.deepEqual(b.mean, [2, (2 + 5 + 10) / 3, 4]);
    assert.deepEqual(b.min, [1, 2, 3]);
    assert.deepEqual(b.max, [3, 10, 5]);
    assert.deepEqual(b.n, [2, 3, 2]);
  });

  it('bands: a NaN point or a run that has ended never counts as a value', () => {
    const b = bandOf([pts([0, 1], [1, null], [2, 1]), [{ step: 1, value: null, special: 'nan', wallTime: null }, { step: 2, value: 3, wallTime: null }], pts([0, 5])]);
    assert.deepEqual(b.x, [0, 2]);
    assert.deepEqual(b.mean, [3, 2]);
    assert.deepEqual(b.n, [2, 2]);
  });

  it('bands of the real sweep: every seed lies inside its group\'s band, and a larger learning rate ends lower', () => {
    const groups = groupRuns(f.init.comparison, 'param:learning_rate') ?? [];
    const finalMean: number[] = [];
    for (const g of groups) {
      const curves = g.runIds.map((id) => f.init.series.find((s) => s.runId === id && s.key === 'loss')?.points ?? []);
      const b = bandOf(curves);
      assert.equal(b.x.length, 400);
      for (const c of curves) {
        for (const p of c) {
          const i = b.x.indexOf(p.step);
          assert.ok((b.min[i] as number) <= (p.value as number) && (p.value as number) <= (b.max[i] as number));
        }
      }
      assert.ok((b.max[399] as number) - (b.min[399] as number) > 0, 'seeds scatter: the band has width');
      finalMean.push(b.mean[399] as number);
    }
    assert.ok((finalMean[0] as number) > (finalMean[1] as number) && (finalMean[1] as number) > (finalMean[2] as number), `final means ${finalMean.join(', ')}`);
  });

  it('search matches every word in a run\'s name or its differing params', () => {
    const names = (ids: Set<string>): string[] => f.runs.filter((r) => ids.has(r.id)).map((r) => r.name);
    assert.deepEqual(names(matchRuns(f.init.comparison, 'W2 s3')), ['w2-lr1-s3', 'w2-lr2-s3', 'w2-lr3-s3']);
    assert.deepEqual(names(matchRuns(f.init.comparison, 'learning_rate=0.001 w1')), ['w1-lr3-s1', 'w1-lr3-s2', 'w1-lr3-s3']);
    assert.equal(matchRuns(f.init.comparison, '').size, f.runs.length);
    assert.equal(matchRuns(f.init.comparison, 'nothing-like-this').size, 0);
  });

  it('best/last rows come from the comparison, and sort by any column either way with missing values last', () => {
    const rows = bestLastRows(f.init.comparison, ['loss', 'eval_loss', 'grad_norm']);
    const first = f.init.comparison.metrics.find((m) => m.key === 'loss')?.perRun[f.runs[0]?.id ?? ''];
    assert.equal(rows[0]?.values['loss:best'], first?.best);
    assert.equal(rows[0]?.values['loss:last'], first?.last);
    assert.equal(rows[0]?.values['grad_norm:last'], null);
    const asc = sortRows(rows, 'loss:last', false).map((r) => r.values['loss:last'] as number);
    assert.deepEqual(asc, [...asc].sort((a, b) => a - b));
    const desc = sortRows(rows, 'eval_loss:best', true).map((r) => r.values['eval_loss:best'] as number);
    assert.deepEqual(desc, [...desc].sort((a, b) => b - a));
    assert.deepEqual(sortRows(rows, 'name', true).map((r) => r.name).slice(0, 2), ['w2-lr3-s3', 'w2-lr3-s2']);
    // A run without the key sorts last ascending and descending alike.
    const withGap = [...rows.slice(0, 3), { ...rows[3] as (typeof rows)[number], values: { 'loss:last': null } }];
    assert.equal(sortRows(withGap, 'loss:last', false).at(-1)?.values['loss:last'], null);
    assert.equal(sortRows(withGap, 'loss:last', true).at(-1)?.values['loss:last'], null);
  });
});

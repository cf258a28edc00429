/**
 * The compare panel's GPU time and cost rows, from what the daemon's own compareRuns says of
 * runs with real attempts in a real store (SSH with a cost per hour, Slurm without, one that
 * never started) — and nothing at all when no run has started or the daemon sends no usage.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { usageRows } from '../../webview/src/usage-table.ts';
import { usageRuns, type InitMessage } from './fixtures.ts';

describe('GPU time and cost in the compare panel', () => {
  let f: { init: InitMessage; close: () => void };
  before(() => { f = usageRuns(); });
  after(() => f.close());

  it('gives GPU-hours, cost, wall time and attempts per run; — where a run has none', () => {
    const rows = usageRows(f.init.comparison);
    assert.deepEqual(rows.map((r) => [r.label, ...r.cells.map((c) => c.text)]), [
      ['GPU-hours', '3.0', '0.750', '—'],
      ['cost', '7.50', '—', '—'],
      ['wall time', '1:30:00', '45:00', '—'],
      ['attempts', '1', '1', '—'],
    ]);
  });

  it('has no cost row when no host has a cost per hour, and no rows without usage', () => {
    const c = f.init.comparison;
    const noCost = { ...c, usage: Object.fromEntries(Object.entries(c.usage ?? {}).map(([id, u]) => [id, u && { ...u, cost: null }])) };
    assert.deepEqual(usageRows(noCost).map((r) => r.key), ['gpuHours', 'wall', 'attempts']);
    assert.deepEqual(usageRows({ ...c, usage: Object.fromEntries(c.runs.map((r) => [r.id, null])) }), [], 'nothing started');
    const { usage: _u, ...older } = c;
    assert.deepEqual(usageRows(older), [], 'a daemon without usage');
  });
});

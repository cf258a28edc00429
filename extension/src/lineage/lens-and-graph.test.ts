/**
 * CodeLens text, the runs a lineage view loads, the hover cache, and keel.yaml diagnostic
 * placement — pure parts, fed with what a real daemon returned (test/fixtures/recorded/).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LineageGraph, RunComparison, RunSummary } from '../../../daemon/src/protocol/index.ts';
import { bestRun, exactRuns, lensTitles } from './config-lens.ts';
import { placeDiagnostics } from './diagnostic-spots.ts';
import { runsOfGraph } from './graph-runs.ts';
import { TtlCache } from './ttl-cache.ts';
import { RECORDED } from '../../../test/support/fixtures.ts';

const json = <T>(...parts: string[]): T => JSON.parse(readFileSync(join(RECORDED, ...parts), 'utf8')) as T;
const comparison = json<RunComparison>('compare', 'compare-three.json');

describe('config CodeLens titles', () => {
  it('names the run with the lowest eval_loss (demo-higher-lr, 0.1660 at its best), each part its own lens', () => {
    const best = bestRun(comparison);
    assert.deepEqual(best, { metric: 'eval_loss', value: 0.1660085447374142, runId: 'run_fvrdxfhdv3ca', runName: 'demo-higher-lr' });
    assert.deepEqual(lensTitles({ runs: 3, exact: 3, ...(best ? { best } : {}) }), { launch: '▶ Launch', runs: '3 runs', best: 'best eval_loss 0.166 (demo-higher-lr)' });
  });

  it('says how many runs are of the file exactly as it is, when others differ', () => {
    assert.deepEqual(lensTitles({ runs: 5, exact: 2 }), { launch: '▶ Launch', runs: '5 runs (2 of this exact config)' });
  });

  it('judges "best" only among runs of the current version launched without overrides', () => {
    const run = (id: string, over: Partial<RunSummary>): RunSummary => ({
      id, projectId: 'p', name: id, status: 'succeeded', statusReason: null, exitCode: 0, unreachableSince: null, source: 'launch', configId: 'cfg_now',
      codeVersionId: null, hostName: 'local', sweepId: null, outputDir: null, priority: 0, gpus: 0, createdAt: 0, startedAt: 0, endedAt: 1, updatedAt: 1,
      lastLoss: null, lastStep: null, alerts: 0, kind: 'train', overrides: [], ...over,
    });
    const runs = [run('exact', {}), run('tuned', { overrides: ['learning_rate=0.2'] }), run('older', { configId: 'cfg_before' }), run('watched', { source: 'watch', overrides: undefined }), run('its-eval', { kind: 'eval' })];
    assert.deepEqual(exactRuns(runs, 'cfg_now').map((r) => r.id), ['exact', 'watched']);
    assert.deepEqual(exactRuns(runs, null), []);
  });

  it('falls back to loss when no run has eval_loss', () => {
    const noEval: RunComparison = { ...comparison, metrics: comparison.metrics.filter((m) => m.key !== 'eval_loss') };
    assert.deepEqual(bestRun(noEval), { metric: 'loss', value: 0.0026, runId: 'run_fvrdxfhdv3ca', runName: 'demo-higher-lr' });
  });

  it('says what it knows: nothing yet, no runs, one run without a loss', () => {
    assert.deepEqual(lensTitles({}), { launch: '▶ Launch' });
    assert.deepEqual(lensTitles({ runs: 0, exact: 0 }), { launch: '▶ Launch', runs: 'no runs yet' });
    assert.deepEqual(lensTitles({ runs: 1, exact: 1 }), { launch: '▶ Launch', runs: '1 run' });
    assert.equal(bestRun({ ...comparison, metrics: [] }), undefined);
  });
});

describe('runs a lineage view loads', () => {
  it('a checkpoint: the run that wrote it first, then the runs that came of it (its eval, the fine-tune of it)', () => {
    const g = json<LineageGraph>('lineage', 'lineage-checkpoint.json');
    assert.deepEqual(runsOfGraph(g), ['run_b3r6s9brn9yw', 'run_t6h79eu35hjf', 'run_5gvsyrkuhpem']);
  });
  it('a run: itself first, then its parent (both two steps away, the parent first); a dataset: at most 8 runs', () => {
    assert.deepEqual(runsOfGraph(json<LineageGraph>('lineage', 'lineage-run-child.json')), ['run_5gvsyrkuhpem', 'run_b3r6s9brn9yw', 'run_ah2wwak8gs7h']);
    assert.equal(runsOfGraph(json<LineageGraph>('lineage', 'lineage-dataset.json')).length, 8);
  });
});

describe('hover cache', () => {
  it('keeps answers (including "not tracked") for the TTL only', () => {
    const c = new TtlCache<string | null>(30_000);
    c.set('path:/a:1', 'card', 1_000);
    c.set('path:/b:1', null, 1_000);
    assert.equal(c.get('path:/a:1', 30_999), 'card');
    assert.equal(c.get('path:/b:1', 30_999), null);
    assert.equal(c.get('path:/a:1', 31_000), undefined);
    assert.equal(c.size, 1);
  });
  it('drops the oldest entries past its size cap, and clears', () => {
    const c = new TtlCache<number>(1_000, 2);
    c.set('a', 1, 0);
    c.set('b', 2, 0);
    c.set('c', 3, 0);
    assert.equal(c.get('a', 0), undefined);
    assert.equal(c.get('c', 0), 3);
    c.clear();
    assert.equal(c.size, 0);
  });
});

describe('keel.yaml diagnostics placed on the offending line', () => {
  // What the daemon's projects/register returned for a keel.yaml with `configs: 5` and `train: {comand: …}`.
  const text = 'name: demo\ndatasets:\n  - data/*.jsonl\nconfigs: 5\ntrain:\n  comand: python3 train.py\n';
  const lengths = text.split('\n').map((l) => l.length);
  it('from the 1-based column to the end of the line', () => {
    assert.deepEqual(placeDiagnostics([
      { message: 'configs must be a list of globs', path: 'configs', line: 4, column: 10, severity: 'error' },
      { message: 'unknown key "comand" in train (did you mean "command"?); Keel ignores it', path: 'train.comand', line: 6, column: 3, severity: 'warning' },
    ], lengths), [
      { line: 3, start: 9, end: 10, message: 'configs must be a list of globs', severity: 'error', key: 'configs' },
      { line: 5, start: 2, end: 26, message: 'unknown key "comand" in train (did you mean "command"?); Keel ignores it', severity: 'warning', key: 'train.comand' },
    ]);
  });
  it('clamps a stale position into the document', () => {
    assert.deepEqual(placeDiagnostics([{ message: 'm', path: '', line: 40, column: 99, severity: 'error' }], [10, 4]), [
      { line: 1, start: 0, end: 4, message: 'm', severity: 'error', key: '' },
    ]);
  });
});

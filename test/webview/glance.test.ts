/**
 * What makes the compare panel read at a glance, as pure functions over what a real daemon
 * answered (test/fixtures/recorded: three runs of examples/tiny-finetune) and the real HF
 * Trainer states recorded by the daemon's own code: train/eval pairs by HF naming, end-of-run
 * summary values told from curves, the default charts, and eval verdicts that respect the
 * stderr and a failed eval job.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunComparison } from '../../daemon/src/protocol/index.ts';
import { RECORDED } from '../support/fixtures.ts';
import { rowVerdicts } from '../../daemon/src/protocol/eval-verdicts.ts';
import { evalTable } from '../../webview/src/evals.ts';
import { summaryValueKeys, trainEvalGroups } from '../../webview/src/metric-identity.ts';
import { chartKeys } from '../../webview/src/metric-keys.ts';
import { matchesFilter } from '../../webview/src/metric-picker.ts';
import { formatSummaryValue } from '../../webview/src/summary-table.ts';
import { runOverrides } from '../../webview/src/run-legend.ts';
import { hfRuns, type HfRuns } from './fixtures.ts';

const recorded = JSON.parse(readFileSync(join(RECORDED, 'compare', 'compare-three.json'), 'utf8')) as RunComparison;
const [BASE, HIGH, CHILD] = recorded.runs.map((r) => r.id) as [string, string, string];
type EvalRow = RunComparison['evals'][number];

describe('train/eval pairs by HF naming', () => {
  it('pairs loss ↔ eval_loss, train/loss ↔ eval/loss and X ↔ eval_X; the rest stand alone', () => {
    const groups = trainEvalGroups(['loss', 'eval_loss', 'train/loss', 'eval/loss', 'mean_token_accuracy', 'eval_mean_token_accuracy', 'eval_runtime', 'grad_norm', 'eval/wer']);
    const by = (id: string): string[] | undefined => groups.find((g) => g.id === id)?.keys;
    assert.deepEqual(by('loss'), ['loss', 'eval_loss']);
    assert.deepEqual(by('train/loss'), ['train/loss', 'eval/loss']);
    assert.deepEqual(by('mean_token_accuracy'), ['mean_token_accuracy', 'eval_mean_token_accuracy']);
    assert.deepEqual(by('eval_runtime'), ['eval_runtime']);
    assert.deepEqual(by('eval/wer'), ['eval/wer']);
    assert.equal(groups.length, 6, groups.map((g) => g.id).join(', '));
  });

  it('prefers the plain key when both `loss` and `train_loss` could pair with eval_loss', () => {
    assert.deepEqual(trainEvalGroups(['train_loss', 'loss', 'eval_loss']).map((g) => g.keys), [['loss', 'eval_loss'], ['train_loss']]);
  });
});

describe('summary values and the default charts (tiny-finetune, as the daemon answered)', () => {
  it('tells the end-of-run summary values from curves', () => {
    const keys = [...summaryValueKeys(recorded)].sort();
    assert.deepEqual(keys, ['eval_samples', 'perplexity', 'total_flos', 'train_loss', 'train_runtime', 'train_samples', 'train_samples_per_second', 'train_steps_per_second']);
  });

  it('keeps a single point a curve while its run is still running, unless HF names it a summary', () => {
    const live = { ...recorded, runs: recorded.runs.map((r) => (r.id === CHILD ? { ...r, status: 'running' as const } : r)) };
    const keys = summaryValueKeys(live);
    assert.equal(keys.has('perplexity'), false);
    assert.equal(keys.has('train_runtime'), true);
  });

  it('draws loss with eval_loss, then eval accuracy and training signals; bookkeeping waits in the picker', () => {
    const k = chartKeys(recorded, new Map(), []);
    assert.deepEqual(k.shown.map((g) => g.keys.join('+')), ['loss+eval_loss', 'eval_accuracy', 'grad_norm', 'learning_rate']);
    assert.deepEqual(k.all.slice(k.shown.length).map((g) => g.id), ['epoch', 'eval_runtime', 'eval_samples_per_second', 'eval_steps_per_second']);
    assert.ok(k.summaries.includes('train_runtime') && !k.all.some((g) => g.id === 'train_runtime'));
  });

  it('filters the picker by every word typed, over both keys of a pair', () => {
    const k = chartKeys(recorded, new Map(), []);
    const hits = (q: string): string[] => k.all.filter((g) => matchesFilter(g, q)).map((g) => g.id);
    assert.deepEqual(hits('runtime'), ['eval_runtime']);
    assert.deepEqual(hits('eval loss'), ['loss']);
    assert.deepEqual(hits('LR'), []);
    assert.deepEqual(hits('rate'), ['learning_rate']);
  });

  it('formats summary values for reading: a runtime as a duration, FLOs with an exponent', () => {
    assert.equal(formatSummaryValue('train_runtime', 2.3217), '0:02 (2.322 s)');
    assert.equal(formatSummaryValue('train_runtime', 77350.9963), '21:29:11');
    assert.equal(formatSummaryValue('total_flos', 593798400), '5.94e+8');
    assert.equal(formatSummaryValue('train_loss', 0.30828568789245), '0.3083');
  });

  it('names what sets each run apart in the legend, leaving out paths', () => {
    const withPaths: RunComparison = { ...recorded, params: { ...recorded.params, differ: [...recorded.params.differ, { key: 'output_dir', values: { [BASE]: 'a', [HIGH]: 'b', [CHILD]: 'c' } }] } };
    assert.match(runOverrides(withPaths, HIGH).text, /learning_rate=0\.2/);
    assert.doesNotMatch(runOverrides(withPaths, HIGH).text, /output_dir/);
  });
});

describe('summary values from real HF Trainer states (whisper fine-tune, BART on SageMaker)', () => {
  let f: HfRuns;
  before(() => {
    f = hfRuns();
  });
  after(() => f.close());

  it('tables the Trainer\'s all_results.json values, the HF summary keys first, and pairs loss with eval_loss', () => {
    const k = chartKeys(f.comparison, new Map(), []);
    assert.deepEqual(k.summaries.slice(0, 4), ['train_loss', 'train_runtime', 'train_samples', 'train_samples_per_second']);
    for (const key of ['train_steps_per_second', 'eval_rouge1', 'test_loss', 'eval_samples']) assert.ok(k.summaries.includes(key), key);
    // eval_loss is a curve for whisper (5 evals): a chart, paired with loss, for both runs.
    assert.ok(!k.summaries.includes('eval_loss') && !k.summaries.includes('loss'));
    assert.deepEqual(k.shown[0]?.keys, ['loss', 'eval_loss']);
    assert.deepEqual(k.shown[0]?.runIds, [f.whisper.id, f.bart.id]);
  });
});

describe('eval verdicts', () => {
  const cell = (value: number, stderr: number | null, status?: 'succeeded' | 'failed'): NonNullable<EvalRow['perRun'][string]> => ({
    value, stderr, subject: null, ...(status ? { evalRun: { id: `job-${value}`, name: 'x-eval', status } } : {}),
  });
  const row = (perRun: EvalRow['perRun'], higherIsBetter: boolean | null = true): EvalRow => ({ task: 't', metric: 'acc', filter: 'none', higherIsBetter, perRun, bestRunId: null });

  it('the issue\'s case: −0.025 with ±0.079 stderr is a tie, not best', () => {
    const v = rowVerdicts(row({ a: cell(0.5, 0.079), b: cell(0.475, 0.079) }), ['a', 'b']);
    assert.deepEqual([...v.values()], ['tie', 'tie']);
  });

  it('marks best only when the lead beats every other run by more than √(se₁²+se₂²)', () => {
    const v = rowVerdicts(row({ a: cell(0.62, 0.02), b: cell(0.5, 0.03), c: cell(0.45, 0.02) }), ['a', 'b', 'c']);
    assert.deepEqual([...v.values()], ['best', null, null]);
    const lower = rowVerdicts(row({ a: cell(3.1, 0.05), b: cell(2.5, 0.05) }, false), ['a', 'b']);
    assert.deepEqual([...lower.values()], [null, 'best'], 'lower is better: perplexity');
  });

  it('says "ahead", not best, when no stderr can check the lead', () => {
    const v = rowVerdicts(row({ a: cell(0.8, null), b: cell(0.6, null) }), ['a', 'b']);
    assert.deepEqual([...v.values()], ['ahead', null]);
  });

  it('tiny-finetune as recorded: 0.9871 and 0.9814 tie; 0.9548 is behind both', () => {
    const tiny = recorded.evals.find((e) => e.task === 'tiny_reverse' && e.metric === 'acc');
    assert.ok(tiny);
    assert.deepEqual([...rowVerdicts(tiny, [BASE, HIGH, CHILD]).values()], ['tie', 'tie', null]);
  });

  it('leaves out and flags a result whose eval job failed, and gives it no delta', () => {
    const r = row({ a: cell(0.95, 0.01, 'failed'), b: cell(0.6, 0.01, 'succeeded'), c: cell(0.5, 0.01) });
    assert.deepEqual([...rowVerdicts(r, ['a', 'b', 'c']).values()], [null, 'best', null]);
    const c: RunComparison = { ...recorded, runs: ['a', 'b', 'c'].map((id) => ({ ...(recorded.runs[0] as RunComparison['runs'][number]), id, name: id })), evals: [r] };
    const cells = evalTable(c, 'b')[0]?.cells;
    assert.equal(cells?.[0]?.failedJob?.status, 'failed');
    assert.equal(cells?.[0]?.delta, null);
    assert.equal(cells?.[2]?.significant, true);
    assert.equal(cells?.[2]?.better, false);
  });
});

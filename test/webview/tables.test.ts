/**
 * The eval table (value ± stderr, best per row, delta against the baseline) and the config
 * diff rows, from the comparison the daemon computes over the real Axolotl configs and
 * lm-eval results files.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configDiffRows, diffTarget } from '../../webview/src/config-diff.ts';
import { evalTable, type EvalRow } from '../../webview/src/evals.ts';
import { chartKeys } from '../../webview/src/metric-keys.ts';
import { twoRuns, type TwoRuns } from './fixtures.ts';

describe('eval table', () => {
  let f: TwoRuns;
  let rows: EvalRow[];
  const row = (task: string, metric: string): EvalRow => {
    const r = rows.find((x) => x.task === task && x.metric === metric);
    assert.ok(r, `${task}/${metric}`);
    return r;
  };
  before(() => {
    f = twoRuns();
    rows = evalTable(f.init.comparison, f.lora.id);
  });
  after(() => f.close());

  it('has one row per task/metric/filter and one cell per run, in comparison order', () => {
    assert.equal(rows.length, 11); // 9 qwen3 results + arc_challenge acc and acc_norm
    assert.deepEqual(rows[0]?.cells.map((c) => c.runId), [f.lora.id, f.fft.id]);
  });

  it('shows value ± stderr, "n/a" for an unknown stderr and — for a run without the result', () => {
    const belief = row('negotiationtom_belief', 'acc');
    assert.equal(belief.cells[0]?.text, '0.4500 ± 0.1141');
    assert.equal(belief.cells[0]?.value, 0.45);
    assert.equal(row('negotiationtom_intention', 'micro_f1').cells[0]?.text, '0.3019 ± n/a');
    const arc = row('arc_challenge', 'acc');
    assert.equal(arc.cells[0]?.text, '—');
    assert.equal(arc.cells[1]?.text, '0.2449 ± 0.01257');
  });

  it('calls a lead within the stderr of the difference a tie, not best (the qwen3 rows: ±0.11 stderr)', () => {
    // 0.55 vs 0.45, each ± 0.1141: the gap 0.1 is within √(0.1141² + 0.1141²) ≈ 0.161.
    assert.deepEqual(row('negotiationtom_belief', 'acc').cells.map((c) => c.verdict), ['tie', 'tie']);
    assert.deepEqual(row('negotiationtom_desire', 'acc').cells.map((c) => c.verdict), ['tie', 'tie']);
    assert.deepEqual(row('negotiationtom', 'micro_f1').cells.map((c) => c.verdict), ['tie', 'tie'], 'equal values');
    // One run's result alone is nothing to compare: no verdict.
    assert.deepEqual(row('arc_challenge', 'acc').cells.map((c) => c.verdict), [null, null]);
  });

  it('gives each run its delta against the baseline, marked better or worse, and whether it is beyond the noise', () => {
    const belief = row('negotiationtom_belief', 'acc').cells[1];
    assert.ok(belief?.delta !== null && belief?.delta !== undefined && Math.abs(belief.delta - 0.1) < 1e-12);
    assert.equal(belief?.better, true);
    const desire = row('negotiationtom_desire', 'acc').cells[1];
    assert.ok(desire?.delta !== null && desire?.delta !== undefined && Math.abs(desire.delta + 0.1) < 1e-12);
    assert.equal(desire?.better, false);
    assert.equal(row('negotiationtom_belief', 'acc').cells[0]?.delta, null, 'the baseline has no delta');
    assert.equal(row('arc_challenge', 'acc').cells[1]?.delta, null, 'no baseline value, no delta');
    assert.equal(belief?.significant, false, '0.1 is within the noise of ±0.1141 each');
    const fromFft = evalTable(f.init.comparison, f.fft.id).find((r) => r.task === 'negotiationtom_belief');
    assert.equal(fromFft?.cells[0]?.better, false);
  });
});

describe('config diff rows', () => {
  let f: TwoRuns;
  before(() => {
    f = twoRuns();
  });
  after(() => f.close());

  it('lists the params that differ between the LoRA and full fine-tune configs, run by run', () => {
    const rows = configDiffRows(f.init.comparison, f.lora.id, false);
    assert.equal(rows.length, 26);
    const lr = rows.find((r) => r.key === 'learning_rate');
    assert.deepEqual(lr?.cells.map((c) => c.text), ['0.0002', '0.00002']);
    assert.deepEqual(lr?.cells.map((c) => c.differsFromBaseline), [false, true]);
    assert.deepEqual(rows.find((r) => r.key === 'adapter')?.cells.map((c) => c.text), ['lora', '—']);
    assert.deepEqual(rows.find((r) => r.key === 'datasets.0.path')?.cells.map((c) => c.text), ['teknium/GPT4-LLM-Cleaned', 'tatsu-lab/alpaca']);
  });

  it('adds the 20 equal params with "show all", marked as equal, in key order', () => {
    const rows = configDiffRows(f.init.comparison, f.lora.id, true);
    assert.equal(rows.length, 46);
    const equal = rows.filter((r) => !r.differs);
    assert.equal(equal.length, 20);
    assert.ok(equal.every((r) => r.cells.every((c) => !c.differsFromBaseline)));
    assert.deepEqual(rows.map((r) => r.key), [...rows.map((r) => r.key)].sort((a, b) => a.localeCompare(b)));
  });

  it('opens the diff from the baseline to the chosen run, or to the first run that differs', () => {
    const lr = configDiffRows(f.init.comparison, f.lora.id, false).find((r) => r.key === 'learning_rate');
    assert.ok(lr);
    assert.deepEqual(diffTarget(lr, f.lora.id), { key: 'learning_rate', leftRunId: f.lora.id, rightRunId: f.fft.id });
    assert.deepEqual(diffTarget(lr, f.lora.id, f.lora.id), { key: 'learning_rate', leftRunId: f.lora.id, rightRunId: f.fft.id });
    assert.deepEqual(diffTarget(lr, f.fft.id, f.lora.id), { key: 'learning_rate', leftRunId: f.fft.id, rightRunId: f.lora.id });
    assert.equal(diffTarget({ key: 'x', differs: false, cells: [{ runId: 'r1', text: '1', differsFromBaseline: false }] }, 'r1'), null);
  });
});

describe('which metric charts to draw', () => {
  let f: TwoRuns;
  before(() => {
    f = twoRuns();
  });
  after(() => f.close());

  it('draws the default charts both runs log, losses first; the others are listed, not drawn', () => {
    const k = chartKeys(f.init.comparison, new Map(), []);
    // epoch is bookkeeping: listed in the picker, not drawn by default.
    assert.deepEqual(k.shown.map((g) => g.id), ['loss', 'grad_norm', 'learning_rate']);
    assert.equal(k.usingDefaults, true);
    assert.deepEqual(k.all.map((g) => g.id), ['loss', 'mean_token_accuracy', 'grad_norm', 'learning_rate', 'epoch', 'num_tokens']);
    assert.deepEqual(k.all.find((g) => g.id === 'num_tokens')?.runIds, [f.lora.id]);
    assert.equal(k.noneInCommon, false);
    const picked = chartKeys(f.init.comparison, new Map(), ['num_tokens', 'gone']);
    assert.deepEqual(picked.shown.map((g) => g.id), ['num_tokens']);
    assert.equal(picked.usingDefaults, false);
  });

  it('says so when the runs share no metric', () => {
    const c = f.init.comparison;
    const disjoint = { ...c, metrics: c.metrics.map((m) => ({ ...m, perRun: { [f.lora.id]: m.perRun[f.lora.id] ?? null, [f.fft.id]: null } })) };
    const k = chartKeys(disjoint, new Map(), []);
    assert.equal(k.noneInCommon, true);
    assert.deepEqual(k.shown, []);
    // A key that arrives live for the second run makes it common again.
    const live = chartKeys(disjoint, new Map([['loss', new Set([f.fft.id])]]), []);
    assert.deepEqual(live.shown.map((g) => g.id), ['loss']);
  });
});

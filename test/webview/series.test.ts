/**
 * Curves as data, from the real trainer_state fixtures as the daemon stores and sends them:
 * live merge by step, EMA smoothing, alignment of runs on one x, NaN/±Inf as gaps with
 * markers (never zeros), the log-scale guard, the time axis, zoom refetches.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricPoint } from '../../daemon/src/protocol/index.ts';
import { alignTo, buildChartData, emaSmooth, mergePoints, nearestIndex, spliceRange, stepRange, unionX, xValues } from '../../webview/src/series.ts';
import { SeriesStore } from '../../webview/src/series-store.ts';
import { twoRuns, type TwoRuns } from './fixtures.ts';

const close = (a: number | null | undefined, b: number, eps = 1e-9): void => {
  assert.ok(typeof a === 'number' && Math.abs(a - b) < eps, `${String(a)} ≈ ${b}`);
};

describe('webview series', () => {
  let f: TwoRuns;
  let loraLoss: MetricPoint[];
  let fftLoss: MetricPoint[];
  before(() => {
    f = twoRuns();
    const pick = (runId: string): MetricPoint[] => f.init.series.find((s) => s.runId === runId && s.key === 'loss')?.points ?? [];
    loraLoss = pick(f.lora.id);
    fftLoss = pick(f.fft.id);
  });
  after(() => f.close());

  it('gets the fixture curves the daemon stores (lora-1b: loss every 10 steps to 200; fft-8b: every step to 60)', () => {
    assert.equal(loraLoss.length, 20);
    assert.deepEqual(loraLoss[0], { step: 10, value: 10.9959, wallTime: null });
    assert.deepEqual(loraLoss.at(-1), { step: 200, value: 0.6604, wallTime: null });
    assert.equal(fftLoss.length, 60);
    assert.equal(fftLoss[42]?.value, 0.0597); // step 43
  });

  it('merges live points by step: appends in order, replaces equal steps, sorts late ones in', () => {
    const appended = mergePoints(loraLoss, [{ step: 210, value: 0.61, wallTime: null }, { step: 220, value: 0.6, wallTime: null }]);
    assert.equal(appended.length, 22);
    assert.deepEqual(appended.slice(-2).map((p) => p.step), [210, 220]);
    const replaced = mergePoints(appended, [{ step: 200, value: 0.5, wallTime: null }]);
    assert.equal(replaced.length, 22);
    assert.equal(replaced.find((p) => p.step === 200)?.value, 0.5);
    const late = mergePoints(loraLoss, [{ step: 205, value: 1, wallTime: null }, { step: 195, value: 2, wallTime: null }]);
    assert.deepEqual(late.slice(-4).map((p) => p.step), [190, 195, 200, 205]);
    assert.equal(loraLoss.length, 20, 'the input is not modified');
  });

  it('smooths with a debiased EMA that skips gaps instead of resetting or zeroing', () => {
    assert.deepEqual(emaSmooth([1, 2, 3], 0), [1, 2, 3]);
    const s = emaSmooth(loraLoss.map((p) => p.value), 0.6);
    close(s[0], 10.9959); // debiased: the first value is itself
    close(s[1], (0.6 * 0.4 * 10.9959 + 0.4 * 10.421) / (1 - 0.36));
    const gap = emaSmooth([1, null, 3], 0.5);
    assert.equal(gap[1], null);
    close(gap[2], 1.75 / 0.75);
  });

  it('aligns both runs on one x (the union of their steps), undefined where a run has no point', () => {
    const d = buildChartData([{ runId: f.lora.id, points: loraLoss }, { runId: f.fft.id, points: fftLoss }], { xAxis: 'step', smoothing: 0, logScale: false });
    assert.equal(d.x.length, 74); // steps 1…60, then 70…200 by 10
    assert.deepEqual(d.x.slice(0, 3), [1, 2, 3]);
    assert.equal(d.x.at(-1), 200);
    const at = (step: number): number => d.x.indexOf(step);
    assert.equal(d.raw[0]?.[at(10)], 10.9959);
    assert.equal(d.raw[0]?.[at(1)], undefined);
    assert.equal(d.raw[1]?.[at(1)], 0.7447);
    assert.equal(d.raw[1]?.[at(70)], undefined);
    assert.equal(d.raw[0]?.length, 74);
    assert.deepEqual(d.specials, []);
  });

  it('keeps NaN and ±Inf as gaps with markers, never as zeros, and smoothing carries on past them', () => {
    const broken = loraLoss.map((p): MetricPoint => (p.step === 50 ? { step: 50, value: null, special: 'nan', wallTime: null } : p.step === 60 ? { step: 60, value: null, special: 'inf', wallTime: null } : p));
    broken.push({ step: 210, value: null, special: '-inf', wallTime: null });
    const d = buildChartData([{ runId: f.lora.id, points: broken }], { xAxis: 'step', smoothing: 0.5, logScale: false });
    const at = (step: number): number => d.x.indexOf(step);
    assert.equal(d.raw[0]?.[at(50)], null);
    assert.equal(d.raw[0]?.[at(60)], null);
    assert.equal(d.smooth[0]?.[at(50)], null);
    assert.ok(typeof d.smooth[0]?.[at(70)] === 'number');
    assert.deepEqual(d.specials.map((m) => [m.step, m.kind]), [[50, 'nan'], [60, 'inf'], [210, '-inf']]);
    assert.ok(d.raw[0]?.every((v) => v !== 0));
  });

  it('hides values ≤ 0 on a log scale (counted, drawn as gaps)', () => {
    const withZero = [...fftLoss.slice(0, 5), { step: 6, value: 0, wallTime: null }, { step: 7, value: -0.5, wallTime: null }];
    const d = buildChartData([{ runId: f.fft.id, points: withZero }], { xAxis: 'step', smoothing: 0, logScale: true });
    assert.equal(d.hiddenByLog, 2);
    assert.deepEqual(d.raw[0]?.slice(4), [0.5483, null, null]);
  });

  it('uses seconds since each run\'s first wall time on the time axis, and leaves out points without one', () => {
    assert.ok(loraLoss.every((p) => p.wallTime === null), 'trainer_state records no wall times');
    const none = buildChartData([{ runId: f.lora.id, points: loraLoss }], { xAxis: 'time', smoothing: 0, logScale: false });
    assert.equal(none.x.length, 0);
    assert.equal(none.withoutTime, 20);
    const timed = loraLoss.map((p) => ({ ...p, wallTime: 1_700_000_000 + p.step * 2 }));
    assert.deepEqual(xValues(timed, 'time').slice(0, 3), [0, 20, 40]);
  });

  it('finds the nearest point for the hover readout and the step range of a zoom', () => {
    const d = buildChartData([{ runId: f.lora.id, points: loraLoss }], { xAxis: 'step', smoothing: 0, logScale: false });
    const curve = d.runs[0];
    assert.ok(curve);
    assert.equal(nearestIndex(curve.xs, 44), 3); // step 40
    assert.equal(nearestIndex(curve.xs, 46), 4); // step 50
    assert.equal(nearestIndex(curve.xs, 1e9), 19);
    assert.deepEqual(stepRange(curve, 45, 95), { fromStep: 40, toStep: 100 });
    assert.equal(stepRange(curve, 201, 300), null);
  });

  it('shares x when every run has the same steps and unions them otherwise', () => {
    assert.deepEqual(unionX([[1, 2, 3], [1, 2, 3]]), [1, 2, 3]);
    assert.deepEqual(unionX([[1, 3], [2, 3, 4]]), [1, 2, 3, 4]);
    assert.deepEqual(alignTo([1, 2, 3, 4], [2, 4], [20, null]), [undefined, 20, undefined, null]);
  });

  it('splices a finer range into a coarse curve, keeping the points outside it', () => {
    const finer = [45, 50, 55].map((step) => ({ step, value: step / 100, wallTime: null }));
    const out = spliceRange(loraLoss, 41, 59, finer);
    assert.deepEqual(out.map((p) => p.step).slice(2, 8), [30, 40, 45, 50, 55, 60]);
    assert.equal(out.find((p) => p.step === 50)?.value, 0.5);
    assert.equal(out.length, 22); // 20 − the one at step 50 + 3
  });

  it('keeps the store in step with init, live appends, zoom refetches and resyncs', () => {
    const store = new SeriesStore();
    store.load(f.init.series);
    assert.deepEqual([...(store.keys().get('mean_token_accuracy') ?? [])], [f.lora.id]);
    store.append(f.lora.id, 'loss', [{ step: 210, value: 0.64, wallTime: null }]);
    assert.equal(store.get(f.lora.id, 'loss')?.points.length, 21);
    assert.equal(store.get(f.lora.id, 'loss')?.total, 21);
    // A zoom over steps 40…100 answered with a finer curve is spliced in; the rest stays.
    store.requested(f.lora.id, 'loss', { fromStep: 40, toStep: 100 });
    const finer = Array.from({ length: 61 }, (_, i) => ({ step: 40 + i, value: 1 + i / 100, wallTime: null }));
    store.replace({ runId: f.lora.id, key: 'loss', points: finer, total: 210, downsampled: true });
    const pts = store.get(f.lora.id, 'loss')?.points ?? [];
    assert.equal(pts.length, 3 + 61 + 11); // 10,20,30 + 40…100 + 110…210
    assert.equal(pts.find((p) => p.step === 10)?.value, 10.9959);
    assert.equal(pts.find((p) => p.step === 41)?.value, 1.01);
    // Without a pending zoom, a series replaces the curve.
    store.replace({ runId: f.lora.id, key: 'loss', points: loraLoss.slice(0, 2), total: 2, downsampled: false });
    assert.equal(store.get(f.lora.id, 'loss')?.points.length, 2);
    store.removeRun(f.fft.id);
    assert.deepEqual(store.curves('loss', [f.lora.id, f.fft.id]).map((c) => c.runId), [f.lora.id]);
  });
});

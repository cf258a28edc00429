import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricPoint } from '../protocol/index.ts';
import { useTempStore } from '../../../test/support/temp-store.ts';

const LENGTHS = [1, 2, 3, 5, 10, 101, 1_000, 10_007];
const MAX_POINTS = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 50, 99, 100, 101, 1_000, 2_000, 2_001];

/** A wavy series with NaN, +Inf and -Inf sprinkled in, on steps 3, 6, 9 … (gaps between). */
function valueAt(i: number): number {
  if (i % 37 === 36) return NaN;
  if (i % 101 === 50) return Infinity;
  if (i % 103 === 70) return -Infinity;
  return Math.sin(i / 7) * 100 + (i % 13);
}

const same = (a: MetricPoint, b: MetricPoint | undefined): boolean => b !== undefined && a.value === b.value && a.special === b.special;

describe('metrics/get downsampling', () => {
  const { store } = useTempStore('keel-downsample-');
  let runId: string;
  before(() => {
    runId = store.runs.create({ projectId: null, source: 'import', name: 'wavy' }).id;
    for (const n of LENGTHS) store.metrics.record(runId, Array.from({ length: n }, (_, i) => ({ key: `s${n}`, step: 3 * i, value: valueAt(i) })));
  });

  it('never returns more than maxPoints, keeps the first and last point, and returns only real points', () => {
    for (const n of LENGTHS) {
      const all = store.metrics.points(runId, `s${n}`);
      const byStep = new Map(all.map((p) => [p.step, p]));
      const ranges = [{}, { fromStep: 30 }, { toStep: 3 * Math.floor(n / 2) + 1 }, { fromStep: 3 * Math.floor(n / 3), toStep: 3 * Math.floor((2 * n) / 3) }];
      for (const range of ranges) {
        const expected = all.filter((p) => p.step >= (range.fromStep ?? -Infinity) && p.step <= (range.toStep ?? Infinity));
        for (const max of MAX_POINTS) {
          const where = `n=${n} max=${max} range=${JSON.stringify(range)}`;
          const r = store.metrics.downsample(runId, `s${n}`, max, range);
          assert.equal(r.total, n, where);
          assert.ok(r.points.length <= max, `${where}: ${r.points.length} points`);
          if (expected.length <= max) {
            assert.deepEqual(r.points, expected, where);
            assert.equal(r.downsampled, false, where);
            continue;
          }
          assert.equal(r.downsampled, true, where);
          assert.deepEqual(r.points[0], expected[0], `${where}: the first point`);
          assert.deepEqual(r.points.at(-1), expected.at(-1), `${where}: the last point`);
          for (let i = 1; i < r.points.length; i++) assert.ok((r.points[i] as MetricPoint).step > (r.points[i - 1] as MetricPoint).step, `${where}: in step order, once each`);
          for (const p of r.points) assert.ok(same(p, byStep.get(p.step)), `${where}: step ${p.step} is a real point`);
          if (max >= 20) assert.ok(r.points.length >= max / 2, `${where}: uses its budget (${r.points.length})`);
        }
      }
    }
  });

  it('keeps a spike, a dip, and the NaN/Inf points where a run diverged', () => {
    const special: Record<number, number> = { 4321: 1e6, 7777: -1e6, 5000: NaN, 9000: Infinity, 9500: -Infinity };
    store.metrics.record(runId, Array.from({ length: 10_000 }, (_, i) => ({ key: 'spiky', step: i, value: special[i] ?? (i % 17) / 17 })));
    const r = store.metrics.downsample(runId, 'spiky', 200);
    assert.ok(r.points.length <= 200);
    const at = (step: number): MetricPoint | undefined => r.points.find((p) => p.step === step);
    assert.deepEqual([at(4321)?.value, at(7777)?.value, at(5000)?.special, at(9000)?.special, at(9500)?.special], [1e6, -1e6, 'nan', 'inf', '-inf']);
  });
});

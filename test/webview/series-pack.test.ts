/**
 * Curves in columns between the panel's host and its webview (daemon/src/protocol/series-pack.ts):
 * the real payloads (the SFT fixtures with their NaN, 10 runs × 100,000 steps downsampled by
 * the daemon) come back point for point, and the wire carries much less.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { packMessage, packSeries, unpackMessage, unpackSeries } from '../../daemon/src/protocol/series-pack.ts';
import { parseHostMessage } from '../../webview/src/messages.ts';
import { bigComparison, twoRuns, type TwoRuns } from './fixtures.ts';

describe('series in columns', () => {
  let f: TwoRuns;
  let big: ReturnType<typeof bigComparison>;
  before(() => {
    f = twoRuns();
    big = bigComparison(10, 100_000, 2000);
  });
  after(() => {
    f?.close();
    big?.close();
  });

  it('gives back every point of the real curves exactly, NaN/±Inf and wall times included', () => {
    for (const s of [...f.init.series, ...big.init.series]) {
      const wire = JSON.parse(JSON.stringify(packSeries(s))) as unknown;
      assert.deepEqual(unpackSeries(wire), JSON.parse(JSON.stringify(s)));
    }
    assert.ok(big.init.series.some((s) => s.points.some((p) => p.special === 'nan')), 'the fixture has a NaN to carry');
  });

  it('an init of 10 runs × 2,000 points is at least a third smaller on the wire, and parses as the same message', () => {
    const plain = JSON.stringify(big.init).length;
    const packed = JSON.stringify(packMessage(big.init)).length;
    assert.ok(packed < plain * 0.67, `${packed} bytes packed vs ${plain}`);
    const back = parseHostMessage(unpackMessage(JSON.parse(JSON.stringify(packMessage(big.init)))));
    assert.ok('message' in back);
    assert.deepEqual(back.message, JSON.parse(JSON.stringify(big.init)));
  });

  it('series and seriesBatch travel packed too; other messages as they are', () => {
    const one = big.init.series[0];
    assert.ok(one);
    const series = parseHostMessage(unpackMessage(JSON.parse(JSON.stringify(packMessage({ type: 'series', series: one })))));
    assert.ok('message' in series && series.message.type === 'series' && series.message.series.points.length === one.points.length);
    const batch = parseHostMessage(unpackMessage(packMessage({ type: 'seriesBatch', series: big.init.series.slice(0, 3) })));
    assert.ok('message' in batch && batch.message.type === 'seriesBatch' && batch.message.series.length === 3);
    const err = { type: 'error', message: 'x' } as const;
    assert.equal(packMessage(err), err);
  });

  it('a malformed packed curve is dropped and reported, never half-used', () => {
    const good = packSeries(big.init.series[0] ?? { runId: 'r', key: 'k', total: 0, downsampled: false, points: [] });
    for (const bad of [{ ...good, values: good.values.slice(1) }, { ...good, steps: ['1'] }, { ...good, specials: { 0: 'zero' } }, { ...good, wallTimes: [1] }]) {
      assert.equal(unpackSeries(bad), null);
      const parsed = parseHostMessage(unpackMessage({ type: 'seriesBatch', packedSeries: [good, bad] }));
      assert.ok('error' in parsed, JSON.stringify(parsed).slice(0, 80));
    }
  });
});

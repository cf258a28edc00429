/** The reader against the five real event files in test/fixtures/real/tfevents. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeTfeventsBuffer, mergeScalarPoints, newTfeventsCursor, readTfeventsFile } from './index.ts';
import type { ScalarPoint } from './index.ts';
import { realFixture } from '../../../../test/support/fixtures.ts';

function fixturePath(...parts: string[]): string {
  return realFixture(...parts);
}

const REDUCER = ['tfevents', 'torch-summarywriter-simple-value_tensorboard-reducer'];
const STRICT = fixturePath(...REDUCER, 'strict', 'run_1', 'events.out.tfevents.1622543341.janoshs-mbp.lan.86862.0');
const LAX = fixturePath(...REDUCER, 'lax', 'run_1', 'events.out.tfevents.1622543341.janoshs-mbp.lan.86862.3');
const DUPLICATE = fixturePath(...REDUCER, 'duplicate_steps', 'run_1', 'events.out.tfevents.1622966509.janoshs-mbp.lan.86059.0');
const LINGVO = fixturePath('tfevents', 'tf1-multi-value-events_lingvo', 'events.out.tfevents.test');
const TFEVENTS_JS = fixturePath('tfevents', 'r-tfevents-minimal-plugin-metadata_tfevents-js', 'events.out.tfevents.1687811641.v2');
const ALL = [STRICT, LAX, DUPLICATE, LINGVO, TFEVENTS_JS];

async function readAll(file: string): Promise<ScalarPoint[]> {
  const r = await readTfeventsFile(file, newTfeventsCursor());
  assert.equal(r.error, undefined);
  assert.deepEqual(r.corrupt, []);
  assert.equal(r.eof, true);
  assert.equal(r.cursor.offset, fs.statSync(file).size);
  return r.points;
}

function find(points: ScalarPoint[], tag: string, step: number): ScalarPoint[] {
  return points.filter((p) => p.tag === tag && p.step === step);
}

function countByTag(points: ScalarPoint[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const p of points) counts[p.tag] = (counts[p.tag] ?? 0) + 1;
  return counts;
}

void test('strict: 101 records = file_version + strict/foo at steps 0, 5, ..., 495', async () => {
  const points = await readAll(STRICT);
  assert.equal(points.length, 100);
  assert.ok(points.every((p) => p.tag === 'strict/foo'));
  assert.deepEqual(points.map((p) => p.step), Array.from({ length: 100 }, (_, i) => i * 5));
  // The step-0 event carries no step field at all (key 0x10 absent): bytes 52.. are its data.
  const bytes = fs.readFileSync(STRICT);
  assert.equal(bytes[52], 0x09); // wall_time key
  assert.equal(bytes[61], 0x2a); // summary key straight after: no step
  assert.deepEqual(points[0], { tag: 'strict/foo', step: 0, value: 1.4962565898895264, wallTime: 1622543341.758558, bits: 32 });
  assert.equal(find(points, 'strict/foo', 5)[0]?.value, Math.fround(1.7682218551635742));
  assert.deepEqual(points[99], { tag: 'strict/foo', step: 495, value: 1.212090253829956, wallTime: 1622543341.7694452, bits: 32 });
  assert.ok(points.every((p) => p.value === Math.fround(p.value)), 'simple_value is float32');
});

void test('lax: three tags, one event per value, 110 steps each', async () => {
  const points = await readAll(LAX);
  assert.equal(points.length, 330);
  assert.deepEqual(countByTag(points), { 'lax/foo': 110, 'lax/bar_1': 110, 'lax/bar_2': 110 });
  assert.deepEqual(find(points, 'lax/foo', 0), [{ tag: 'lax/foo', step: 0, value: 1.2587659358978271, wallTime: 1622543341.789234, bits: 32 }]);
  assert.equal(find(points, 'lax/bar_1', 1)[0]?.value, 1.598190426826477);
  assert.equal(find(points, 'lax/bar_2', 109)[0]?.value, 1.4685683250427246);
  assert.equal(find(points, 'lax/bar_2', 109)[0]?.wallTime, 1622543341.817664);
});

void test('duplicate_steps: steps 90-99 twice per tag; the merge keeps the later wall_time', async () => {
  const points = await readAll(DUPLICATE);
  assert.equal(points.length, 420);
  assert.deepEqual(countByTag(points), { 'dup_steps/foo': 210, 'dup_steps/bar': 210 });
  for (let step = 90; step <= 99; step++) {
    assert.equal(find(points, 'dup_steps/foo', step).length, 2, `foo step ${step}`);
    assert.equal(find(points, 'dup_steps/bar', step).length, 2, `bar step ${step}`);
  }
  assert.deepEqual(find(points, 'dup_steps/foo', 90).map((p) => [p.value, p.wallTime]), [
    [1.5536525249481201, 1622966509.231713],
    [1.5210340023040771, 1622966509.233303],
  ]);
  const merged = mergeScalarPoints(points);
  assert.equal(merged.length, 400);
  assert.deepEqual(countByTag(merged), { 'dup_steps/bar': 200, 'dup_steps/foo': 200 });
  assert.deepEqual(find(merged, 'dup_steps/foo', 90), [
    { tag: 'dup_steps/foo', step: 90, value: 1.5210340023040771, wallTime: 1622966509.233303, bits: 32 },
  ]);
  assert.equal(find(merged, 'dup_steps/bar', 99)[0]?.value, 1.094226598739624);
  assert.equal(find(merged, 'dup_steps/bar', 89)[0]?.value, 1.0959523916244507); // not duplicated
  // Reversing the input must not change the winner: wall_time decides, not order.
  assert.deepEqual(mergeScalarPoints([...points].reverse()), merged);
  assert.deepEqual(merged.slice(0, 2).map((p) => [p.tag, p.step]), [['dup_steps/bar', 0], ['dup_steps/bar', 1]]);
});

void test('lingvo TF1 FileWriter: 360 events with 7 values each', async () => {
  const points = await readAll(LINGVO);
  assert.equal(points.length, 2520);
  const tags = ['bleu/dev', 'brevity_penalty/dev', 'bleu/split:dev', 'brevity_penalty/split:dev',
    'log_perplexity/dev', 'log_perplexity/split:dev', 'runtime/sentence/sec'];
  assert.deepEqual(countByTag(points), Object.fromEntries(tags.map((t) => [t, 360])));
  const steps = [...new Set(points.map((p) => p.step))];
  assert.equal(steps.length, 360);
  assert.equal(Math.min(...steps), 1500);
  assert.equal(Math.max(...steps), 185200);
  // The seven values of one event share its step and wall_time, in file order.
  assert.deepEqual(points.slice(0, 7).map((p) => p.tag), tags);
  assert.ok(points.slice(0, 7).every((p) => p.step === 1500 && p.wallTime === 1534577086.0208557));
  assert.equal(find(points, 'bleu/dev', 1500)[0]?.value, Math.fround(0.11201018840074539));
  assert.equal(find(points, 'bleu/split:dev', 100000)[0]?.value, 0.2864886224269867);
  assert.equal(find(points, 'runtime/sentence/sec', 185200)[0]?.value, 10.830163955688477);
  assert.equal(find(points, 'runtime/sentence/sec', 2000)[0]?.value, 11.462115287780762);
  assert.equal(find(points, 'brevity_penalty/split:dev', 3100)[0]?.value, 1);
  assert.equal(find(points, 'runtime/sentence/sec', 185200)[0]?.wallTime, 1534794764.3941014);
  const perplexity = points.filter((p) => p.tag === 'log_perplexity/dev');
  assert.ok(perplexity.every((p) => Object.is(p.value, 0)), 'log_perplexity is exactly +0.0');
});

void test('tfevents-js .v2: one simple_value with scalars metadata, step omitted', async () => {
  const r = await readTfeventsFile(TFEVENTS_JS, newTfeventsCursor());
  assert.deepEqual(r.points, [{ tag: 'hello', step: 0, value: 1, wallTime: 1687811641, bits: 32 }]);
  assert.deepEqual({ ...r.cursor.pluginByTag }, { hello: 'scalars' });
  assert.equal(r.cursor.offset, 94);
  assert.equal(r.eof, true);
});

void test('tiny chunks and byte budgets give the same points as one read, for every fixture', async () => {
  for (const file of ALL) {
    const whole = await readAll(file);
    for (const chunkBytes of [12, 97, 1000]) {
      const r = await readTfeventsFile(file, newTfeventsCursor(), { chunkBytes });
      assert.deepEqual(r.points, whole, `${path.basename(file)} chunk ${chunkBytes}`);
    }
    // Resume call after call with a small budget, as a poller would.
    let cursor = newTfeventsCursor();
    const resumed: ScalarPoint[] = [];
    for (let calls = 0; ; calls++) {
      assert.ok(calls < 10_000);
      const r = await readTfeventsFile(file, cursor, { maxBytes: 700, onPoints: (b) => resumed.push(...b) });
      assert.deepEqual(r.points, []);
      cursor = r.cursor;
      if (r.eof) break;
    }
    assert.deepEqual(resumed, whole, `${path.basename(file)} resumed`);
    const sync = decodeTfeventsBuffer(fs.readFileSync(file), 0, newTfeventsCursor());
    assert.equal(sync.stop, 'end');
    assert.deepEqual(sync.points, whole);
  }
});

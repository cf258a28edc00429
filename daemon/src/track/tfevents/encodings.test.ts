/** Scalar encodings no real fixture covers, built with the test writer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTfeventsBuffer, mergeScalarPoints, newTfeventsCursor } from './index.ts';
import type { ScalarPoint, TfeventsCursor } from './index.ts';
import {
  encodeEvent, fileVersionRecord, frameRecord, newStyleScalarRecord, numberToBfloat16Bits, numberToHalfBits,
  simpleValueRecord, tensorContentRecord, tfeventsFile,
} from '../../../../test/support/write-tfevents.ts';
import { bfloat16ToNumber, halfToNumber } from './tensor.ts';

const T0 = 1700000000.25;

function decodeAll(records: Uint8Array[], cursor: TfeventsCursor = newTfeventsCursor()) {
  const r = decodeTfeventsBuffer(tfeventsFile(records), 0, cursor);
  assert.deepEqual(r.corrupt, []);
  assert.equal(r.stop, 'end');
  return r;
}

function values(points: ScalarPoint[], tag: string): number[] {
  return points.filter((p) => p.tag === tag).map((p) => p.value);
}

void test('TF2 tensor_content scalars: float32, float64, half, bfloat16, int32, int64', () => {
  const records = [
    fileVersionRecord(T0),
    tensorContentRecord('f32', 0, 0.1, T0, 'float32'),
    tensorContentRecord('f32', 1, -2.5e-3, T0 + 1, 'float32', { metadata: false }),
    tensorContentRecord('f64', 0, 0.1, T0, 'float64'),
    tensorContentRecord('f64', 1, 1e300, T0 + 1, 'float64', { metadata: false }),
    tensorContentRecord('half', 0, 1.5, T0, 'half'),
    tensorContentRecord('half', 1, -65504, T0, 'half', { metadata: false }),
    tensorContentRecord('half', 2, 2 ** -24, T0, 'half', { metadata: false }),
    tensorContentRecord('bf16', 0, 3.140625, T0, 'bfloat16'),
    tensorContentRecord('i32', 0, -7, T0, 'int32'),
    tensorContentRecord('i64', 0, 2 ** 40 + 1, T0, 'int64'),
  ];
  const { points, cursor } = decodeAll(records);
  assert.deepEqual(points[0], { tag: 'f32', step: 0, value: Math.fround(0.1), wallTime: T0, bits: 32 });
  // The precision each dtype carries: what decides which of two files' readings of a step is kept.
  assert.deepEqual(['f32', 'f64', 'half', 'bf16', 'i32', 'i64'].map((t) => points.find((p) => p.tag === t)?.bits), [32, 64, 16, 16, 64, 64]);
  assert.deepEqual(values(points, 'f32'), [Math.fround(0.1), Math.fround(-2.5e-3)]);
  assert.deepEqual(values(points, 'f64'), [0.1, 1e300]);
  assert.deepEqual(values(points, 'half'), [1.5, -65504, 2 ** -24]);
  assert.deepEqual(values(points, 'bf16'), [3.140625]);
  assert.deepEqual(values(points, 'i32'), [-7]);
  assert.deepEqual(values(points, 'i64'), [2 ** 40 + 1]);
  assert.deepEqual(points.filter((p) => p.tag === 'f32').map((p) => p.step), [0, 1]);
  assert.equal(cursor.pluginByTag.f32, 'scalars');
});

void test('NaN and infinities survive every encoding', () => {
  const specials = [NaN, Infinity, -Infinity];
  const records = specials.flatMap((v, i) => [
    simpleValueRecord('simple', i, v, T0),
    newStyleScalarRecord('new_style', i, v, T0),
    tensorContentRecord('f32', i, v, T0, 'float32'),
    tensorContentRecord('f64', i, v, T0, 'float64'),
    tensorContentRecord('half', i, v, T0, 'half'),
    tensorContentRecord('bf16', i, v, T0, 'bfloat16'),
  ]);
  const { points } = decodeAll(records);
  for (const tag of ['simple', 'new_style', 'f32', 'f64', 'half', 'bf16']) {
    assert.deepEqual(values(points, tag), specials, tag);
  }
  assert.ok(Object.is(values(decodeAll([simpleValueRecord('z', 0, -0, T0)]).points, 'z')[0], -0));
});

void test('torch new_style: float_val packed and unpacked, double_val, metadata on every value', () => {
  const records = [
    fileVersionRecord(T0),
    newStyleScalarRecord('loss', 10, 2.345678, T0),
    newStyleScalarRecord('loss', 20, 1.25, T0 + 1, { packed: false }),
    newStyleScalarRecord('lr', 10, 3e-4, T0, { double: true }),
    newStyleScalarRecord('lr', 20, 2.5e-4, T0 + 1, { double: true, packed: false }),
  ];
  const { points, cursor } = decodeAll(records);
  assert.deepEqual(points, [
    { tag: 'loss', step: 10, value: Math.fround(2.345678), wallTime: T0, bits: 32 },
    { tag: 'loss', step: 20, value: 1.25, wallTime: T0 + 1, bits: 32 },
    { tag: 'lr', step: 10, value: 3e-4, wallTime: T0, bits: 64 },
    { tag: 'lr', step: 20, value: 2.5e-4, wallTime: T0 + 1, bits: 64 },
  ]);
  assert.deepEqual({ ...cursor.pluginByTag }, { loss: 'scalars', lr: 'scalars' });
});

void test('typed half_val and int_val / int64_val fields, and several values in one event', () => {
  const record = frameRecord(encodeEvent({
    wallTime: T0, step: 3, values: [
      { tag: 'h', pluginName: 'scalars', tensor: { dtype: 19, halfVal: [numberToHalfBits(-0.375)] } },
      { tag: 'b', pluginName: 'scalars', tensor: { dtype: 14, halfVal: [numberToBfloat16Bits(1.5)], packed: false } },
      { tag: 'i', pluginName: 'scalars', tensor: { dtype: 3, intVal: [-123] } },
      { tag: 'l', pluginName: 'scalars', tensor: { dtype: 9, int64Val: [-(2 ** 50)], packed: false } },
      { tag: 's', simpleValue: 0.5 },
    ],
  }));
  const { points } = decodeAll([record]);
  assert.deepEqual(points.map((p) => [p.tag, p.value, p.step]), [['h', -0.375, 3], ['b', 1.5, 3], ['i', -123, 3], ['l', -(2 ** 50), 3], ['s', 0.5, 3]]);
});

void test('non-scalar tensors and non-scalars plugins are skipped, also when metadata came earlier', () => {
  const histogram = new Uint8Array(72); // [3, 3] float64 buckets
  const records = [
    frameRecord(encodeEvent({ wallTime: T0, step: 1, values: [
      { tag: 'hist', pluginName: 'histograms', tensor: { dtype: 2, shape: [3, 3], content: histogram } },
      { tag: 'img', pluginName: 'images', tensor: { dtype: 7, shape: [3], stringVal: ['2', '2', 'png'] } },
      { tag: 'text', pluginName: 'text', tensor: { dtype: 7, stringVal: ['hello'] } },
      { tag: 'custom', pluginName: 'custom_plugin', tensor: { dtype: 1, floatVal: [9] } },
      { tag: 'vector', pluginName: 'scalars', tensor: { dtype: 1, shape: [2], floatVal: [1, 2] } },
      { tag: 'empty', pluginName: 'scalars', tensor: { dtype: 1 } },
    ] })),
    // Later values without metadata: the remembered plugin still rules them out.
    frameRecord(encodeEvent({ wallTime: T0, step: 2, values: [
      { tag: 'custom', tensor: { dtype: 1, floatVal: [10] } },
      { tag: 'hist', tensor: { dtype: 2, shape: [1], doubleVal: [4] } },
    ] })),
    simpleValueRecord('ok', 2, 7, T0),
  ];
  const { points, cursor } = decodeAll(records);
  assert.deepEqual(points.map((p) => p.tag), ['ok']);
  assert.equal(cursor.pluginByTag.custom, 'custom_plugin');
  assert.equal(cursor.pluginByTag.hist, 'histograms');
});

void test('plugin memory carries across calls through the cursor (and survives JSON)', () => {
  const first = tfeventsFile([fileVersionRecord(T0), tensorContentRecord('acc', 1, 0.5, T0, 'float32'),
    frameRecord(encodeEvent({ wallTime: T0, step: 1, values: [{ tag: 'pr', pluginName: 'pr_curves', tensor: { dtype: 1, floatVal: [1] } }] }))]);
  const r1 = decodeTfeventsBuffer(first, 0, newTfeventsCursor());
  assert.equal(r1.points.length, 1);
  const stored = JSON.parse(JSON.stringify(r1.cursor)) as TfeventsCursor;
  const second = tfeventsFile([
    tensorContentRecord('acc', 2, 0.75, T0 + 1, 'float32', { metadata: false }),
    frameRecord(encodeEvent({ wallTime: T0 + 1, step: 2, values: [{ tag: 'pr', tensor: { dtype: 1, floatVal: [2] } }] })),
  ]);
  const r2 = decodeTfeventsBuffer(second, stored.offset, stored);
  assert.deepEqual(r2.points, [{ tag: 'acc', step: 2, value: 0.75, wallTime: T0 + 1, bits: 32 }]);
  assert.equal(r2.cursor.offset, first.length + second.length);
  assert.deepEqual({ ...r2.cursor.pluginByTag }, { acc: 'scalars', pr: 'pr_curves' });
  assert.deepEqual({ ...r1.cursor.pluginByTag }, { acc: 'scalars', pr: 'pr_curves' }, 'input cursor untouched');
});

void test('steps: absent is 0, large and negative int64 steps keep their value', () => {
  const { points } = decodeAll([
    simpleValueRecord('s', 0, 1, T0),
    simpleValueRecord('s', 2 ** 40 + 3, 2, T0),
    simpleValueRecord('s', Number.MAX_SAFE_INTEGER, 3, T0),
    simpleValueRecord('s', -5, 4, T0),
    frameRecord(encodeEvent({ values: [{ tag: 'no_wall_time', simpleValue: 1 }] })),
  ]);
  assert.deepEqual(points.map((p) => p.step), [0, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER, -5, 0]);
  assert.equal(points[4]?.wallTime, 0);
});

void test('a tag named __proto__ is plain data', () => {
  const { points, cursor } = decodeAll([newStyleScalarRecord('__proto__', 1, 2, T0)]);
  assert.deepEqual(points.map((p) => [p.tag, p.value]), [['__proto__', 2]]);
  assert.equal(Object.getOwnPropertyDescriptor(cursor.pluginByTag, '__proto__')?.value, 'scalars');
  assert.equal(JSON.stringify(cursor.pluginByTag), '{"__proto__":"scalars"}');
});

void test('half and bfloat16 bit conversions are exact', () => {
  assert.equal(halfToNumber(0x3c00), 1);
  assert.equal(halfToNumber(0xc000), -2);
  assert.equal(halfToNumber(0x7bff), 65504);
  assert.equal(halfToNumber(0x0001), 2 ** -24);
  assert.equal(halfToNumber(0x7c00), Infinity);
  assert.ok(Number.isNaN(halfToNumber(0x7e00)));
  assert.equal(bfloat16ToNumber(0x3f80), 1);
  assert.equal(bfloat16ToNumber(0xc049), -3.140625);
  assert.equal(bfloat16ToNumber(0xff80), -Infinity);
});

void test('mergeScalarPoints: a resumed run, later wall_time wins, ties go to the later point', () => {
  const a = [0, 1, 2, 3].map((s) => ({ tag: 'loss', step: s, value: 10 + s, wallTime: 100 + s }));
  const b = [2, 3, 4].map((s) => ({ tag: 'loss', step: s, value: 20 + s, wallTime: 200 + s }));
  const tie = [{ tag: 'acc', step: 1, value: 1, wallTime: 5 }, { tag: 'acc', step: 1, value: 2, wallTime: 5 }];
  assert.deepEqual(mergeScalarPoints([...b, ...a, ...tie]).map((p) => [p.tag, p.step, p.value]), [
    ['acc', 1, 2], ['loss', 0, 10], ['loss', 1, 11], ['loss', 2, 22], ['loss', 3, 23], ['loss', 4, 24],
  ]);
  assert.deepEqual(mergeScalarPoints([]), []);
});

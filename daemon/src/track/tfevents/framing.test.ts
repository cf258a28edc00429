/** TFRecord framing on generated files: live tails, corruption, cursors, I/O errors. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeTfeventsBuffer, newTfeventsCursor, readTfeventsFile } from './index.ts';
import type { ScalarPoint } from './index.ts';
import { encodeEvent, fileVersionRecord, frameRecord, simpleValueRecord, tfeventsFile } from '../../../../test/support/write-tfevents.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-tfevents-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;

function writeFile(bytes: Uint8Array): string {
  const file = path.join(dir, `events.out.tfevents.${++fileNo}.host`);
  fs.writeFileSync(file, bytes);
  return file;
}

const T0 = 1700000000;
/** Five records: file_version, then loss at steps 1..4 with value step / 4. */
const records = [fileVersionRecord(T0), ...[1, 2, 3, 4].map((s) => simpleValueRecord('loss', s, s / 4, T0 + s))];
const starts = records.map((_, i) => records.slice(0, i).reduce((n, r) => n + r.length, 0));
const whole = tfeventsFile(records);
const steps = (points: ScalarPoint[]): number[] => points.map((p) => p.step);

void test('a truncated tail waits at the partial record, then yields it exactly once', async () => {
  const last = starts[4]!;
  const recordLength = records[4]!.length;
  // Cut inside the length header, inside the data, and inside the data CRC.
  for (const cut of [last + 5, last + 12 + 3, last + recordLength - 1]) {
    const file = writeFile(whole.subarray(0, cut));
    const r1 = await readTfeventsFile(file, newTfeventsCursor());
    assert.deepEqual(steps(r1.points), [1, 2, 3], `cut at ${cut}`);
    assert.equal(r1.cursor.offset, last);
    assert.equal(r1.eof, true);
    assert.deepEqual(r1.corrupt, []);
    const again = await readTfeventsFile(file, r1.cursor);
    assert.deepEqual(again.points, []);
    assert.equal(again.cursor.offset, last);
    fs.appendFileSync(file, whole.subarray(cut));
    const r2 = await readTfeventsFile(file, r1.cursor);
    assert.deepEqual(r2.points, [{ tag: 'loss', step: 4, value: 1, wallTime: T0 + 4, bits: 32 }]);
    assert.equal(r2.cursor.offset, whole.length);
    const r3 = await readTfeventsFile(file, r2.cursor);
    assert.deepEqual(r3.points, []);
    assert.equal(r3.eof, true);
  }
});

void test('the sync core reports how many bytes the partial record needs', () => {
  const r = decodeTfeventsBuffer(whole.subarray(starts[2], starts[4]! + 20), starts[2]!, { offset: starts[2]!, pluginByTag: {} });
  assert.deepEqual(steps(r.points), [2, 3]);
  assert.equal(r.stop, 'partial');
  assert.equal(r.needBytes, records[4]!.length);
  assert.equal(r.cursor.offset, starts[4]);
  const header = decodeTfeventsBuffer(whole.subarray(0, 7), 0, newTfeventsCursor());
  assert.deepEqual([header.stop, header.needBytes, header.cursor.offset], ['partial', 12, 0]);
  const outside = decodeTfeventsBuffer(whole, 100, newTfeventsCursor());
  assert.equal(outside.stop, 'halted');
  assert.equal(outside.corrupt.length, 1);
});

void test('a bad data CRC skips that record only and reports its offset', async () => {
  const bytes = Buffer.from(whole);
  bytes[starts[2]! + 12 + 3]! ^= 0x40; // a data byte of the step-2 record
  bytes[starts[3]! + records[3]!.length - 1]! ^= 0x01; // the stored data CRC of step 3
  const r = await readTfeventsFile(writeFile(bytes), newTfeventsCursor());
  assert.deepEqual(steps(r.points), [1, 4]);
  assert.deepEqual(r.corrupt.map((c) => c.offset), [starts[2], starts[3]]);
  assert.match(r.corrupt[0]!.reason, /data .* failed its CRC/);
  assert.equal(r.cursor.offset, whole.length);
  assert.equal(r.eof, true);
});

void test('a bad length CRC halts at that record, is reported once, and reading resumes if it heals', async () => {
  const bytes = Buffer.from(whole);
  bytes[starts[3]!]! ^= 0x02; // the length of the step-3 record
  const file = writeFile(bytes);
  const r1 = await readTfeventsFile(file, newTfeventsCursor());
  assert.deepEqual(steps(r1.points), [1, 2]);
  assert.deepEqual(r1.corrupt.map((c) => c.offset), [starts[3]]);
  assert.match(r1.corrupt[0]!.reason, /length failed its CRC/);
  assert.equal(r1.cursor.offset, starts[3]);
  assert.ok(r1.cursor.halted);
  assert.equal(r1.eof, true);
  // Polling again does no work and reports nothing new.
  const r2 = await readTfeventsFile(file, r1.cursor);
  assert.deepEqual([r2.points, r2.corrupt, r2.cursor.offset, r2.eof], [[], [], starts[3], true]);
  assert.ok(r2.cursor.halted);
  // A writer that finally fills the block (e.g. pre-zeroed space) makes the header valid.
  fs.writeFileSync(file, whole);
  const r3 = await readTfeventsFile(file, r2.cursor);
  assert.deepEqual(steps(r3.points), [3, 4]);
  assert.deepEqual(r3.corrupt, []);
  assert.equal(r3.cursor.halted, undefined);
  assert.equal(r3.cursor.offset, whole.length);
});

void test('the sync core halts on a bad length header and does not re-report it from a halted cursor', () => {
  const bytes = Buffer.from(whole);
  bytes[starts[2]! + 8]! ^= 0x10; // the stored length CRC of the step-2 record
  const r1 = decodeTfeventsBuffer(bytes, 0, newTfeventsCursor());
  assert.deepEqual([steps(r1.points), r1.stop, r1.cursor.offset], [[1], 'halted', starts[2]]);
  assert.deepEqual(r1.corrupt.map((c) => c.offset), [starts[2]]);
  const r2 = decodeTfeventsBuffer(bytes, 0, r1.cursor);
  assert.deepEqual([r2.points, r2.corrupt, r2.stop, r2.cursor.offset], [[], [], 'halted', starts[2]]);
  const healed = decodeTfeventsBuffer(whole, 0, r1.cursor);
  assert.deepEqual([steps(healed.points), healed.stop, healed.cursor.halted], [[2, 3, 4], 'end', undefined]);
});

void test('zero-filled tail (crash on a preallocating filesystem) halts instead of looping', async () => {
  const file = writeFile(Buffer.concat([whole, Buffer.alloc(64)]));
  const r = await readTfeventsFile(file, newTfeventsCursor());
  assert.deepEqual(steps(r.points), [1, 2, 3, 4]);
  assert.deepEqual(r.corrupt.map((c) => c.offset), [whole.length]);
  assert.equal(r.cursor.offset, whole.length);
});

void test('a CRC-valid record holding a malformed Event is skipped and reported', async () => {
  const garbage = frameRecord(Uint8Array.from([0x2a, 0x7f, 0x01])); // summary length runs past the end
  const file = writeFile(tfeventsFile([records[1]!, garbage, records[2]!]));
  const r = await readTfeventsFile(file, newTfeventsCursor());
  assert.deepEqual(steps(r.points), [1, 2]);
  assert.equal(r.corrupt.length, 1);
  assert.equal(r.corrupt[0]!.offset, records[1]!.length);
  assert.match(r.corrupt[0]!.reason, /malformed Event protobuf: length 127 runs past the message end at file byte \d+/);
});

void test('records over maxRecordBytes are skipped unread; later records still come', async () => {
  const big = frameRecord(encodeEvent({ wallTime: T0, step: 9, values: [{ tag: 'big', simpleValue: 1 }], fileVersion: 'x'.repeat(500) }));
  const file = writeFile(tfeventsFile([records[1]!, big, records[2]!]));
  const r = await readTfeventsFile(file, newTfeventsCursor(), { maxRecordBytes: 100, chunkBytes: 64 });
  assert.deepEqual(steps(r.points), [1, 2]);
  assert.deepEqual(r.corrupt.map((c) => c.offset), [records[1]!.length]);
  assert.match(r.corrupt[0]!.reason, /over the size limit/);
  const roomy = await readTfeventsFile(file, newTfeventsCursor(), { chunkBytes: 64 });
  assert.deepEqual(steps(roomy.points), [1, 9, 2], 'records larger than a chunk are read whole');
});

void test('maxBytes bounds one call; eof is false while more remains', async () => {
  const file = writeFile(whole);
  const r1 = await readTfeventsFile(file, newTfeventsCursor(), { maxBytes: starts[2]! });
  assert.equal(r1.eof, false);
  assert.equal(r1.cursor.offset, starts[2]);
  assert.deepEqual(steps(r1.points), [1]);
  const batches: number[][] = [];
  const r2 = await readTfeventsFile(file, r1.cursor, { chunkBytes: records[2]!.length, onPoints: (b) => batches.push(steps(b)) });
  assert.deepEqual(batches, [[2], [3], [4]]);
  assert.deepEqual(r2.points, []);
  assert.equal(r2.eof, true);
});

void test('I/O problems come back as data: missing file, file shorter than the cursor', async () => {
  const missing = await readTfeventsFile(path.join(dir, 'nope'), { offset: 5, pluginByTag: {} });
  assert.match(missing.error ?? '', /cannot read .*nope: ENOENT/);
  assert.deepEqual([missing.cursor.offset, missing.eof, missing.points], [5, true, []]);
  const shrunk = await readTfeventsFile(writeFile(whole.subarray(0, 10)), { offset: starts[3]!, pluginByTag: {} });
  assert.equal(shrunk.error, undefined);
  assert.match(shrunk.corrupt[0]?.reason ?? '', /shorter than the cursor/);
  assert.equal(shrunk.cursor.offset, starts[3]);
  const empty = await readTfeventsFile(writeFile(new Uint8Array(0)), newTfeventsCursor());
  assert.deepEqual([empty.points, empty.corrupt, empty.cursor.offset, empty.eof], [[], [], 0, true]);
});

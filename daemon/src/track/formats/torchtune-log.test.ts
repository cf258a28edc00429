import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isTorchtuneLogFile, parseTorchtuneLog, readTorchtuneLogFile, torchtuneLogStartTime } from './torchtune-log.ts';
import { startCursor } from './line-cursor.ts';

/**
 * What torchtune's DiskLogger writes: `log_dict` emits `Step {step} | ` then `{name}:{value} `
 * per metric (trailing space) then `\n`; `log` emits `Step {step} | {name}:{value}\n`. Values
 * are Python `str()`s. These lines mirror a lora_finetune_single_device run.
 */
const LOG_DICT_LINES = [
  'Step 1 | loss:2.0873310565948486 lr:3e-06 tokens_per_second_per_gpu:1523.4049072265625 peak_memory_active:10.227848052978516 peak_memory_alloc:10.227848052978516 peak_memory_reserved:11.515625 ',
  'Step 2 | loss:1.9914298057556152 lr:6e-06 tokens_per_second_per_gpu:2101.23876953125 ',
  'Step 3 | loss:nan lr:9e-06 grad_norm:inf tokens_per_second_per_gpu:2098.5 ',
  'Step 4 | loss:tensor(1.8123, device=\'cuda:0\') lr:1.2e-05 reward:tensor([0.5000, 0.2500]) ',
  'Step 5 | val_loss:1.75',
  '[rank0]: some stray text',
  'Step 6 | ',
  'Step 7 | loss:-inf epoch:1 flag:True odd ',
];

void test('DiskLogger lines become points; nan/inf/tensor values handled; oddities are issues', () => {
  const text = LOG_DICT_LINES.join('\n') + '\n';
  const r = parseTorchtuneLog(text, 1);
  assert.equal(r.consumedLines, 8);
  assert.equal(r.consumedBytes, Buffer.byteLength(text));
  const get = (step: number, key: string) => r.points.find((p) => p.step === step && p.key === key)?.value;
  assert.equal(get(1, 'loss'), 2.0873310565948486);
  assert.equal(get(1, 'lr'), 3e-6);
  assert.equal(get(1, 'peak_memory_reserved'), 11.515625);
  assert.equal(r.points.filter((p) => p.step === 1).length, 6);
  assert.equal(get(2, 'tokens_per_second_per_gpu'), 2101.23876953125);
  assert.ok(Number.isNaN(get(3, 'loss')));
  assert.equal(get(3, 'grad_norm'), Infinity);
  assert.equal(get(4, 'loss'), 1.8123, "tensor(1.8123, device='cuda:0') is a scalar");
  assert.equal(get(4, 'lr'), 1.2e-5);
  assert.equal(get(4, 'reward'), undefined);
  assert.equal(get(5, 'val_loss'), 1.75);
  assert.equal(get(7, 'loss'), -Infinity);
  assert.equal(get(7, 'epoch'), 1);
  assert.equal(r.points.length, 18);
  assert.deepEqual(r.issues, [
    { line: 4, message: 'reward is not a number ("tensor([0.5000, 0.2500])"); skipped' },
    { line: 6, message: 'not a "Step N | name:value …" line; skipped' },
    { line: 8, message: 'flag is not a number ("True"); skipped' },
    { line: 8, message: '"odd" is not name:value; skipped' },
  ]);
});

void test('a line still being written (no newline yet) is left for the next read', () => {
  const text = 'Step 10 | loss:1.5 lr:2e-05 \nStep 11 | loss:1.4';
  const r = parseTorchtuneLog(text, 20);
  assert.deepEqual(r.points, [{ step: 10, key: 'loss', value: 1.5 }, { step: 10, key: 'lr', value: 2e-5 }]);
  assert.equal(r.consumedBytes, 29);
  assert.equal(r.consumedLines, 1);
  const flushed = parseTorchtuneLog(text, 20, { flushTail: true });
  assert.equal(flushed.consumedLines, 2);
  assert.equal(flushed.points[2]?.value, 1.4);
});

void test('file names: log_<unix>.txt', () => {
  assert.equal(isTorchtuneLogFile('/out/logs/log_1718000000.txt'), true);
  assert.equal(isTorchtuneLogFile('log_dict.pkl'), false);
  assert.equal(isTorchtuneLogFile('log_latest.txt'), false);
  assert.equal(torchtuneLogStartTime('C:\\out\\log_1718000000.txt'), 1718000000);
  assert.equal(torchtuneLogStartTime('train.log'), undefined);
});

void test('a growing DiskLogger file is read incrementally from a byte cursor', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-torchtune-'));
  try {
    const file = path.join(dir, 'log_1718000000.txt');
    // Python writes "Step N | " first and flushes only at the end of the line.
    fs.writeFileSync(file, 'Step 1 | loss:2.5 lr:1e-05 \nStep 2 | loss:2.25 ');
    let r = await readTorchtuneLogFile(file, startCursor(), { chunkBytes: 8 });
    assert.deepEqual(r.points.map((p) => [p.step, p.key, p.value]), [[1, 'loss', 2.5], [1, 'lr', 1e-5]]);
    assert.deepEqual(r.cursor, { offset: 28, line: 1 });
    fs.appendFileSync(file, 'lr:2e-05 \nStep 3 | loss:nan \n');
    r = await readTorchtuneLogFile(file, r.cursor, { chunkBytes: 8 });
    assert.deepEqual(r.points.map((p) => [p.step, p.key, p.value]), [[2, 'loss', 2.25], [2, 'lr', 2e-5], [3, 'loss', NaN]]);
    assert.deepEqual(r.cursor, { offset: fs.statSync(file).size, line: 3 });
    assert.equal(r.more, false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseMetricsJsonl, readMetricsJsonlFile } from './metrics-jsonl.ts';
import { startCursor } from './line-cursor.ts';
import type { ByteCursor } from './line-cursor.ts';
import type { ParsedPoint } from './types.ts';

function withTempDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-jsonl-'));
    try {
      await fn(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

function at(points: ParsedPoint[], step: number, key: string): ParsedPoint | undefined {
  return points.find((p) => p.step === step && p.key === key);
}

void test('complete lines become points; the partial last line is left for later', () => {
  const done = '{"step": 1, "loss": 2.5, "lr": 1e-4}\n{"step": 2, "loss": NaN, "grad_norm": Infinity}\n';
  const text = done + '{"step": 3, "lo';
  const r = parseMetricsJsonl(text, 1);
  assert.deepEqual(r.points, [
    { step: 1, key: 'loss', value: 2.5 },
    { step: 1, key: 'lr', value: 1e-4 },
    { step: 2, key: 'loss', value: NaN },
    { step: 2, key: 'grad_norm', value: Infinity },
  ]);
  assert.equal(r.consumedBytes, Buffer.byteLength(done));
  assert.equal(r.consumedLines, 2);
  assert.deepEqual(r.issues, []);
});

void test('flushTail takes a finished last line without a newline', () => {
  const r = parseMetricsJsonl('{"step": 1, "loss": 1}\n{"step": 2, "loss": 0.5}', 10, { flushTail: true });
  assert.equal(r.consumedLines, 2);
  assert.equal(r.consumedBytes, 47);
  assert.equal(at(r.points, 2, 'loss')?.value, 0.5);
});

void test('wall time, nested keys, non-numbers, bad lines and line numbers', () => {
  const text = [
    '{"step": 5, "time": 1718000000.5, "loss": 1.0, "name": "NaN", "ok": true, "eval": {"loss": 0.7, "acc": {"top1": 0.9}}}',
    '',
    '{"step": 6, "timestamp": "2024-06-10T06:13:20Z", "loss": -Infinity}',
    '{"global_step": 7, "wall_time": 1718000000123, "loss": 0.25}',
    '{"loss": 3.0}',
    '{"step": "8", "loss": 3.0}',
    '{"step": 9, "loss": 1.0',
    '[1, 2]',
    '{"step": 10, "λ_loss": 0.125}\r',
    '',
  ].join('\n');
  const r = parseMetricsJsonl(text, 101);
  assert.equal(r.consumedLines, 9);
  assert.equal(r.consumedBytes, Buffer.byteLength(text));
  assert.deepEqual(at(r.points, 5, 'loss'), { step: 5, key: 'loss', value: 1, wallTime: 1718000000.5 });
  assert.equal(at(r.points, 5, 'eval/loss')?.value, 0.7);
  assert.equal(at(r.points, 5, 'eval/acc/top1')?.value, 0.9);
  assert.equal(at(r.points, 5, 'name'), undefined, 'a string "NaN" is not a value');
  assert.equal(at(r.points, 5, 'time'), undefined, 'time is not a series');
  assert.deepEqual(at(r.points, 6, 'loss'), { step: 6, key: 'loss', value: -Infinity, wallTime: 1718000000 });
  assert.deepEqual(at(r.points, 7, 'loss'), { step: 7, key: 'loss', value: 0.25, wallTime: 1718000000.123 });
  assert.equal(at(r.points, 10, 'λ_loss')?.value, 0.125);
  assert.equal(r.points.length, 6);
  assert.deepEqual(r.issues, [
    { line: 105, message: 'no usable "step" (missing); line skipped' },
    { line: 106, message: 'no usable "step" ("8"); line skipped' },
    { line: 107, message: 'not valid JSON at column 24; line skipped' },
    { line: 108, message: 'not a JSON object (a list); line skipped' },
  ]);
});

void test(
  'a growing file is read from a byte cursor, across chunk boundaries and multi-byte keys',
  withTempDir(async (dir) => {
    const file = path.join(dir, 'metrics.jsonl');
    fs.writeFileSync(file, '{"step": 1, "λoss": 1.5}\n{"step": 2, "λoss": 1.25}\n{"step": 3, "λo');
    let r = await readMetricsJsonlFile(file, startCursor(), { chunkBytes: 5 });
    assert.deepEqual(r.points.map((p) => [p.step, p.key, p.value]), [[1, 'λoss', 1.5], [2, 'λoss', 1.25]]);
    const firstTwo = Buffer.byteLength('{"step": 1, "λoss": 1.5}\n{"step": 2, "λoss": 1.25}\n');
    assert.deepEqual(r.cursor, { offset: firstTwo, line: 2 });
    assert.equal(r.more, false);
    // Nothing new: nothing read, cursor unchanged.
    r = await readMetricsJsonlFile(file, r.cursor, { chunkBytes: 5 });
    assert.deepEqual(r.points, []);
    assert.deepEqual(r.cursor, { offset: firstTwo, line: 2 });
    fs.appendFileSync(file, 'ss": 1.0}\nnot json\n{"step": 4, "λoss": NaN}\n');
    r = await readMetricsJsonlFile(file, r.cursor, { chunkBytes: 7 });
    assert.deepEqual(r.points.map((p) => [p.step, p.value]), [[3, 1], [4, NaN]]);
    assert.deepEqual(r.issues, [{ line: 4, message: 'not valid JSON at column 1; line skipped' }]);
    assert.deepEqual(r.cursor, { offset: fs.statSync(file).size, line: 5 });
  }),
);

void test(
  'a rewritten (shrunk) file is read again from the start',
  withTempDir(async (dir) => {
    const file = path.join(dir, 'metrics.jsonl');
    fs.writeFileSync(file, '{"step": 1, "loss": 1}\n{"step": 2, "loss": 2}\n');
    const first = await readMetricsJsonlFile(file, startCursor());
    fs.writeFileSync(file, '{"step": 1, "loss": 9}\n');
    const again = await readMetricsJsonlFile(file, first.cursor);
    assert.equal(again.restarted, true);
    assert.deepEqual(again.points, [{ step: 1, key: 'loss', value: 9 }]);
    assert.deepEqual(again.cursor, { offset: 23, line: 1 });
  }),
);

void test(
  'an over-long line is skipped, even while its end is still being written',
  withTempDir(async (dir) => {
    const file = path.join(dir, 'metrics.jsonl');
    const long = `{"step": 2, "blob": "${'x'.repeat(200)}`;
    fs.writeFileSync(file, `{"step": 1, "loss": 1}\n${long}`);
    let r = await readMetricsJsonlFile(file, startCursor(), { chunkBytes: 64, maxLineBytes: 100 });
    assert.deepEqual(r.points, [{ step: 1, key: 'loss', value: 1 }]);
    assert.deepEqual(r.issues, [{ line: 2, message: 'line longer than 100 bytes; skipped' }]);
    assert.equal(r.cursor.discardingLongLine, true);
    fs.appendFileSync(file, `${'y'.repeat(50)}"}\n{"step": 3, "loss": 0.5}\n`);
    r = await readMetricsJsonlFile(file, r.cursor, { chunkBytes: 64, maxLineBytes: 100 });
    assert.deepEqual(r.points, [{ step: 3, key: 'loss', value: 0.5 }]);
    assert.deepEqual(r.cursor, { offset: fs.statSync(file).size, line: 3 });
  }),
);

void test(
  'a large file is read in bounded batches (maxBytes) with the same result as one pass',
  withTempDir(async (dir) => {
    const file = path.join(dir, 'metrics.jsonl');
    const lines: string[] = [];
    for (let step = 0; step < 200_000; step++) {
      lines.push(`{"step": ${step}, "loss": ${step % 1000 === 0 ? 'NaN' : (1 / (step + 1)).toString()}, "learning_rate": 2e-05, "time": ${1718000000 + step}}`);
    }
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const size = fs.statSync(file).size;
    let cursor: ByteCursor = startCursor();
    let batches = 0;
    let count = 0;
    let last: ParsedPoint | undefined;
    const started = performance.now();
    for (;;) {
      const r = await readMetricsJsonlFile(file, cursor, { maxBytes: 2 * 1024 * 1024 });
      batches++;
      count += r.points.length;
      last = r.points[r.points.length - 1] ?? last;
      assert.deepEqual(r.issues, []);
      cursor = r.cursor;
      if (!r.more) break;
    }
    const ms = performance.now() - started;
    assert.equal(count, 400_000);
    assert.deepEqual(cursor, { offset: size, line: 200_000 });
    assert.ok(batches >= Math.floor(size / (2 * 1024 * 1024)), `read in ${batches} batches`);
    assert.deepEqual(last, { step: 199_999, key: 'learning_rate', value: 2e-5, wallTime: 1718199999 });
    console.log(`metrics.jsonl: ${(size / 1e6).toFixed(1)} MB, 200k lines in ${batches} batches, ${ms.toFixed(0)} ms`);
  }),
);

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { InputFileError } from '../input-file.ts';
import { MAX_JSON_BYTES, profileDataset } from './profile.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'keel-profile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const target = path.join(dir, name);
  writeFileSync(target, content);
  return target;
}

const JSONL = [
  '{"text": "hello", "label": 1}',
  '{"text": "hello", "label": 1}',
  '',
  '{"text": "mail me at jane.doe@example.com", "label": null}',
  '{"text": "bad json", }',
  '{"text": "call (555) 123-4567", "label": 2}\r',
  '{"text": "key sk-proj-AbCdEf1234567890GhIjKlMnOp", "label": 3, "extra": ""}',
  '   ',
  '"just a string"',
  '{"text": "icon@2x.png 2024-01-15 4111 1111 1111 1111 v1.2.3 sk-learn-is-a-library", "label": 4}',
].join('\n');

void test('JSONL: duplicates, an invalid line by number, blank lines, fill rates, lengths and PII', async () => {
  const profile = await profileDataset(file('train.jsonl', JSONL));
  assert.equal(profile.format, 'jsonl');
  assert.equal(profile.bytes, Buffer.byteLength(JSONL));
  assert.equal(profile.rows, 7);
  assert.equal(profile.emptyRows, 2);
  assert.equal(profile.duplicateRows, 1);
  assert.equal(profile.duplicatesApproximate, false);
  assert.deepEqual(profile.invalidLines, [{ line: 5, message: 'invalid JSON at column 22: unexpected "}", expected a double-quoted property name' }]);
  assert.equal(profile.invalidLineCount, 1);
  assert.deepEqual(profile.fields, [
    { name: 'text', filled: 6, fillRate: 6 / 7 },
    { name: 'label', filled: 5, fillRate: 5 / 7 },
    { name: 'extra', filled: 0, fillRate: 0 },
  ]);
  // String content only: "hello" ×2, 31, 19, 38, 13 ("just a string") and 71 characters.
  assert.deepEqual(profile.chars, { min: 5, max: 71, mean: 26, p50: 19, total: 182 });
  assert.equal(profile.tokensEstimate, 46);
  assert.deepEqual(profile.pii, { emails: 1, phones: 1, apiKeys: 1 });
  assert.equal(profile.tooLarge, false);
  assert.deepEqual(profile.notes, []);
});

void test('CSV: quoted commas and newlines, doubled quotes, a blank line, a short row by its line', async () => {
  const csv = 'id,text,label\n1,"hello, world",a\n2,"line one\nline two",b\r\n3,"she said ""hi""",\n\n4,too,many,fields\n1,"hello, world",a\n5,"reach me: bob@example.org",c';
  const profile = await profileDataset(file('data.csv', csv));
  assert.equal(profile.format, 'csv');
  assert.equal(profile.rows, 5);
  assert.equal(profile.emptyRows, 1);
  assert.equal(profile.duplicateRows, 1);
  assert.deepEqual(profile.invalidLines, [{ line: 7, message: 'expected 3 fields, found 4' }]);
  assert.deepEqual(profile.fields, [
    { name: 'id', filled: 5, fillRate: 1 },
    { name: 'text', filled: 5, fillRate: 1 },
    { name: 'label', filled: 4, fillRate: 0.8 },
  ]);
  // 1+12+1, 1+17+1, 1+13+0, 14 again, 1+25+1.
  assert.deepEqual(profile.chars, { min: 14, max: 27, mean: 88 / 5, p50: 14, total: 88 });
  assert.deepEqual(profile.pii, { emails: 1, phones: 0, apiKeys: 0 });
});

void test('TSV and plain text', async () => {
  const tsv = await profileDataset(file('pairs.tsv', 'prompt\tanswer\nhi\thello\n"a\tb"\t\n'));
  assert.equal(tsv.format, 'tsv');
  assert.equal(tsv.rows, 2);
  assert.deepEqual(tsv.fields, [
    { name: 'prompt', filled: 2, fillRate: 1 },
    { name: 'answer', filled: 1, fillRate: 0.5 },
  ]);
  const text = await profileDataset(file('corpus.txt', 'first line\n\nsecond line here\nfirst line\n'));
  assert.equal(text.format, 'text');
  assert.equal(text.rows, 3);
  assert.equal(text.emptyRows, 1);
  assert.equal(text.duplicateRows, 1);
  assert.deepEqual(text.fields, []);
  assert.deepEqual(text.chars, { min: 10, max: 16, mean: 12, p50: 10, total: 36 });
});

void test('binary: NUL bytes in the first chunk give format binary and nothing but the size', async () => {
  const bytes = Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(100), Buffer.from('{"a":1}\n')]);
  const profile = await profileDataset(file('shard.jsonl', bytes));
  assert.equal(profile.format, 'binary');
  assert.equal(profile.bytes, 112);
  assert.equal(profile.rows, 0);
  assert.deepEqual(profile.notes, ['named .jsonl but holds binary data (NUL bytes)']);
  const parquet = await profileDataset(file('train.parquet', 'PAR1 no nul here'));
  assert.equal(parquet.format, 'binary');
});

void test('JSON: an array of records; a broken document reports its line; JSON Lines named .json', async () => {
  const array = await profileDataset(file('a.json', '[\n  {"q": "x", "a": "yy"},\n  {"q": "x", "a": "yy"},\n  {"q": "z", "a": null}\n]\n'));
  assert.equal(array.format, 'json');
  assert.equal(array.rows, 3);
  assert.equal(array.duplicateRows, 1);
  assert.deepEqual(array.fields, [
    { name: 'q', filled: 3, fillRate: 1 },
    { name: 'a', filled: 2, fillRate: 2 / 3 },
  ]);
  const broken = await profileDataset(file('b.json', '[\n  {"q": "x"},\n  {"q": }\n]\n'));
  assert.equal(broken.rows, 0);
  assert.deepEqual(broken.invalidLines, [{ line: 3, message: 'invalid JSON at column 9: unexpected "}", expected a value' }]);
  const lines = await profileDataset(file('c.json', '{"q": "x"}\n{"q": "y"}\n'));
  assert.equal(lines.format, 'jsonl');
  assert.equal(lines.rows, 2);
  assert.deepEqual(lines.notes, ['named .json but holds JSON Lines (one record per line)']);
});

void test('JSON over the whole-parse limit is reported as too large, not read', async () => {
  // A sparse file: 64 KiB of real JSON text, then a hole up to just over the limit.
  const target = file('huge.json', `[${' '.repeat(64 * 1024)}`);
  truncateSync(target, MAX_JSON_BYTES + 1);
  const profile = await profileDataset(target);
  assert.equal(profile.format, 'json');
  assert.equal(profile.tooLarge, true);
  assert.equal(profile.bytes, MAX_JSON_BYTES + 1);
  assert.equal(profile.rows, 0);
  assert.match(profile.notes[0] ?? '', /too large to profile/);
});

void test('a folder is refused; abort rejects with the signal reason', async () => {
  await assert.rejects(profileDataset(dir), { code: 'E_IO' });
  const aborted = new AbortController();
  aborted.abort(new Error('stop'));
  await assert.rejects(profileDataset(file('x.jsonl', '{}\n'), { signal: aborted.signal }), /stop/);
  const midway = new AbortController();
  const big = file('mid.jsonl', '{"text": "some words here"}\n'.repeat(200_000));
  await assert.rejects(
    profileDataset(big, { signal: midway.signal, onProgress: () => midway.abort() }),
    (error: unknown) => error instanceof Error && error.name === 'AbortError',
  );
});

void test('a FIFO or a device is refused at once, never opened blocking', { timeout: 10_000 }, async () => {
  const fifo = path.join(dir, 'pipe.jsonl');
  execFileSync('mkfifo', [fifo]);
  await assert.rejects(profileDataset(fifo), (e: unknown) => e instanceof InputFileError && e.reason === 'not-regular' && /is a FIFO \(named pipe\)/.test(e.message));
  const zero = path.join(dir, 'zero.jsonl');
  symlinkSync('/dev/zero', zero);
  await assert.rejects(profileDataset(zero), (e: unknown) => e instanceof InputFileError && /is a character device/.test(e.message));
});

void test('memory stays bounded on a ~50 MB generated JSONL (rss delta reported)', async () => {
  const target = path.join(dir, 'big.jsonl');
  const out = createWriteStream(target);
  const words = 'the quick brown fox jumps over the lazy dog while a model learns to follow instructions'.split(' ');
  let bytes = 0;
  let lines = 0;
  while (bytes < 50 * 1024 * 1024) {
    const text = Array.from({ length: 20 + (lines % 80) }, (_, k) => words[(lines * 7 + k) % words.length]).join(' ');
    // Every 1000th row repeats the previous one.
    const id = lines % 1000 === 999 ? lines - 1 : lines;
    const line = `${JSON.stringify({ id, instruction: `Question ${id}`, output: lines % 1000 === 999 ? previous(id, words) : text })}\n`;
    if (!out.write(line)) await once(out, 'drain');
    bytes += Buffer.byteLength(line);
    lines++;
  }
  out.end();
  await once(out, 'finish');
  const before = process.memoryUsage().rss;
  let peak = before;
  let lastProgress = [0, 0];
  const started = performance.now();
  const profile = await profileDataset(target, {
    onProgress: (read, total) => {
      peak = Math.max(peak, process.memoryUsage().rss);
      lastProgress = [read, total];
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const deltaMiB = (peak - before) / 1024 / 1024;
  console.log(`profiled ${(bytes / 1024 / 1024).toFixed(1)} MiB JSONL in ${seconds.toFixed(2)} s; peak rss delta ${deltaMiB.toFixed(1)} MiB`);
  assert.equal(profile.rows, lines);
  assert.equal(profile.bytes, bytes);
  assert.equal(profile.duplicateRows, Math.floor(lines / 1000));
  assert.deepEqual(lastProgress, [bytes, bytes]);
  // Reading the file whole would need more than its 50 MiB (and twice that as a JS string).
  assert.ok(deltaMiB < 40, `rss grew by ${deltaMiB.toFixed(1)} MiB`);
});

/** The `output` text written for row `id` (used to make exact duplicate rows). */
function previous(id: number, words: string[]): string {
  return Array.from({ length: 20 + (id % 80) }, (_, k) => words[(id * 7 + k) % words.length]).join(' ');
}

void test('an empty file profiles to zeros, and too many distinct keys are capped', async () => {
  const empty = await profileDataset(file('empty.jsonl', ''));
  assert.equal(empty.rows, 0);
  assert.deepEqual(empty.chars, { min: 0, max: 0, mean: 0, total: 0 });
  const rows = Array.from({ length: 1200 }, (_, i) => JSON.stringify({ [`k${i}`]: 'v' })).join('\n');
  const wide = await profileDataset(file('wide.jsonl', rows));
  assert.equal(wide.rows, 1200);
  assert.equal(wide.fields.length, 1000);
  assert.equal(wide.fieldsTruncated, true);
});

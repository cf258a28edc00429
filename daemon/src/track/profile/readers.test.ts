import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CsvReader, type CsvRecord } from './csv.ts';
import { LineSplitter } from './lines.ts';
import { findPii } from './pii.ts';
import { ProfileBuilder } from './profile-builder.ts';
import { RowHashes } from './row-hashes.ts';

const CSV = 'id,text,label\r\n1,"hello, world",a\r\n2,"line one\nline two",b\n3,"she said ""hi""",\n\n4,x"y,c\n5,"open';

function readCsv(chunks: string[]): Pick<CsvRecord, 'fields' | 'line' | 'raw' | 'unterminated'>[] {
  const records: Pick<CsvRecord, 'fields' | 'line' | 'raw' | 'unterminated'>[] = [];
  const reader = new CsvReader(',', ({ fields, line, raw, unterminated }) => records.push({ fields, line, raw, unterminated }));
  for (const chunk of chunks) reader.push(chunk);
  reader.end();
  return records;
}

void test('CSV: quoted commas, doubled quotes, newlines in quotes, CRLF, a literal quote, an unclosed quote', () => {
  assert.deepEqual(readCsv([CSV]), [
    { fields: ['id', 'text', 'label'], line: 1, raw: 'id,text,label', unterminated: false },
    { fields: ['1', 'hello, world', 'a'], line: 2, raw: '1,"hello, world",a', unterminated: false },
    { fields: ['2', 'line one\nline two', 'b'], line: 3, raw: '2,"line one\nline two",b', unterminated: false },
    { fields: ['3', 'she said "hi"', ''], line: 5, raw: '3,"she said ""hi""",', unterminated: false },
    { fields: [''], line: 6, raw: '', unterminated: false },
    { fields: ['4', 'x"y', 'c'], line: 7, raw: '4,x"y,c', unterminated: false },
    { fields: ['5', 'open'], line: 8, raw: '5,"open', unterminated: true },
  ]);
});

void test('CSV: the same records whatever the chunk boundaries (one character at a time)', () => {
  assert.deepEqual(readCsv([...CSV]), readCsv([CSV]));
  assert.deepEqual(readCsv([CSV.slice(0, 17), CSV.slice(17, 40), CSV.slice(40)]), readCsv([CSV]));
});

void test('CSV: a record over the size cap is flagged, and the next record reads normally', () => {
  const records: CsvRecord[] = [];
  const reader = new CsvReader(',', (record) => records.push(record), 10);
  reader.push('a,"');
  reader.push('0123456789');
  reader.push('abc"\nok,1\n');
  reader.end();
  assert.deepEqual(records.map((r) => [r.line, r.oversized]), [
    [1, true],
    [2, false],
  ]);
  assert.deepEqual(records[1]?.fields, ['ok', '1']);
});

void test('lines: split across chunks, CRLF trimmed, BOM dropped, a too-long line skipped with its number', () => {
  const lines: string[] = [];
  const tooLong: number[] = [];
  const splitter = new LineSplitter({ line: (bytes, n) => lines.push(`${n}:${bytes.toString('utf8')}`), tooLong: (n) => tooLong.push(n) }, 8);
  const text = Buffer.from('\uFEFFab\r\ncafé\n0123456789abc\nlast', 'utf8');
  // Split inside the two-byte "é" too.
  const cut = text.indexOf(0xc3) + 1;
  splitter.push(text.subarray(0, 5));
  splitter.push(text.subarray(5, cut));
  splitter.push(text.subarray(cut, 20));
  splitter.push(text.subarray(20));
  splitter.end();
  assert.deepEqual(lines, ['1:ab', '2:café', '4:last']);
  assert.deepEqual(tooLong, [3]);
});

void test('duplicate table: counts repeats, and once full says the count is a lower bound', () => {
  const hashes = new RowHashes(undefined, 16);
  assert.equal(hashes.seen('a'), false);
  assert.equal(hashes.seen(Buffer.from('a')), true);
  for (let i = 0; i < 20; i++) hashes.seen(`row ${i}`);
  assert.equal(hashes.full, true);
  // Rows remembered before the table filled are still recognised.
  assert.equal(hashes.seen('row 0'), true);
  const builder = new ProfileBuilder('text', new RowHashes(undefined, 16));
  for (let i = 0; i < 20; i++) builder.addRow(`r${i % 15}`, `r${i % 15}`, 2);
  const profile = builder.build(100);
  assert.equal(profile.duplicatesApproximate, true);
  assert.ok(profile.duplicateRows <= 5);
  assert.match(profile.notes.join(), /duplicateRows is a lower bound/);
});

void test('PII: real-looking emails, phones and tokens are found', () => {
  const hits = (text: string): string =>
    Object.entries(findPii(text))
      .filter(([, hit]) => hit)
      .map(([kind]) => kind)
      .join(',');
  assert.equal(hits('write to jane.doe+ml@example.co.uk today'), 'email');
  assert.equal(hits('call (555) 123-4567'), 'phone');
  assert.equal(hits('call +44 20 7946 0958'), 'phone');
  assert.equal(hits('call 555.123.4567.'), 'phone');
  assert.equal(hits('OPENAI_API_KEY=sk-proj-AbCdEf1234567890GhIjKlMnOp'), 'apiKey');
  assert.equal(hits('token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789'), 'apiKey');
  assert.equal(hits('aws AKIAIOSFODNN7EXAMPLE'), 'apiKey');
  assert.equal(hits('HF_TOKEN=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'), 'apiKey');
  assert.equal(hits('slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp'), 'apiKey');
});

void test('PII: common look-alikes are not flagged', () => {
  const quiet = [
    'see icon@2x.png and logo@3x.jpg',
    'dates 2024-01-15 and times 10:30:00, version 1.2.3',
    'card 4111 1111 1111 1111',
    'population 100 000 000 people',
    'uses sk-learn-is-a-library and task-specific-tuning-approaches',
    'the ghost_of_tsushima and hf_transfer flag',
    'ids 1234567890 and 98765432101',
    'ip 192.168.100.123 and 10.0.0.1',
  ];
  for (const text of quiet) assert.deepEqual(findPii(text), { email: false, phone: false, apiKey: false }, text);
});

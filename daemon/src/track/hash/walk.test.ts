import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { hashBytes } from './algorithm.ts';
import { createMemoryHashCache } from './cache.ts';
import { linkBoundary } from './links.ts';
import { createHashPool } from './pool.ts';
import { hashTree } from './tree.ts';

const pool = createHashPool({ size: 2 });
let scratch = '';
before(() => { scratch = mkdtempSync(path.join(tmpdir(), 'keel-walk-')); });
after(async () => {
  await pool.close();
  rmSync(scratch, { recursive: true, force: true });
});

function write(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

void test('a link to / or out of the folder is skipped with where it leads; links inside are followed', { timeout: 30_000 }, async () => {
  const root = path.join(scratch, 'dataset');
  write(path.join(root, 'train.jsonl'), '{"a":1}\n');
  write(path.join(root, 'sub', 'more.jsonl'), '{"b":2}\n');
  write(path.join(scratch, 'outside', 'secret.txt'), 'not part of the dataset');
  symlinkSync('/', path.join(root, 'everything'));
  symlinkSync('../outside', path.join(root, 'sibling'));
  symlinkSync('../outside/secret.txt', path.join(root, 'secret-link.txt'));
  symlinkSync('sub', path.join(root, 'sub-alias'));
  const started = performance.now();
  const tree = await hashTree(root, { pool, cache: createMemoryHashCache(), what: 'dataset folder' });
  assert.ok(performance.now() - started < 10_000, 'the walk never left the folder');
  assert.deepEqual(tree.files.map((f) => f.path), ['sub/more.jsonl', 'train.jsonl']);
  assert.deepEqual(tree.skipped, [
    { path: 'everything', kind: 'outside-link', reason: 'link leaves the dataset folder: -> /' },
    { path: 'secret-link.txt', kind: 'outside-link', reason: `link leaves the dataset folder: -> ${path.join(scratch, 'outside', 'secret.txt')}` },
    { path: 'sibling', kind: 'outside-link', reason: `link leaves the dataset folder: -> ${path.join(scratch, 'outside')}` },
    { path: 'sub-alias', kind: 'duplicate-dir', reason: 'folder already included as "sub"' },
  ]);
});

void test('a Hugging Face cache snapshot follows its links into the repo\'s blobs, and no further', async () => {
  const repo = path.join(scratch, 'hub', 'models--org--tiny');
  write(path.join(repo, 'blobs', 'aaa'), '{"model_type": "llama"}');
  write(path.join(repo, 'blobs', 'bbb'), 'weights');
  write(path.join(scratch, 'hub', 'models--org--other', 'blobs', 'ccc'), 'another repo');
  const snapshot = path.join(repo, 'snapshots', 'rev1');
  mkdirSync(snapshot, { recursive: true });
  symlinkSync('../../blobs/aaa', path.join(snapshot, 'config.json'));
  symlinkSync('../../blobs/bbb', path.join(snapshot, 'model.safetensors'));
  symlinkSync('../../../models--org--other/blobs/ccc', path.join(snapshot, 'stray'));
  assert.equal(linkBoundary(snapshot), repo);
  assert.equal(linkBoundary(path.join(scratch, 'plain')), path.join(scratch, 'plain'));
  const tree = await hashTree(snapshot, { pool, cache: createMemoryHashCache(), what: 'checkpoint folder' });
  assert.deepEqual(tree.files.map((f) => [f.path, f.hash]), [
    ['config.json', hashBytes('{"model_type": "llama"}')],
    ['model.safetensors', hashBytes('weights')],
  ]);
  assert.deepEqual(tree.skipped.map((s) => [s.path, s.kind]), [['stray', 'outside-link']]);
});

void test('a walk stops at its entry limit and says so', async () => {
  const root = path.join(scratch, 'many');
  for (let i = 0; i < 30; i++) write(path.join(root, `d${i % 3}`, `f${i}.txt`), `file ${i}`);
  const tree = await hashTree(root, { pool, cache: createMemoryHashCache(), what: 'dataset folder', maxEntries: 15 });
  assert.ok(tree.fileCount < 15, `${tree.fileCount} files`);
  const limit = tree.skipped.filter((s) => s.kind === 'walk-limit');
  assert.equal(limit.length, 1);
  assert.match(limit[0]?.reason ?? '', /^more than 15 entries: the walk stopped here, and the rest of the dataset folder is left out$/);
});

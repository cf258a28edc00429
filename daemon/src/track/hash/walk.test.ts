import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { hashBytes } from './algorithm.ts';
import { createMemoryHashCache } from './cache.ts';
import { linkBoundary } from './links.ts';
import { createHashPool, type FileHasher } from './pool.ts';
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

void test('listing in the pool\'s workers finds what a walk on this thread finds: links, loops, FIFOs, broken links, ignored folders', async () => {
  const root = path.join(scratch, 'both-ways');
  for (let d = 0; d < 12; d++) for (let f = 0; f < 5; f++) write(path.join(root, `shard-${d}`, `row-${f}.jsonl`), `${d}/${f}`);
  write(path.join(root, 'ünïcödé', '😀.txt'), 'astral');
  write(path.join(root, 'ignored', 'x.txt'), 'never listed');
  symlinkSync('shard-3', path.join(root, 'alias'));
  symlinkSync('..', path.join(root, 'shard-0', 'up'));
  symlinkSync('missing', path.join(root, 'dangling'));
  execFileSync('mkfifo', [path.join(root, 'pipe')]);
  const asked: string[] = [];
  const opts = (hasher: FileHasher, seen: string[]) => ({
    pool: hasher, cache: createMemoryHashCache(), what: 'dataset folder',
    ignore: (rel: string, isDir: boolean) => { seen.push(rel); return isDir && rel === 'ignored'; },
  });
  const inWorkers = await hashTree(root, opts(pool, asked));
  const seenHere: string[] = [];
  // A hasher without listFolder: the walk lists on this thread (fs/promises).
  const onThisThread = await hashTree(root, opts({ hashFile: (p, o) => pool.hashFile(p, o) }, seenHere));
  assert.equal(inWorkers.fileCount, 12 * 5 + 1);
  assert.deepEqual(inWorkers, onThisThread);
  assert.deepEqual(asked, seenHere, 'the ignore rule is asked the same questions, in the same order');
  assert.deepEqual(inWorkers.skipped.map((s) => [s.path, s.kind]), [
    ['dangling', 'broken-symlink'], ['pipe', 'not-regular-file'], ['shard-0/up', 'symlink-loop'], ['shard-3', 'duplicate-dir'],
  ]);
  assert.ok(inWorkers.files.some((f) => f.path === 'ünïcödé/😀.txt'));
  await assert.rejects(pool.listFolder(path.join(root, 'no-such-folder')), (err: NodeJS.ErrnoException) => err.code === 'ENOENT' && /scandir/.test(err.message));
});

void test('a folder listing never waits behind a hash: with every worker busy it is listed on this thread', async () => {
  const one = createHashPool({ size: 1 });
  const dir = path.join(scratch, 'busy');
  write(path.join(dir, 'a', 'x.txt'), 'x');
  const big = path.join(scratch, 'big.bin');
  writeFileSync(big, '');
  truncateSync(big, 8 * 1024 ** 3); // sparse: reading it takes seconds
  const abort = new AbortController();
  const hashing = one.hashFile(big, { signal: abort.signal }).catch((err: unknown) => err);
  try {
    await new Promise((r) => setTimeout(r, 50));
    const started = performance.now();
    const listed = await one.listFolder(dir);
    const ms = performance.now() - started;
    assert.deepEqual(listed.map((e) => [e.name, e.dirent]), [['a', 'dir']]);
    assert.ok(ms < 1_000, `listed in ${ms.toFixed(0)} ms while the only worker hashes 8 GiB`);
    assert.equal(one.bytesRead < 8 * 1024 ** 3, true, 'the hash was still running');
  } finally {
    abort.abort();
    await hashing;
    await one.close();
    rmSync(big, { force: true });
  }
});

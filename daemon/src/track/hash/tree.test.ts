import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { hashBytes } from './algorithm.ts';
import { createMemoryHashCache } from './cache.ts';
import { hashFile } from './file-hash.ts';
import type { FileHash, HashFileOptions } from './file-hash.ts';
import { manifestText } from './manifest.ts';
import { createHashPool } from './pool.ts';
import type { FileHasher } from './pool.ts';
import { hashTree } from './tree.ts';
import { realFixture } from '../../../../test/support/fixtures.ts';

function fixturePath(...parts: string[]): string {
  return realFixture(...parts);
}

const pool = createHashPool({ size: 2 });
let scratch = '';
before(() => { scratch = mkdtempSync(path.join(tmpdir(), 'keel-hash-tree-')); });
after(async () => {
  await pool.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** Creates files (string content) and empty folders (null) under a fresh folder. */
function makeTree(name: string, spec: Record<string, string | null>): string {
  const root = path.join(scratch, name);
  for (const [rel, content] of Object.entries(spec)) {
    const full = path.join(root, rel);
    if (content === null) mkdirSync(full, { recursive: true });
    else {
      mkdirSync(path.dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
  }
  return root;
}

/** Sets every file's mtime an hour back, so the racy-write guard lets the cache keep it. */
function backdate(root: string, secondsAgo = 3600): void {
  const when = new Date(Date.now() - secondsAgo * 1000);
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) utimesSync(path.join(entry.parentPath, entry.name), when, when);
  }
}

/** A pool wrapper that records which files were actually read. */
function recordingPool(paths: string[]): FileHasher {
  return {
    hashFile(file: string, opts?: HashFileOptions): Promise<FileHash> {
      paths.push(file);
      return pool.hashFile(file, opts);
    },
  };
}

void test('real fixture folder: the manifest hash equals the one computed with sha256sum and sort', async () => {
  const root = fixturePath('trainer_state', 'oldest-schema-sagemaker_bart-large-cnn-samsum');
  const tree = await hashTree(root, { pool, cache: createMemoryHashCache() });
  assert.equal(tree.hash, 'sha256:b558705297a6824b4dc06b745d4b73b686ebdd92a59a26e8f61f2209429ff026');
  assert.equal(tree.algo, 'sha256');
  assert.equal(tree.fileCount, 6);
  assert.equal(tree.size, 3803);
  assert.deepEqual(tree.files.map((f) => f.path), [
    'all_results.json', 'checkpoint-500/trainer_state.json', 'eval_results.json',
    'test_results.json', 'train_results.json', 'trainer_state.json',
  ]);
  assert.deepEqual(tree.files[1], {
    path: 'checkpoint-500/trainer_state.json',
    size: 486,
    hash: 'sha256:f648e032cde620bec7d3226c020249528205ec777500f7e74fd47867bfbf45a8',
  });
  assert.deepEqual(tree.skipped, []);
  // A hasher that does not report the identity after reading (the in-thread one) agrees.
  const inThread = await hashTree(root, { pool: { hashFile }, cache: createMemoryHashCache() });
  assert.equal(inThread.hash, tree.hash);
});

void test('a single file: its version id is its content hash, with one manifest entry', async () => {
  const file = fixturePath('tfevents', 'r-tfevents-minimal-plugin-metadata_tfevents-js', 'events.out.tfevents.1687811641.v2');
  const tree = await hashTree(file, { pool, cache: createMemoryHashCache() });
  const hash = 'sha256:da11b689db0945c126e0a1dda2dbc67036042a892af599c63110aaca2d389751';
  assert.deepEqual(tree, {
    hash, algo: 'sha256', size: 94, fileCount: 1, skipped: [],
    files: [{ path: 'events.out.tfevents.1687811641.v2', size: 94, hash }],
  });
});

void test('nested folders: empty folders do not count, odd names work and nothing is run', async () => {
  const odd = ['with space.txt', `quote"s'.txt`, '$(touch PWNED).txt', 'ünï©ødé 🚀.txt', 'new\nline.txt', 'back\\slash.txt', '-n'];
  const spec: Record<string, string | null> = { 'a/b/c.txt': 'c', 'a/empty': null, 'z/deeper/empty': null };
  for (const name of odd) spec[`odd/${name}`] = `content of ${name}`;
  const root = makeTree('nested', spec);
  const tree = await hashTree(root, { pool, cache: createMemoryHashCache() });
  assert.equal(existsSync(path.join(root, 'odd', 'PWNED')), false);
  assert.equal(existsSync('PWNED'), false);
  assert.equal(tree.fileCount, 8);
  assert.deepEqual(tree.skipped, []);
  for (const name of odd) {
    const entry = tree.files.find((f) => f.path === `odd/${name}`);
    assert.deepEqual(entry, { path: `odd/${name}`, size: Buffer.byteLength(`content of ${name}`), hash: hashBytes(`content of ${name}`) });
  }
  assert.equal(tree.hash, hashBytes(manifestText(tree.files)));
  assert.match(manifestText(tree.files), / {2}odd\/new\\nline\.txt\n/);
  const withoutEmpty = makeTree('nested-no-empty', Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== null)));
  assert.equal((await hashTree(withoutEmpty, { pool, cache: createMemoryHashCache() })).hash, tree.hash);
});

void test('symlinks: files hashed as their target, loops and repeated folders reported, never followed twice', async () => {
  const root = makeTree('links', { 'data/train.jsonl': '{"a":1}\n', 'pool/x.txt': 'x' });
  symlinkSync('..', path.join(root, 'data', 'up'));               // loop back to the root
  symlinkSync('train.jsonl', path.join(root, 'data', 'alias.jsonl'));
  // 'data' sorts before 'pool', so the folder is first reached through this link.
  symlinkSync('../pool', path.join(root, 'data', 'pool-link'));
  symlinkSync('missing', path.join(root, 'dangling'));
  symlinkSync('self', path.join(root, 'self'));
  const tree = await hashTree(root, { pool, cache: createMemoryHashCache() });
  assert.deepEqual(tree.files.map((f) => [f.path, f.hash]), [
    ['data/alias.jsonl', hashBytes('{"a":1}\n')],
    ['data/pool-link/x.txt', hashBytes('x')],
    ['data/train.jsonl', hashBytes('{"a":1}\n')],
  ]);
  assert.deepEqual(tree.skipped, [
    { path: 'dangling', kind: 'broken-symlink', reason: 'symlink target does not exist' },
    { path: 'data/up', kind: 'symlink-loop', reason: 'symlink loop: leads back to "."' },
    { path: 'pool', kind: 'duplicate-dir', reason: 'folder already included as "data/pool-link"' },
    { path: 'self', kind: 'symlink-loop', reason: 'symlink loop: too many levels of symbolic links' },
  ]);
});

void test('a file deleted while the tree is being hashed is skipped, not a crash', async () => {
  const spec: Record<string, string> = {};
  for (let i = 0; i < 20; i++) spec[`f${String(i).padStart(2, '0')}`] = `file ${i}`;
  const root = makeTree('deleted', spec);
  const tree = await hashTree(root, {
    pool, cache: createMemoryHashCache(), concurrency: 2,
    onProgress: (p) => { if (p.filesDone === 1 && existsSync(path.join(root, 'f19'))) unlinkSync(path.join(root, 'f19')); },
  });
  assert.equal(tree.fileCount, 19);
  assert.deepEqual(tree.skipped, [{ path: 'f19', kind: 'deleted', reason: 'deleted while hashing' }]);
});

void test('an unchanged tree is never read twice; one changed file is the only one re-read', async () => {
  const root = makeTree('cached', { 'a.txt': 'aaaa', 'b/b.txt': 'bbbb', 'c.bin': 'c'.repeat(100_000) });
  backdate(root);
  const cache = createMemoryHashCache();
  const first = await hashTree(root, { pool: recordingPool([]), cache });
  assert.equal(cache.entries, 3);
  const reads: string[] = [];
  const before = pool.bytesRead;
  const progress: number[] = [];
  const second = await hashTree(root, { pool: recordingPool(reads), cache, onProgress: (p) => progress.push(p.bytesDone) });
  assert.equal(pool.bytesRead - before, 0);
  assert.deepEqual(reads, []);
  assert.equal(second.hash, first.hash);
  assert.equal(progress.at(-1), 100_008);

  writeFileSync(path.join(root, 'b', 'b.txt'), 'BBBB'); // same size, new content
  backdate(path.join(root, 'b'), 1800);
  const third = await hashTree(root, { pool: recordingPool(reads), cache });
  assert.deepEqual(reads, [path.join(root, 'b', 'b.txt')]);
  assert.notEqual(third.hash, first.hash);
  assert.equal(third.files.find((f) => f.path === 'b/b.txt')?.hash, hashBytes('BBBB'));
});

void test('a file written moments ago is hashed but not cached (racy-write guard)', async () => {
  const root = makeTree('racy', { 'fresh.txt': 'fresh' });
  const cache = createMemoryHashCache();
  await hashTree(root, { pool, cache });
  assert.equal(cache.entries, 0);
  await hashTree(root, { pool, cache, racyWindowMs: 0 });
  assert.equal(cache.entries, 1);
});

void test('a file that changes while being read is re-read and its final content hashed', async () => {
  // 64 MiB takes the worker tens of milliseconds, so the append lands while it is still reading.
  const root = makeTree('changing', { 'grows.log': 'x'.repeat(64 * 1024 * 1024) });
  const reads: string[] = [];
  const tree = await hashTree(root, {
    cache: createMemoryHashCache(),
    pool: recordingPool(reads),
    onProgress: () => {
      if (reads.length === 1 && statSync(path.join(root, 'grows.log')).size === 64 * 1024 * 1024) {
        appendFileSync(path.join(root, 'grows.log'), 'tail');
      }
    },
  });
  assert.equal(reads.length, 2);
  assert.deepEqual(tree.files, [{ path: 'grows.log', size: 64 * 1024 * 1024 + 4, hash: hashBytes(`${'x'.repeat(64 * 1024 * 1024)}tail`) }]);
});

void test('FIFOs are skipped without blocking, ignored folders are not entered', async () => {
  const root = makeTree('special', { 'keep.txt': 'k', '.git/HEAD': 'ref', 'node_modules/x/y.js': 'y' });
  execFileSync('mkfifo', [path.join(root, 'pipe')]);
  const seen: string[] = [];
  const tree = await hashTree(root, {
    pool, cache: createMemoryHashCache(),
    ignore: (rel, isDir) => { seen.push(`${rel}${isDir ? '/' : ''}`); return isDir && (rel === '.git' || rel.endsWith('node_modules')); },
  });
  assert.deepEqual(tree.files.map((f) => f.path), ['keep.txt']);
  assert.deepEqual(tree.skipped, [{ path: 'pipe', kind: 'not-regular-file', reason: 'a FIFO (named pipe), not a regular file' }]);
  assert.deepEqual(seen.sort(), ['.git/', 'keep.txt', 'node_modules/', 'pipe']);
});

void test('an unreadable file and folder are skipped (run as user nobody)', { skip: process.getuid?.() !== 0 && 'needs root to switch user' }, () => {
  const root = makeTree('unreadable', { 'ok.txt': 'ok', 'secret.txt': 's', 'locked/inner.txt': 'i' });
  chmodSync(scratch, 0o755);
  chmodSync(path.join(root, 'secret.txt'), 0o000);
  chmodSync(path.join(root, 'locked'), 0o000);
  const script = `import { hashTree, createHashPool, createMemoryHashCache } from ${JSON.stringify(path.join(import.meta.dirname, 'index.ts'))};
    const pool = createHashPool({ size: 1 });
    const tree = await hashTree(${JSON.stringify(root)}, { pool, cache: createMemoryHashCache() });
    await pool.close();
    console.log(JSON.stringify({ files: tree.files.map((f) => f.path), skipped: tree.skipped.map((s) => [s.path, s.kind, s.reason]) }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 20_000 });
  const result: unknown = JSON.parse(out);
  assert.deepEqual(result, {
    files: ['ok.txt'],
    skipped: [
      ['locked', 'unreadable', `cannot read: EACCES: permission denied, scandir '${path.join(root, 'locked')}'`],
      ['secret.txt', 'unreadable', `cannot read (EACCES): ${path.join(root, 'secret.txt')}: EACCES: permission denied, open '${path.join(root, 'secret.txt')}'`],
    ],
  });
});

void test('abort rejects with AbortError; a missing root throws naming the path', async () => {
  const root = makeTree('abort', { 'big.bin': 'x'.repeat(12 * 1024 * 1024) });
  const controller = new AbortController();
  await assert.rejects(
    hashTree(root, { pool, cache: createMemoryHashCache(), signal: controller.signal, onProgress: () => controller.abort() }),
    { name: 'AbortError' },
  );
  const missing = path.join(scratch, 'no such dataset');
  await assert.rejects(hashTree(missing, { pool, cache: createMemoryHashCache() }), {
    message: `cannot hash ${missing}: ENOENT: no such file or directory, stat '${missing}'`,
  });
  assert.equal(statSync(root).isDirectory(), true);
});

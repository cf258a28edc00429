import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { FileReadError, hashFile } from './file-hash.ts';
import type { FileHash } from './file-hash.ts';
import { fileIdentity } from './cache.ts';
import { createHashPool } from './pool.ts';
import { realFixture } from '../../../../test/support/fixtures.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..', '..');
function fixturePath(...parts: string[]): string {
  return realFixture(...parts);
}
const TFEVENTS_94B = fixturePath('tfevents', 'r-tfevents-minimal-plugin-metadata_tfevents-js', 'events.out.tfevents.1687811641.v2');

let dir = '';

/** The content part of a result, without the identity the pool adds. */
async function content(result: Promise<FileHash>): Promise<{ hash: string; size: number }> {
  const { hash, size } = await result;
  return { hash, size };
}
before(() => { dir = mkdtempSync(path.join(tmpdir(), 'keel-hash-pool-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

function sha256sum(file: string): string {
  return `sha256:${execFileSync('sha256sum', [file], { encoding: 'utf8' }).slice(0, 64)}`;
}

void test('pool and in-thread hashFile agree with known answers and with sha256sum', async () => {
  const abc = path.join(dir, 'abc');
  const empty = path.join(dir, 'empty');
  const big = path.join(dir, 'big.bin');
  writeFileSync(abc, 'abc');
  writeFileSync(empty, '');
  writeFileSync(big, randomBytes(9 * 1024 * 1024 + 7)); // several 4 MiB chunks plus a tail
  const pool = createHashPool({ size: 2 });
  try {
    assert.deepEqual(await content(pool.hashFile(abc)), { hash: 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', size: 3 });
    assert.deepEqual(await content(pool.hashFile(empty)), { hash: 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', size: 0 });
    const fixture = { hash: 'sha256:da11b689db0945c126e0a1dda2dbc67036042a892af599c63110aaca2d389751', size: 94 };
    assert.deepEqual(await content(pool.hashFile(TFEVENTS_94B)), fixture);
    assert.deepEqual(await hashFile(TFEVENTS_94B), fixture);
    const bigHash = { hash: sha256sum(big), size: 9 * 1024 * 1024 + 7 };
    const fromPool = await pool.hashFile(big);
    assert.deepEqual(await content(Promise.resolve(fromPool)), bigHash);
    assert.deepEqual(fromPool.identityAfter, fileIdentity(statSync(big, { bigint: true })));
    assert.deepEqual(await hashFile(big), bigHash);
    assert.equal(pool.bytesRead, 3 + 0 + 94 + bigHash.size);
  } finally {
    await pool.close();
  }
});

void test('progress is cumulative per file and ends at its size', async () => {
  const file = path.join(dir, 'progress.bin');
  writeFileSync(file, randomBytes(10 * 1024 * 1024));
  const pool = createHashPool({ size: 1 });
  const seen: number[] = [];
  const inThread: number[] = [];
  try {
    await pool.hashFile(file, { onProgress: (bytes) => seen.push(bytes) });
    await hashFile(file, { onProgress: (bytes) => inThread.push(bytes) });
  } finally {
    await pool.close();
  }
  assert.deepEqual(seen, [4194304, 8388608, 10485760]);
  assert.equal(inThread.length, 10);
  assert.equal(inThread.at(-1), 10485760);
});

void test('missing files and FIFOs fail with a FileReadError code, and the pool keeps working', async () => {
  const fifo = path.join(dir, 'a fifo');
  execFileSync('mkfifo', [fifo]);
  const pool = createHashPool({ size: 1 });
  try {
    const missing = path.join(dir, 'missing');
    await assert.rejects(pool.hashFile(missing), (err) => err instanceof FileReadError && err.code === 'ENOENT' && err.path === missing);
    await assert.rejects(pool.hashFile(fifo), (err) => err instanceof FileReadError && err.code === 'ENOTREG');
    await assert.rejects(hashFile(fifo), (err) => err instanceof FileReadError && err.code === 'ENOTREG');
    assert.equal((await pool.hashFile(TFEVENTS_94B)).size, 94);
  } finally {
    await pool.close();
  }
});

void test('abort stops a running and a queued job; close rejects the rest', async () => {
  const file = path.join(dir, 'abort.bin');
  writeFileSync(file, randomBytes(64 * 1024 * 1024));
  const pool = createHashPool({ size: 1 });
  const controller = new AbortController();
  const running = pool.hashFile(file, { signal: controller.signal, onProgress: () => controller.abort() });
  const queued = pool.hashFile(file, { signal: controller.signal });
  await assert.rejects(running, { name: 'AbortError' });
  await assert.rejects(queued, { name: 'AbortError' });
  assert.ok(pool.bytesRead < 64 * 1024 * 1024, `read ${pool.bytesRead} bytes after abort`);
  assert.equal((await pool.hashFile(TFEVENTS_94B)).size, 94);
  const inFlight = assert.rejects(pool.hashFile(file), /hash pool closed/);
  const waiting = assert.rejects(pool.hashFile(file), /hash pool closed/);
  await pool.close();
  await pool.close();
  await inFlight;
  await waiting;
  await assert.rejects(pool.hashFile(file), /hash pool closed/);
});

void test('an idle pool that was never closed does not keep the process alive', () => {
  const script = `import { createHashPool } from ${JSON.stringify(path.join(import.meta.dirname, 'pool.ts'))};
    const pool = createHashPool();
    console.log((await pool.hashFile(${JSON.stringify(TFEVENTS_94B)})).hash);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(out.trim(), 'sha256:da11b689db0945c126e0a1dda2dbc67036042a892af599c63110aaca2d389751');
});

void test('workers run inside a single esbuild CommonJS bundle (as in dist/keel.js)', () => {
  const entry = path.join(dir, 'entry.ts');
  const bundle = path.join(dir, 'bundle.cjs');
  writeFileSync(entry, `import { createHashPool, createMemoryHashCache, hashTree } from ${JSON.stringify(path.join(import.meta.dirname, 'index.ts'))};
    async function main(): Promise<void> {
      const pool = createHashPool({ size: 2 });
      const tree = await hashTree(process.argv[2] ?? '', { pool, cache: createMemoryHashCache() });
      const file = await pool.hashFile(process.argv[3] ?? '');
      await pool.close();
      console.log(JSON.stringify({ tree: tree.hash, files: tree.fileCount, file: file.hash }));
    }
    void main();`);
  const esbuild = path.join(repoRoot, 'node_modules', '.bin', 'esbuild');
  execFileSync(esbuild, [entry, '--bundle', '--platform=node', '--format=cjs', '--log-level=warning', `--outfile=${bundle}`]);
  const bart = fixturePath('trainer_state', 'oldest-schema-sagemaker_bart-large-cnn-samsum');
  const out = execFileSync(process.execPath, [bundle, bart, TFEVENTS_94B], { encoding: 'utf8', timeout: 20_000, cwd: dir });
  assert.deepEqual(JSON.parse(out), {
    tree: 'sha256:b558705297a6824b4dc06b745d4b73b686ebdd92a59a26e8f61f2209429ff026',
    files: 6,
    file: 'sha256:da11b689db0945c126e0a1dda2dbc67036042a892af599c63110aaca2d389751',
  });
});

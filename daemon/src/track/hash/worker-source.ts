/**
 * The hash worker's body, as plain JavaScript source run with `new Worker(src, { eval: true })`.
 *
 * Why a string and not `new URL('./worker.ts', import.meta.url)`: the daemon ships as ONE
 * esbuild CommonJS bundle (dist/keel.js) in which no separate worker file exists, while tests
 * run the TypeScript sources directly. Source evaluated in the worker works the same in both,
 * and under VS Code's Electron runtime. It loads Node built-ins with process.getBuiltinModule
 * (Node >= 20.16), not `require`: an eval worker inherits the parent's execArgv, and under
 * `--input-type=module` its source runs as an ES module where `require` does not exist.
 *
 * Messages in:  { type: 'hash', id, path, algo, chunkBytes, openFlags } | { type: 'cancel', id }
 * Messages out: { type: 'progress', id, bytes } (cumulative) | { type: 'done', id, hex, size }
 *             | { type: 'error', id, code, message }
 * A worker runs one job at a time; the pool never sends it a second one before 'done'/'error'.
 */
export const HASH_WORKER_SOURCE = String.raw`'use strict';
const { parentPort } = process.getBuiltinModule('node:worker_threads');
const { createHash } = process.getBuiltinModule('node:crypto');
const fsp = process.getBuiltinModule('node:fs/promises');

let currentId = -1;
let cancelled = false;
let buffer = Buffer.alloc(0);

parentPort.on('message', (msg) => {
  if (msg.type === 'cancel') {
    if (msg.id === currentId) cancelled = true;
  } else if (msg.type === 'hash') {
    void hashOne(msg);
  }
});

function fail(code, message) {
  const err = new Error(message);
  err.code = code;
  return err;
}

async function hashOne(job) {
  currentId = job.id;
  cancelled = false;
  let handle;
  try {
    handle = await fsp.open(job.path, job.openFlags);
    if (!(await handle.stat()).isFile()) throw fail('ENOTREG', 'not a regular file');
    if (buffer.length !== job.chunkBytes) buffer = Buffer.allocUnsafe(job.chunkBytes);
    const hasher = createHash(job.algo);
    let size = 0;
    for (;;) {
      if (cancelled) throw fail('ABORT_ERR', 'hashing was cancelled');
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hasher.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
      parentPort.postMessage({ type: 'progress', id: job.id, bytes: size });
    }
    parentPort.postMessage({ type: 'done', id: job.id, hex: hasher.digest('hex'), size });
  } catch (err) {
    const code = err && typeof err.code === 'string' ? err.code : 'EIO';
    const message = err && typeof err.message === 'string' ? err.message : String(err);
    parentPort.postMessage({ type: 'error', id: job.id, code, message });
  } finally {
    currentId = -1;
    if (handle) await handle.close().catch(() => undefined);
  }
}
`;

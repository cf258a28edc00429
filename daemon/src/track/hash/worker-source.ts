/**
 * The hash worker's body, as plain JavaScript source run with `new Worker(src, { eval: true })`.
 *
 * Why a string and not `new URL('./worker.ts', import.meta.url)`: the daemon ships as ONE
 * esbuild CommonJS bundle (dist/keel.js) in which no separate worker file exists, while tests
 * run the TypeScript sources directly. Source evaluated in the worker works the same in both,
 * and under VS Code's Electron runtime. It loads Node built-ins with process.getBuiltinModule
 * (Node >= 20.16; `require` only as a fallback): an eval worker inherits the parent's
 * execArgv, and under `--input-type=module` it runs as an ES module without `require`.
 *
 * The worker owns its thread, so it reads with blocking calls: for many small files that is
 * faster than async reads, which each hop through libuv's shared thread pool. It is cancelled
 * through a SharedArrayBuffer (workerData.cancelFlag) because it cannot read messages while busy.
 *
 * Messages in:  { type: 'hash', id, path, algo, chunkBytes, openFlags } | { type: 'list', id, path }
 * Messages out: { type: 'progress', id, bytes } (cumulative) | { type: 'done', id, hex, size, after }
 *             | { type: 'listed', id, entries } | { type: 'error', id, code, message }
 * A listing is one array per entry (pool.ts parseListing): the folder's entries with a stat of
 * each (following links), so a walk costs its caller one message per folder, not a stat per file.
 * A worker runs one job at a time; the pool never sends it a second one before 'done'/'error'.
 */
export const HASH_WORKER_SOURCE = String.raw`'use strict';
const load = (id) => (typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule(id) : require(id));
const { parentPort, workerData } = load('node:worker_threads');
const { createHash } = load('node:crypto');
const fs = load('node:fs');
const { sep } = load('node:path');

// The pool writes the id of a job to cancel here; a blocked thread cannot read messages.
const cancelFlag = new Int32Array(workerData.cancelFlag);
let buffer = Buffer.alloc(0);

parentPort.on('message', (job) => {
  if (job.type === 'hash') parentPort.postMessage(hashOne(job));
  else if (job.type === 'list') parentPort.postMessage(listOne(job));
});

function kindOf(st) {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'other';
}

function listOne(job) {
  let dirents;
  try {
    dirents = fs.readdirSync(job.path, { withFileTypes: true });
  } catch (err) {
    const code = err && typeof err.code === 'string' ? err.code : 'EIO';
    const message = err && typeof err.message === 'string' ? err.message : String(err);
    return { type: 'error', id: job.id, code, message };
  }
  const entries = new Array(dirents.length);
  const prefix = job.path.endsWith(sep) ? job.path : job.path + sep;
  for (let i = 0; i < dirents.length; i++) {
    const d = dirents[i];
    const dirent = d.isDirectory() ? 'dir' : d.isSymbolicLink() ? 'link' : d.isFile() ? 'file' : 'other';
    try {
      const st = fs.statSync(prefix + d.name, { bigint: true });
      entries[i] = [d.name, dirent, kindOf(st), String(st.dev), String(st.ino), Number(st.size), String(st.mtimeNs)];
    } catch (err) {
      const code = err && typeof err.code === 'string' ? err.code : 'EIO';
      const message = err && typeof err.message === 'string' ? err.message : String(err);
      entries[i] = [d.name, dirent, null, code, message];
    }
  }
  return { type: 'listed', id: job.id, entries };
}

function fail(code, message) {
  const err = new Error(message);
  err.code = code;
  return err;
}

// The path's identity right after reading, so the pool's caller can tell a file that changed
// or vanished meanwhile without another stat on its own event loop. null: the path is gone.
function identityOf(path) {
  const st = fs.statSync(path, { bigint: true, throwIfNoEntry: false });
  if (!st) return null;
  return { dev: String(st.dev), ino: String(st.ino), size: Number(st.size), mtimeNs: String(st.mtimeNs) };
}

function hashOne(job) {
  let fd = -1;
  try {
    fd = fs.openSync(job.path, job.openFlags);
    if (!fs.fstatSync(fd).isFile()) throw fail('ENOTREG', 'not a regular file');
    if (buffer.length !== job.chunkBytes) buffer = Buffer.allocUnsafe(job.chunkBytes);
    const hasher = createHash(job.algo);
    let size = 0;
    for (;;) {
      if (Atomics.load(cancelFlag, 0) === job.id) throw fail('ABORT_ERR', 'hashing was cancelled');
      const bytesRead = fs.readSync(fd, buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hasher.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
      parentPort.postMessage({ type: 'progress', id: job.id, bytes: size });
    }
    return { type: 'done', id: job.id, hex: hasher.digest('hex'), size, after: identityOf(job.path) };
  } catch (err) {
    const code = err && typeof err.code === 'string' ? err.code : 'EIO';
    const message = err && typeof err.message === 'string' ? err.message : String(err);
    return { type: 'error', id: job.id, code, message };
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}
`;

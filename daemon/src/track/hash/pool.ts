/**
 * A small pool of worker threads that hash files, so reading and digesting gigabytes never
 * blocks the daemon's event loop. Workers start on first use, and an idle pool does not keep
 * the process alive.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { HASH_ALGO, READ_CHUNK_BYTES, formatHash } from './algorithm.ts';
import type { FileIdentity } from './cache.ts';
import { FileReadError, OPEN_FLAGS } from './file-hash.ts';
import type { FileHash, HashFileOptions } from './file-hash.ts';
import { listFolder, type EntryStat, type ListedEntry } from './walk.ts';
import { HASH_WORKER_SOURCE } from './worker-source.ts';

/** Anything that can hash a file: the pool, or a wrapper around it (tests count reads). */
export interface FileHasher {
  hashFile(path: string, opts?: HashFileOptions): Promise<FileHash>;
  /**
   * Lists a folder with a stat of every entry (walk.ts FolderLister), off the caller's
   * thread. Optional: without it a walk lists on its own thread.
   */
  listFolder?(path: string): Promise<ListedEntry[]>;
}

/** A pool of hash workers. */
export interface HashPool extends FileHasher {
  /** Number of worker threads the pool may run at once. */
  readonly size: number;
  /** Total bytes the workers have read since the pool was created (cache hits read none). */
  readonly bytesRead: number;
  /** Lists a folder with a stat of every entry, in a worker (blocking calls there). */
  listFolder(path: string): Promise<ListedEntry[]>;
  /** Stops all workers; queued and running jobs reject. Calling it twice is harmless. */
  close(): Promise<void>;
}

/** Pool options. */
export interface HashPoolOptions {
  /** Worker threads; default min(2, CPUs), so hashing leaves a core for everything else. */
  size?: number;
}

interface Job {
  id: number;
  /** 'hash' a file, or 'list' a folder. */
  type: 'hash' | 'list';
  path: string;
  opts: HashFileOptions;
  bytesSeen: number;
  resolve: (result: FileHash) => void;
  resolveList?: (entries: ListedEntry[]) => void;
  reject: (err: unknown) => void;
  onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
  /** Shared with the worker: the id of the job it should stop. */
  cancelFlag: Int32Array;
}

type WorkerMessage =
  | { type: 'progress'; id: number; bytes: number }
  | { type: 'done'; id: number; hex: string; size: number; after: FileIdentity | null }
  | { type: 'listed'; id: number; entries: unknown[] }
  | { type: 'error'; id: number; code: string; message: string };

/** Creates a hash pool; `close()` it when the daemon stops. */
export function createHashPool(options: HashPoolOptions = {}): HashPool {
  const size = Math.max(1, Math.floor(options.size ?? Math.min(2, availableParallelism())));
  return new WorkerHashPool(size);
}

class WorkerHashPool implements HashPool {
  readonly size: number;
  #bytesRead = 0;
  #nextId = 1;
  #closed = false;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];

  constructor(size: number) {
    this.size = size;
  }

  get bytesRead(): number {
    return this.#bytesRead;
  }

  hashFile(path: string, opts: HashFileOptions = {}): Promise<FileHash> {
    if (this.#closed) return Promise.reject(new Error('hash pool closed'));
    if (opts.signal?.aborted) return Promise.reject(abortReason(opts.signal));
    return new Promise<FileHash>((resolve, reject) => {
      const job: Job = { id: this.#nextId++, type: 'hash', path, opts, bytesSeen: 0, resolve, reject };
      if (opts.signal) {
        job.onAbort = () => this.#abortJob(job);
        opts.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.#queue.push(job);
      this.#dispatch();
    });
  }

  listFolder(path: string): Promise<ListedEntry[]> {
    if (this.#closed) return Promise.reject(new Error('hash pool closed'));
    // Never behind a hash (a big file takes seconds): a listing goes ahead of queued hashes,
    // and when every worker is hashing it is done with this thread's async calls instead, so
    // one folder's hashing never holds up another's walk.
    const free = this.#slots.length < this.size || this.#slots.some((s) => s.job === undefined || s.job.type === 'list');
    if (!free) return listFolder(path);
    return new Promise<ListedEntry[]>((resolveList, reject) => {
      const at = this.#queue.findIndex((j) => j.type !== 'list');
      const job: Job = { id: this.#nextId++, type: 'list', path, opts: {}, bytesSeen: 0, resolve: () => {}, resolveList, reject };
      if (at < 0) this.#queue.push(job);
      else this.#queue.splice(at, 0, job);
      this.#dispatch();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const job of this.#queue.splice(0)) {
      settle(job);
      job.reject(new Error('hash pool closed'));
    }
    await Promise.all(this.#slots.map((slot) => slot.worker.terminate()));
  }

  #startWorker(): Slot {
    const cancelFlag = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(HASH_WORKER_SOURCE, {
      eval: true, name: 'keel-hash', workerData: { cancelFlag: cancelFlag.buffer },
    });
    const slot: Slot = { worker, job: undefined, cancelFlag };
    worker.on('message', (raw: unknown) => this.#onMessage(slot, raw));
    worker.on('error', (err) => this.#dropWorker(slot, err));
    worker.on('exit', (code) => this.#dropWorker(slot, new Error(`hash worker exited with code ${code}`)));
    this.#slots.push(slot);
    return slot;
  }

  /** A crashed worker fails only its own job; the next job gets a fresh worker. */
  #dropWorker(slot: Slot, err: unknown): void {
    const index = this.#slots.indexOf(slot);
    if (index < 0) return;
    this.#slots.splice(index, 1);
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      settle(job);
      job.reject(this.#closed ? new Error('hash pool closed') : err);
    }
    if (!this.#closed) this.#dispatch();
  }

  #onMessage(slot: Slot, raw: unknown): void {
    const msg = parseWorkerMessage(raw);
    const job = slot.job;
    if (!msg || !job || msg.id !== job.id) return;
    if (msg.type === 'progress') {
      this.#bytesRead += msg.bytes - job.bytesSeen;
      job.bytesSeen = msg.bytes;
      if (!job.opts.signal?.aborted) job.opts.onProgress?.(msg.bytes);
      return;
    }
    slot.job = undefined;
    slot.worker.unref();
    settle(job);
    if (msg.type === 'done') job.resolve({ hash: formatHash(msg.hex), size: msg.size, identityAfter: msg.after });
    else if (msg.type === 'listed') {
      const entries = parseListing(msg.entries);
      if (entries) job.resolveList?.(entries);
      else job.reject(new Error(`the hash worker sent a malformed listing of ${job.path}`));
    } else if (job.type === 'list') job.reject(errnoError(msg.code, msg.message));
    else job.reject(new FileReadError(job.path, msg.code, msg.message));
    this.#dispatch();
  }

  #dispatch(): void {
    while (!this.#closed && this.#queue.length > 0) {
      const slot = this.#slots.find((s) => s.job === undefined)
        ?? (this.#slots.length < this.size ? this.#startWorker() : undefined);
      const job = slot && this.#queue.shift();
      if (!slot || !job) return;
      slot.job = job;
      slot.worker.ref();
      if (job.type === 'list') slot.worker.postMessage({ type: 'list', id: job.id, path: job.path });
      else {
        slot.worker.postMessage({
          type: 'hash', id: job.id, path: job.path, algo: HASH_ALGO,
          chunkBytes: READ_CHUNK_BYTES, openFlags: OPEN_FLAGS,
        });
      }
    }
  }

  /** A queued job leaves the queue; a running one is told to stop and rejects at once. */
  #abortJob(job: Job): void {
    settle(job);
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) this.#queue.splice(queued, 1);
    const slot = this.#slots.find((s) => s.job === job);
    // The worker stays busy until it replies; that late reply lands on a settled promise.
    if (slot) Atomics.store(slot.cancelFlag, 0, job.id);
    job.reject(abortReason(job.opts.signal));
  }
}

/** The signal's own reason when it is an Error (the usual AbortError), else a fresh one. */
function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new DOMException('hashing was aborted', 'AbortError');
}

function settle(job: Job): void {
  if (job.onAbort) job.opts.signal?.removeEventListener('abort', job.onAbort);
}

/** Checks a worker reply's shape before trusting it. */
function parseWorkerMessage(raw: unknown): WorkerMessage | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  if (typeof m.id !== 'number') return undefined;
  if (m.type === 'progress' && typeof m.bytes === 'number') {
    return { type: 'progress', id: m.id, bytes: m.bytes };
  }
  if (m.type === 'done' && typeof m.hex === 'string' && typeof m.size === 'number') {
    const after = m.after === null ? null : parseIdentity(m.after);
    if (after !== undefined) return { type: 'done', id: m.id, hex: m.hex, size: m.size, after };
  }
  if (m.type === 'listed' && Array.isArray(m.entries)) return { type: 'listed', id: m.id, entries: m.entries as unknown[] };
  if (m.type === 'error' && typeof m.code === 'string' && typeof m.message === 'string') {
    return { type: 'error', id: m.id, code: m.code, message: m.message };
  }
  return undefined;
}

function parseIdentity(raw: unknown): FileIdentity | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r.dev !== 'string' || typeof r.ino !== 'string' || typeof r.size !== 'number' || typeof r.mtimeNs !== 'string') {
    return undefined;
  }
  return { dev: r.dev, ino: r.ino, size: r.size, mtimeNs: r.mtimeNs };
}

/** An Error as fs would throw it: `code` and the message naming the call and path. */
function errnoError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

const STAT_KINDS: ReadonlySet<string> = new Set(['file', 'dir', 'fifo', 'socket', 'char', 'block', 'other']);
const DIRENT_KINDS: ReadonlySet<string> = new Set(['dir', 'link', 'file', 'other']);

/**
 * A worker's listing: `[name, dirent, kind, dev, ino, size, mtimeNs]` per entry, or
 * `[name, dirent, null, code, message]` for an entry that could not be stat'ed. Undefined
 * when malformed.
 */
function parseListing(raw: unknown[]): ListedEntry[] | undefined {
  const out = new Array<ListedEntry>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i];
    if (!Array.isArray(r) || typeof r[0] !== 'string' || !DIRENT_KINDS.has(r[1] as string)) return undefined;
    const dirent = r[1] as ListedEntry['dirent'];
    if (r[2] === null) {
      if (typeof r[3] !== 'string' || typeof r[4] !== 'string') return undefined;
      out[i] = { name: r[0], dirent, stat: errnoError(r[3], r[4]) };
      continue;
    }
    if (!STAT_KINDS.has(r[2] as string) || typeof r[3] !== 'string' || typeof r[4] !== 'string' || typeof r[5] !== 'number' || typeof r[6] !== 'string') return undefined;
    const stat: EntryStat = { kind: r[2] as EntryStat['kind'], identity: { dev: r[3], ino: r[4], size: r[5], mtimeNs: r[6] } };
    out[i] = { name: r[0], dirent, stat };
  }
  return out;
}

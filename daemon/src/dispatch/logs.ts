/**
 * Streams a running job's `logs/output.log` from its byte cursor: a read-only `tail -c +N -F`
 * on its own channel. Received bytes are appended to a local copy (so `keel logs` works
 * while the host is unreachable), the cursor is stored, and complete lines are pushed to
 * subscribers. A dropped tail is restarted from the cursor: nothing is lost or repeated.
 */
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Store } from '../store/index.ts';
import type { Job } from '../store/jobs.ts';
import type { HostConnection } from './transport/connection.ts';
import { ensurePrivateDir } from '../home/paths.ts';

const LOG_FILE = 'logs/output.log';

export interface LogSink {
  (runId: string, lines: string[], offset: number): void;
}

interface Follow {
  child: ChildProcess;
  runId: string;
  /** Bytes after the last newline, not yet pushed. */
  pending: Buffer;
  /** Offset just past the bytes received. */
  offset: number;
}

export function localLogPath(keelHome: string, runId: string, attempt: number): string {
  return join(keelHome, 'logs', runId, `${attempt}.log`);
}

export class LogFollower {
  private readonly follows = new Map<string, Follow>();
  private readonly store: Store;
  private readonly keelHome: string;
  private readonly sink: LogSink;
  /** Last time each job's log grew (for "stalled" alerts). */
  readonly lastGrowth = new Map<string, number>();

  /** Told when a chunk could not be kept (disk full, database busy); the follow stops and the next reconcile resumes it. */
  private readonly onError: (runId: string, err: Error) => void;

  constructor(store: Store, keelHome: string, sink: LogSink, onError: (runId: string, err: Error) => void = () => {}) {
    this.store = store;
    this.keelHome = keelHome;
    this.sink = sink;
    this.onError = onError;
  }

  isFollowing(jobId: string): boolean {
    return this.follows.has(jobId);
  }

  private owner(job: Job): string {
    return `job:${job.id}`;
  }

  offset(job: Job): number {
    return this.store.cursors.get(this.owner(job), LOG_FILE)?.byteOffset ?? 0;
  }

  /** Starts following (no-op when already following). */
  follow(job: Job, conn: HostConnection): void {
    if (this.follows.has(job.id)) return;
    const local = localLogPath(this.keelHome, job.runId, job.attempt);
    ensurePrivateDir(dirname(local));
    const start = this.offset(job);
    const child = conn.follow(`${job.jobDir}/${LOG_FILE}`, start);
    const f: Follow = { child, runId: job.runId, pending: Buffer.alloc(0), offset: start };
    this.follows.set(job.id, f);
    child.stdout?.on('data', (chunk: Buffer) => {
      // An event handler that throws ends the daemon: a chunk that cannot be kept stops this
      // follow instead, and the next reconcile starts it again from the stored cursor.
      try {
        this.receive(job, f, local, chunk);
      } catch (err) {
        if (this.follows.get(job.id) === f) this.follows.delete(job.id);
        f.child.kill('SIGTERM');
        this.onError(job.runId, err as Error);
      }
    });
    child.once('exit', () => {
      if (this.follows.get(job.id) === f) this.follows.delete(job.id);
    });
    child.once('error', () => this.follows.delete(job.id));
  }

  /** Keeps a received chunk: local copy, cursor, then complete lines to subscribers. */
  private receive(job: Job, f: Follow, local: string, chunk: Buffer): void {
    appendFileSync(local, chunk, { mode: 0o600 });
    f.offset += chunk.length;
    this.store.cursors.put(this.owner(job), LOG_FILE, { byteOffset: f.offset });
    this.lastGrowth.set(job.id, Date.now());
    const data = Buffer.concat([f.pending, chunk]);
    const end = data.lastIndexOf(0x0a);
    if (end === -1) {
      f.pending = data;
      return;
    }
    f.pending = data.subarray(end + 1);
    const lines = data.subarray(0, end).toString('utf8').split('\n');
    this.sink(job.runId, lines, f.offset - f.pending.length);
  }

  /** Stops following; pushes a final partial line. */
  stop(jobId: string): void {
    const f = this.follows.get(jobId);
    if (!f) return;
    this.follows.delete(jobId);
    f.child.kill('SIGTERM');
    if (f.pending.length > 0) this.sink(f.runId, [f.pending.toString('utf8')], f.offset);
  }

  stopAll(): void {
    for (const id of [...this.follows.keys()]) this.stop(id);
  }
}

/** Reads up to `maxBytes` of a run's local log copy from `offset`. */
export function readLocalLog(path: string, offset: number, maxBytes: number): { text: string; offset: number; size: number } {
  if (!existsSync(path)) return { text: '', offset, size: 0 };
  const size = statSync(path).size;
  const start = Math.min(Math.max(0, offset), size);
  const len = Math.min(maxBytes, size - start);
  const buf = Buffer.alloc(len);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, len, start);
  } finally {
    closeSync(fd);
  }
  return { text: buf.toString('utf8'), offset: start + len, size };
}

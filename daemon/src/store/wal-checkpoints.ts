/**
 * WAL checkpoints off the daemon's loop. By default SQLite checkpoints in the connection
 * that commits, once the WAL passes 1,000 pages: the commit that crosses the line copies
 * ~4 MB into the main file and fsyncs it, on the daemon's loop: about one commit in five
 * during a bulk import (an 800,000-point trainer_state.json: ~30 of them). Measured,
 * ten imports alternating: median 1.81 s with them, 1.74 s with this thread (and 1.86 s vs
 * 2.13 s, on a noisier run, with no checkpoints at all).
 *
 * Instead, every CHECK_EVERY_MS that the connection wrote anything, a thread of its own
 * (checkpoint-worker.ts, started at the first write) runs a PASSIVE checkpoint, which never
 * blocks the daemon's reads or writes. The daemon's connection still checkpoints itself past
 * FALLBACK_PAGES, so the WAL stays bounded if the thread falls behind or dies (then it goes
 * back to SQLite's default).
 */
import { Worker } from 'node:worker_threads';
import type { Db } from './db.ts';
import type { CheckpointReply, CheckpointWorkerData } from './checkpoint-worker.ts';
import { checkpointWorkerUrl, workerExecArgv } from '../work/worker-url.ts';

/** How often the daemon looks for new writes to checkpoint. */
export const CHECK_EVERY_MS = 250;
/** The daemon's own connection checkpoints past this many WAL pages (40 MB at 4 KiB pages) — only when the thread is behind. */
export const FALLBACK_PAGES = 10_000;
/** SQLite's default wal_autocheckpoint, put back when the thread cannot run. */
const SQLITE_DEFAULT_PAGES = 1_000;
/** How long close() waits for the thread's connection to close. */
const CLOSE_WAIT_MS = 2_000;

export interface WalCheckpointStats {
  /** Checkpoints the thread ran, and the WAL frames they copied. */
  runs: number;
  frames: number;
  /** The longest one, ms (on the thread: the daemon's loop did not wait for it). */
  longestMs: number;
  /** Why the thread stopped, when it did (the connection checkpoints itself again). */
  failed: string | null;
}

export class BackgroundCheckpoints {
  private readonly db: Db;
  private readonly file: string;
  private readonly onError: (message: string) => void;
  private readonly totalChanges;
  private readonly timer: NodeJS.Timeout;
  private worker: Worker | null = null;
  private readonly closedFlag = new SharedArrayBuffer(4);
  private inFlight = false;
  private seenChanges: number;
  private stopped = false;
  readonly stats: WalCheckpointStats = { runs: 0, frames: 0, longestMs: 0, failed: null };

  constructor(db: Db, file: string, onError: (message: string) => void = () => undefined) {
    this.db = db;
    this.file = file;
    this.onError = onError;
    this.totalChanges = db.prepare('SELECT total_changes()').pluck();
    this.seenChanges = this.totalChanges.get() as number;
    db.pragma(`wal_autocheckpoint = ${FALLBACK_PAGES}`);
    this.timer = setInterval(() => this.tick(), CHECK_EVERY_MS);
    this.timer.unref();
  }

  /** Asks the thread for a checkpoint when the connection wrote since the last one and none is running. */
  private tick(): void {
    if (this.stopped || this.inFlight) return;
    const changes = this.totalChanges.get() as number;
    if (changes === this.seenChanges) return;
    this.seenChanges = changes;
    try {
      this.worker ??= this.start();
    } catch (err) {
      this.fail(`cannot start the checkpoint thread: ${(err as Error).message}`);
      return;
    }
    this.inFlight = true;
    this.worker.postMessage('checkpoint');
  }

  private start(): Worker {
    const data: CheckpointWorkerData = { file: this.file, closed: this.closedFlag };
    const worker = new Worker(checkpointWorkerUrl(), { name: 'keel-checkpoint', workerData: data, ...workerExecArgv(process.execArgv) });
    worker.unref();
    worker.on('message', (reply: CheckpointReply) => {
      this.inFlight = false;
      if (reply.type === 'error') {
        // A checkpoint can fail for a moment (the file busy with a backup…): the next write asks again.
        this.onError(`WAL checkpoint failed: ${reply.message}`);
        return;
      }
      this.stats.runs++;
      this.stats.frames += reply.checkpointed;
      this.stats.longestMs = Math.max(this.stats.longestMs, reply.ms);
    });
    worker.on('error', (err: Error) => this.fail(`the checkpoint thread failed: ${err.message}`));
    worker.on('exit', (code) => {
      if (!this.stopped) this.fail(`the checkpoint thread exited with code ${code}`);
    });
    return worker;
  }

  /** The thread is gone: the connection checkpoints itself again, as SQLite does by default. */
  private fail(message: string): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.stats.failed = message;
    this.worker = null;
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_PAGES}`);
    this.onError(`${message}; the daemon checkpoints its WAL itself from now on`);
  }

  /**
   * Stops the checks and closes the thread's connection, waiting for it (up to CLOSE_WAIT_MS,
   * a checkpoint in progress finishing first), so the caller's last checkpoint and close find
   * no other connection. Synchronous: Store.close is.
   */
  close(): void {
    if (this.stopped && this.worker === null) return;
    this.stopped = true;
    clearInterval(this.timer);
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    worker.postMessage('close');
    Atomics.wait(new Int32Array(this.closedFlag), 0, 0, CLOSE_WAIT_MS);
    void worker.terminate();
  }
}

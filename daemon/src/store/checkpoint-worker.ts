/**
 * The WAL checkpointer's thread (wal-checkpoints.ts starts it). Its own connection to the
 * daemon's database copies committed WAL frames into the main file whenever the daemon asks:
 * a PASSIVE checkpoint, which never waits on and never blocks the daemon's reads and writes,
 * so the page copies and fsyncs are off the daemon's loop. One message in ('checkpoint'),
 * one out; 'close' closes the connection and says so through the shared flag (the daemon
 * waits for it before its own last checkpoint).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** What the daemon hands over. */
export interface CheckpointWorkerData {
  file: string;
  /** An Int32Array's buffer: set to 1 (and notified) once the connection is closed. */
  closed: SharedArrayBuffer;
}

/** The answer to one 'checkpoint': SQLite's own counts (frames in the WAL, frames copied), or why it failed. */
export type CheckpointReply = { type: 'done'; busy: number; log: number; checkpointed: number; ms: number } | { type: 'error'; message: string };

const port = parentPort;
if (port) {
  const data = workerData as CheckpointWorkerData;
  const closed = new Int32Array(data.closed);
  let db: Database.Database | null = null;
  port.on('message', (m: unknown) => {
    if (m === 'close') {
      db?.close();
      db = null;
      Atomics.store(closed, 0, 1);
      Atomics.notify(closed, 0);
      port.close();
      return;
    }
    if (m !== 'checkpoint') return;
    const t0 = performance.now();
    try {
      db ??= new Database(data.file, { fileMustExist: true });
      const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
      port.postMessage({ type: 'done', busy: row?.busy ?? 0, log: row?.log ?? 0, checkpointed: row?.checkpointed ?? 0, ms: performance.now() - t0 } satisfies CheckpointReply);
    } catch (err) {
      port.postMessage({ type: 'error', message: (err as Error).message } satisfies CheckpointReply);
    }
  });
}

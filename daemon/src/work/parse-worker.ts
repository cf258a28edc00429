/**
 * The parse worker's entry: runs one task at a time for the pool in pool.ts. A streaming task
 * posts a batch and reads the next while the daemon writes it, but never more than
 * {@link AHEAD} batches past the daemon's acks: what the worker holds is bounded by two
 * batches, and a daemon that writes slowly slows the reader down. A task's result is posted
 * only once every batch was acked, so the daemon has handled them all when it gets it.
 */
import { parentPort } from 'node:worker_threads';
import { parseToWorker, toWireError, type FromWorker, type ToWorker } from './wire.ts';
import { WORKER_TASKS } from './worker-tasks.ts';

/** Thrown inside a task when the daemon asked it to stop (its batch handler failed). */
class TaskStopped extends Error {
  constructor() {
    super('stopped by the daemon');
    this.name = 'TaskStopped';
  }
}

const port = parentPort;
if (port === null) throw new Error('parse-worker.ts runs only as a worker thread');
/** Batches posted and not yet acked, at most. */
const AHEAD = 2;

/** A running task's acks: batches not yet acked, whether the daemon asked it to stop, and who waits. */
interface Acks {
  unacked: number;
  stop: boolean;
  wake: (() => void) | undefined;
}
const acks = new Map<number, Acks>();

port.on('message', (raw: unknown) => {
  const msg = parseToWorker(raw);
  if (msg?.type === 'task') void runTask(msg);
  else if (msg?.type === 'ack') {
    const a = acks.get(msg.id);
    if (a === undefined) return;
    a.unacked--;
    if (msg.stop) a.stop = true;
    a.wake?.();
  }
});

/** Waits until at most `max` batches of the task are unacked (or it was told to stop). */
async function acked(a: Acks, max: number): Promise<void> {
  while (a.unacked > max && !a.stop) await new Promise<void>((resolve) => (a.wake = resolve));
  a.wake = undefined;
}

function post(msg: FromWorker, transfer?: ArrayBuffer[]): void {
  port?.postMessage(msg, transfer);
}

async function runTask(msg: Extract<ToWorker, { type: 'task' }>): Promise<void> {
  post({ type: 'started', id: msg.id });
  let seq = 0;
  const a: Acks = { unacked: 0, stop: false, wake: undefined };
  acks.set(msg.id, a);
  const emit = async (data: unknown, transfer?: ArrayBuffer[]): Promise<void> => {
    if (a.stop) throw new TaskStopped();
    post({ type: 'batch', id: msg.id, seq: seq++, data }, transfer);
    a.unacked++;
    await acked(a, AHEAD - 1);
    if (a.stop) throw new TaskStopped();
  };
  try {
    const task = (WORKER_TASKS as Record<string, ((args: unknown, emit: (data: unknown, transfer?: ArrayBuffer[]) => Promise<void>) => unknown) | undefined>)[msg.kind];
    if (task === undefined) throw new Error(`no task "${msg.kind}" in the parse worker`);
    const result = await task(msg.args, emit);
    await acked(a, 0);
    if (a.stop) throw new TaskStopped();
    post({ type: 'done', id: msg.id, result });
  } catch (err) {
    // Batches still unacked are handled (or dropped, once the task failed) before this arrives.
    await acked(a, 0);
    post({ type: 'error', id: msg.id, error: toWireError(err) });
  } finally {
    acks.delete(msg.id);
  }
}

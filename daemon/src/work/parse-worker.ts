/**
 * The parse worker's entry: runs one task at a time for the pool in pool.ts. A streaming task
 * posts a batch and waits for the daemon's ack before it goes on, so what the worker holds is
 * bounded by one batch, and a daemon that writes slowly slows the reader down.
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
/** The ack a running task waits for, by task id. */
const waiting = new Map<number, (stop: boolean) => void>();

port.on('message', (raw: unknown) => {
  const msg = parseToWorker(raw);
  if (msg?.type === 'task') void runTask(msg);
  else if (msg?.type === 'ack') waiting.get(msg.id)?.(msg.stop);
});

function post(msg: FromWorker, transfer?: ArrayBuffer[]): void {
  port?.postMessage(msg, transfer);
}

async function runTask(msg: Extract<ToWorker, { type: 'task' }>): Promise<void> {
  post({ type: 'started', id: msg.id });
  let seq = 0;
  const emit = async (data: unknown, transfer?: ArrayBuffer[]): Promise<void> => {
    const stop = await new Promise<boolean>((resolve) => {
      waiting.set(msg.id, resolve);
      post({ type: 'batch', id: msg.id, seq: seq++, data }, transfer);
    });
    waiting.delete(msg.id);
    if (stop) throw new TaskStopped();
  };
  try {
    const task = (WORKER_TASKS as Record<string, ((args: unknown, emit: (data: unknown, transfer?: ArrayBuffer[]) => Promise<void>) => unknown) | undefined>)[msg.kind];
    if (task === undefined) throw new Error(`no task "${msg.kind}" in the parse worker`);
    post({ type: 'done', id: msg.id, result: await task(msg.args, emit) });
  } catch (err) {
    post({ type: 'error', id: msg.id, error: toWireError(err) });
  }
}

/**
 * The parse worker's entry: runs one task at a time for the pool in pool.ts. A streaming task
 * posts batches and reads on while fewer than STREAM_AHEAD of them wait to be handled by the
 * daemon (a counter both threads share: an ack costs no message), so reading overlaps the
 * daemon's writes, what is in flight is bounded by STREAM_AHEAD batches, and a daemon that
 * writes slowly slows the reader down. The result is posted once every batch was handled.
 */
import { parentPort } from 'node:worker_threads';
import { FLOW_BYTES, FLOW_HANDLED, FLOW_STOP, parseToWorker, STREAM_AHEAD, toWireError, type FromWorker, type ToWorker } from './wire.ts';
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
/**
 * A streaming task's flow control, shared with the daemon's thread (wire.ts FLOW_*): how many
 * batches the daemon has handled and whether it asked the task to stop. Reading it costs no
 * message; the worker sleeps on it (Atomics.waitAsync) while STREAM_AHEAD batches are unhandled.
 */
class Flow {
  readonly #cells: Int32Array;
  posted = 0;

  constructor(shared: SharedArrayBuffer | undefined) {
    this.#cells = new Int32Array(shared ?? new SharedArrayBuffer(FLOW_BYTES));
  }

  get stop(): boolean {
    return Atomics.load(this.#cells, FLOW_STOP) !== 0;
  }

  /** Resolves once fewer than `most` posted batches are unhandled (or the daemon said stop). */
  async drain(most: number): Promise<void> {
    for (;;) {
      const handled = Atomics.load(this.#cells, FLOW_HANDLED);
      if (this.posted - handled < most || this.stop) return;
      const wait = Atomics.waitAsync(this.#cells, FLOW_HANDLED, handled);
      if (wait.async) await wait.value;
    }
  }
}

port.on('message', (raw: unknown) => {
  const msg = parseToWorker(raw);
  if (msg?.type === 'task') void runTask(msg);
});

function post(msg: FromWorker, transfer?: ArrayBuffer[]): void {
  port?.postMessage(msg, transfer);
}

async function runTask(msg: Extract<ToWorker, { type: 'task' }>): Promise<void> {
  post({ type: 'started', id: msg.id });
  const flow = new Flow(msg.flow);
  const emit = async (data: unknown, transfer?: ArrayBuffer[]): Promise<void> => {
    if (flow.stop) throw new TaskStopped();
    post({ type: 'batch', id: msg.id, seq: flow.posted++, data }, transfer);
    await flow.drain(STREAM_AHEAD);
    if (flow.stop) throw new TaskStopped();
  };
  try {
    const task = (WORKER_TASKS as Record<string, ((args: unknown, emit: (data: unknown, transfer?: ArrayBuffer[]) => Promise<void>) => unknown) | undefined>)[msg.kind];
    if (task === undefined) throw new Error(`no task "${msg.kind}" in the parse worker`);
    const result = await task(msg.args, emit);
    await flow.drain(1);
    if (flow.stop) throw new TaskStopped();
    post({ type: 'done', id: msg.id, result });
  } catch (err) {
    post({ type: 'error', id: msg.id, error: toWireError(err) });
  }
}

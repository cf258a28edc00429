/**
 * The parse worker's entry: runs one task at a time for the pool in pool.ts. A streaming task
 * posts batches and reads on while fewer than STREAM_AHEAD of them wait for the daemon's ack,
 * so reading overlaps the daemon's writes, what is in flight is bounded by STREAM_AHEAD
 * batches, and a daemon that writes slowly slows the reader down. The result is posted once
 * every batch was acked.
 */
import { parentPort } from 'node:worker_threads';
import { parseToWorker, STREAM_AHEAD, toWireError, type FromWorker, type ToWorker } from './wire.ts';
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
/** A streaming task's batches not yet acked, whether the daemon asked it to stop, and its wait for an ack. */
interface Flow {
  unacked: number;
  stop: boolean;
  wake: (() => void) | undefined;
}

/** Flows of running tasks, by task id. */
const flows = new Map<number, Flow>();

port.on('message', (raw: unknown) => {
  const msg = parseToWorker(raw);
  if (msg?.type === 'task') void runTask(msg);
  else if (msg?.type === 'ack') {
    const flow = flows.get(msg.id);
    if (flow === undefined) return;
    flow.unacked--;
    if (msg.stop) flow.stop = true;
    const wake = flow.wake;
    flow.wake = undefined;
    wake?.();
  }
});

/** Resolves once fewer than `most` batches are unacked (or the daemon said stop). */
async function drain(flow: Flow, most: number): Promise<void> {
  while (flow.unacked >= most && !flow.stop) await new Promise<void>((resolve) => (flow.wake = resolve));
}

function post(msg: FromWorker, transfer?: ArrayBuffer[]): void {
  port?.postMessage(msg, transfer);
}

async function runTask(msg: Extract<ToWorker, { type: 'task' }>): Promise<void> {
  post({ type: 'started', id: msg.id });
  let seq = 0;
  const flow: Flow = { unacked: 0, stop: false, wake: undefined };
  flows.set(msg.id, flow);
  const emit = async (data: unknown, transfer?: ArrayBuffer[]): Promise<void> => {
    if (flow.stop) throw new TaskStopped();
    flow.unacked++;
    post({ type: 'batch', id: msg.id, seq: seq++, data }, transfer);
    await drain(flow, STREAM_AHEAD);
    if (flow.stop) throw new TaskStopped();
  };
  try {
    const task = (WORKER_TASKS as Record<string, ((args: unknown, emit: (data: unknown, transfer?: ArrayBuffer[]) => Promise<void>) => unknown) | undefined>)[msg.kind];
    if (task === undefined) throw new Error(`no task "${msg.kind}" in the parse worker`);
    const result = await task(msg.args, emit);
    await drain(flow, 1);
    if (flow.stop) throw new TaskStopped();
    post({ type: 'done', id: msg.id, result });
  } catch (err) {
    post({ type: 'error', id: msg.id, error: toWireError(err) });
  } finally {
    flows.delete(msg.id);
  }
}

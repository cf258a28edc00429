/**
 * A small pool of worker threads for work that must never run on the daemon's event loop:
 * parsing files a user or a training tool wrote (configs, trainer_state.json, results files).
 * Each worker runs under `resourceLimits` and each task under a time limit, so a pathological
 * input stops its worker, not the daemon: the task fails with an error naming the file and
 * the limit, and the next task gets a fresh worker. Workers start on first use, one at a
 * time up to `size`; an idle worker does not keep the process alive.
 *
 * A task may stream: the worker posts batches and reads on while at most STREAM_AHEAD of them
 * wait to be acknowledged (backpressure: reading overlaps writing, yet what is held stays
 * bounded), so a file far larger than memory flows through in pieces. Batches are handed to
 * the caller one at a time, in order; the task's answer (result or error) is given only once
 * every batch that came before it was handled.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ErrorCode, RpcError } from '../protocol/errors.ts';
import { formatBytes } from '../track/input-file.ts';
import { FLOW_BYTES, FLOW_HANDLED, FLOW_STOP, STREAM_RESUME, fromWireError, parseFromWorker, type FromWorker, type ToWorker } from './wire.ts';

/** One kind of task: what it takes, what it returns, and what it streams (never when it does not). */
export interface TaskSpec {
  args: unknown;
  result: unknown;
  batch: unknown;
}

/** Pool settings. */
export interface WorkerPoolOptions {
  /** The worker's entry file. */
  workerUrl: URL;
  /** Thread name (shown in debuggers and crash reports). */
  name: string;
  /** Worker threads at most; default min(2, CPUs). */
  size?: number;
  /** V8 old-generation heap limit per worker, in MiB; default 512. */
  maxOldGenerationSizeMb?: number;
}

/** How one task runs. */
export interface RunOptions<B> {
  /** The file the task reads, for error messages. */
  file: string;
  /** What the file is, in words ("training config", "trainer_state.json"). */
  what: string;
  /** The worker must answer (a batch or the result) within this many ms of being asked. */
  timeoutMs: number;
  /** Receives streamed batches in order; the worker waits until the returned promise settles. A throw stops the task. */
  onBatch?: (batch: B) => Promise<void> | void;
}

/** A task stopped by the pool's limits (memory, time) or by its worker's crash. `code` is E_INVALID_STATE. */
export class WorkerLimitError extends RpcError {
  readonly file: string;
  readonly limit: 'memory' | 'time' | 'crash';
  constructor(file: string, limit: WorkerLimitError['limit'], message: string) {
    super(ErrorCode.InvalidState, message, { file, limit });
    this.name = 'WorkerLimitError';
    this.file = file;
    this.limit = limit;
  }
}

interface Job {
  id: number;
  kind: string;
  args: unknown;
  opts: RunOptions<unknown>;
  resolve: (result: unknown) => void;
  reject: (err: unknown) => void;
  /** Set once the caller has its answer; a late reply from the worker is then ignored. */
  settled: boolean;
  /** Batches received and not yet handled; `chain` settles once the last of them was. */
  waiting: number;
  chain: Promise<void>;
  /** The worker sent its result or error (which waits for `chain`). */
  answered: boolean;
  /** Flow control shared with the worker when the task streams (wire.ts FLOW_*). */
  flow: Int32Array | undefined;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
  timer: NodeJS.Timeout | undefined;
}

const DEFAULT_HEAP_MB = 512;
/** How long a worker may take to load its code and take a task up (a loaded machine, sources under type stripping). */
const STARTUP_MS = 30_000;

/** A pool of workers running the tasks of table `T`. */
export class WorkerPool<T extends Record<string, TaskSpec>> {
  readonly size: number;
  readonly heapLimitMb: number;
  readonly #opts: WorkerPoolOptions;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  #nextId = 1;
  #closed = false;
  #started = 0;
  #tasks = 0;
  #mostWaiting = 0;

  constructor(opts: WorkerPoolOptions) {
    this.#opts = opts;
    this.size = Math.max(1, Math.floor(opts.size ?? Math.min(2, availableParallelism())));
    this.heapLimitMb = opts.maxOldGenerationSizeMb ?? DEFAULT_HEAP_MB;
  }

  /** Workers started since the pool was created (a replaced worker counts again). */
  get workersStarted(): number {
    return this.#started;
  }

  /** Tasks handed to a worker since the pool was created. */
  get tasksStarted(): number {
    return this.#tasks;
  }

  /** The most batches of one task ever received and not yet handled at once (at most STREAM_AHEAD). */
  get mostBatchesWaiting(): number {
    return this.#mostWaiting;
  }

  /** Workers alive now. */
  get workersAlive(): number {
    return this.#slots.length;
  }

  /** Runs task `kind` in a worker. Rejects with the worker's own error, or a {@link WorkerLimitError}. */
  run<K extends keyof T & string>(kind: K, args: T[K]['args'], opts: RunOptions<T[K]['batch']>): Promise<T[K]['result']> {
    if (this.#closed) return Promise.reject(closedError());
    return new Promise<T[K]['result']>((resolve, reject) => {
      const job: Job = {
        id: this.#nextId++, kind, args, opts, settled: false, resolve, reject, waiting: 0, chain: Promise.resolve(), answered: false,
        flow: opts.onBatch ? new Int32Array(new SharedArrayBuffer(FLOW_BYTES)) : undefined,
      };
      this.#queue.push(job);
      this.#dispatch();
    });
  }

  /** Stops every worker; queued and running tasks reject. Calling it twice is harmless. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const job of this.#queue.splice(0)) settle(job, undefined, closedError());
    const slots = this.#slots.splice(0);
    for (const slot of slots) this.#finish(slot, undefined, closedError());
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  #dispatch(): void {
    while (!this.#closed && this.#queue.length > 0) {
      let slot = this.#slots.find((s) => s.job === undefined);
      if (!slot && this.#slots.length < this.size) {
        try {
          slot = this.#startWorker();
        } catch (err) {
          // A worker that cannot even start (bad options, missing file) fails the task, not the caller's stack.
          const job = this.#queue.shift() as Job;
          settle(job, undefined, this.#crashError(job, err));
          continue;
        }
      }
      if (!slot) return;
      const job = this.#queue.shift() as Job;
      slot.job = job;
      this.#tasks++;
      slot.worker.ref();
      this.#arm(slot, STARTUP_MS);
      const task: ToWorker = { type: 'task', id: job.id, kind: job.kind, args: job.args };
      if (job.flow) task.flow = job.flow.buffer as SharedArrayBuffer;
      this.#post(slot, task);
    }
  }

  #startWorker(): Slot {
    const worker = new Worker(this.#opts.workerUrl, {
      name: this.#opts.name,
      ...workerExecArgv(process.execArgv),
      resourceLimits: { maxOldGenerationSizeMb: this.heapLimitMb },
    });
    this.#started++;
    const slot: Slot = { worker, job: undefined, timer: undefined };
    worker.on('message', (raw: unknown) => this.#onMessage(slot, raw));
    worker.on('error', (err) => this.#onWorkerGone(slot, err));
    worker.on('exit', (code) => this.#onWorkerGone(slot, new Error(`the worker exited with code ${code}`)));
    this.#slots.push(slot);
    return slot;
  }

  #onMessage(slot: Slot, raw: unknown): void {
    const msg = parseFromWorker(raw);
    const job = slot.job;
    if (!msg || !job || msg.id !== job.id) return;
    if (msg.type === 'started') {
      this.#arm(slot);
      return;
    }
    if (msg.type === 'batch') {
      // The worker answered; until the batches in hand are handled, any wait is the daemon's.
      this.#disarm(slot);
      job.waiting++;
      this.#mostWaiting = Math.max(this.#mostWaiting, job.waiting);
      job.chain = job.chain.then(() => this.#handleBatch(slot, job, msg));
      return;
    }
    // The answer comes after the batches before it (the worker sends it once all were acked; this is for a worker that failed meanwhile).
    this.#disarm(slot);
    job.answered = true;
    const result = msg.type === 'done' ? msg.result : undefined;
    const error = msg.type === 'error' ? fromWireError(msg.error) : undefined;
    void job.chain.then(() => {
      if (slot.job !== job) return;
      this.#finish(slot, result, error);
      slot.worker.unref();
      this.#dispatch();
    });
  }

  /** Hands a batch to the caller, then acks it; the worker keeps at most STREAM_AHEAD batches unacked. */
  async #handleBatch(slot: Slot, job: Job, msg: Extract<FromWorker, { type: 'batch' }>): Promise<void> {
    let stop = job.settled;
    if (!stop) {
      try {
        await job.opts.onBatch?.(msg.data);
      } catch (err) {
        settle(job, undefined, err);
        stop = true;
      }
    }
    job.waiting--;
    if (slot.job !== job || !this.#slots.includes(slot)) return;
    // The time limit runs while the worker owes the next batch: not while batches wait here.
    if (job.waiting === 0 && !job.answered) this.#arm(slot);
    const flow = job.flow;
    if (flow === undefined) return;
    if (stop) Atomics.store(flow, FLOW_STOP, 1);
    Atomics.add(flow, FLOW_HANDLED, 1);
    // Waking the worker costs the daemon's thread ~1 ms (it is scheduled in at once): wake it
    // once per refill, when the batches in hand run low, not once per batch.
    if (stop || job.waiting <= STREAM_RESUME) Atomics.notify(flow, FLOW_HANDLED);
  }

  /** A worker that died (out of memory, crashed, or terminated by us) fails only its own task. */
  #onWorkerGone(slot: Slot, err: unknown): void {
    const index = this.#slots.indexOf(slot);
    if (index < 0) return;
    this.#slots.splice(index, 1);
    const job = slot.job;
    if (job) this.#finish(slot, undefined, this.#closed ? closedError() : this.#crashError(job, err));
    if (!this.#closed) this.#dispatch();
  }

  #crashError(job: Job, err: unknown): Error {
    const { file, what } = job.opts;
    if ((err as NodeJS.ErrnoException | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return new WorkerLimitError(file, 'memory',
        `reading ${what} ${file} needed more than ${formatBytes(this.heapLimitMb * 1024 * 1024)} of memory, Keel's limit for reading one file; ` +
        'the reader was stopped and nothing more of the file was used. Check that it is the file you meant (generated or pasted data?) and make it smaller or simpler.');
    }
    return new WorkerLimitError(file, 'crash', `the reader of ${what} ${file} stopped unexpectedly (${(err as Error | undefined)?.message ?? String(err)}); see daemon.log, and try again`);
  }

  /** (Re)starts the slot's time limit: the task's own, or `ms` (a worker loading its code). */
  #arm(slot: Slot, ms?: number): void {
    this.#disarm(slot);
    const job = slot.job;
    if (!job) return;
    slot.timer = setTimeout(() => this.#timeout(slot, job), ms ?? job.opts.timeoutMs);
    slot.timer.unref();
  }

  #disarm(slot: Slot): void {
    if (slot.timer !== undefined) clearTimeout(slot.timer);
    slot.timer = undefined;
  }

  #timeout(slot: Slot, job: Job): void {
    if (slot.job !== job) return;
    const index = this.#slots.indexOf(slot);
    if (index >= 0) this.#slots.splice(index, 1);
    const seconds = Number((job.opts.timeoutMs / 1000).toFixed(1));
    const streaming = job.opts.onBatch ? ' without progress' : '';
    this.#finish(slot, undefined, new WorkerLimitError(job.opts.file, 'time',
      `reading ${job.opts.what} ${job.opts.file} ran ${seconds} s${streaming}, over Keel's limit for reading one file; ` +
      'the reader was stopped and nothing more of the file was used. Check that it is the file you meant (generated or pasted data?) and make it smaller or simpler.'));
    void slot.worker.terminate().catch(() => undefined);
    this.#dispatch();
  }

  /** Ends the slot's task: settles it (unless already settled) and frees the slot. */
  #finish(slot: Slot, result: unknown, err: unknown): void {
    this.#disarm(slot);
    const job = slot.job;
    slot.job = undefined;
    if (job) settle(job, result, err);
  }

  #post(slot: Slot, msg: ToWorker): void {
    slot.worker.postMessage(msg);
  }
}

/**
 * A worker inherits the process's options, minus those Node knows a worker cannot take. Two it
 * does not drop stop a worker from starting: `--input-type` and `-e CODE` (a process started
 * with `node --input-type=module -e …`); only then is a filtered list passed.
 */
function workerExecArgv(execArgv: readonly string[]): { execArgv?: string[] } {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i] as string;
    if (['--input-type', '-e', '--eval', '-p', '--print'].includes(arg.split('=')[0] as string)) {
      if (!arg.includes('=')) i++; // its value is the next argument
      continue;
    }
    out.push(arg);
  }
  return out.length === execArgv.length ? {} : { execArgv: out };
}

function settle(job: Job, result: unknown, err: unknown): void {
  if (job.settled) return;
  job.settled = true;
  if (err !== undefined) job.reject(err);
  else job.resolve(result);
}

function closedError(): RpcError {
  return new RpcError(ErrorCode.ShuttingDown, 'the daemon is shutting down; the file was not read');
}

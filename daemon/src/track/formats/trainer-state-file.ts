/**
 * Reading a trainer_state.json file in pieces (run in a parse worker: its reads block its own
 * thread only). Points leave in batches through `emit`, which resolves while the daemon has
 * fewer than a few batches (work/wire.ts STREAM_AHEAD) left to write, so the reader works
 * ahead of the writes yet holds one chunk of text and a bounded number of batches at a time.
 *
 * The file is opened non-blocking and must be a regular file. A file that does not end with
 * `}` is being rewritten (HF truncates and rewrites it at every save): it is refused as
 * E_TRUNCATED before anything is read, and so is one that shrinks while it is read.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { checkInputStats, InputFileError } from '../input-file.ts';
import { TrainerStateReader, type TrainerStateFacts } from './trainer-state-stream.ts';
import { FormatError } from './types.ts';

/** Points in columns (transferable typed arrays), their keys listed once per batch. */
export interface PointBatch {
  /** Distinct keys of the batch; `key[i]` indexes this list. */
  keys: string[];
  key: Uint32Array;
  step: Float64Array;
  /** NaN and ±Infinity as they are. */
  value: Float64Array;
}

/** What reading the file gives besides its points. */
export interface TrainerStateRead extends TrainerStateFacts {
  /** Points read (each was in a batch). */
  points: number;
  /** Highest step among them, 0 when none. */
  lastStep: number;
  /** Bytes read. */
  bytes: number;
}

/** Reader settings. */
export interface TrainerStateFileOptions {
  /** Points per batch (the daemon writes one batch per transaction). */
  batchPoints: number;
  /** Bytes per read; default 64 KiB. */
  chunkBytes?: number;
}

const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
const WHAT = 'trainer_state.json';

/** Streams `path`'s points to `emit` in batches; returns the facts once the file is read to its end. */
export async function streamTrainerStateFile(
  path: string, opts: TrainerStateFileOptions, emit: (batch: PointBatch) => Promise<void>,
): Promise<TrainerStateRead> {
  const batcher = new PointBatcher();
  const reader = new TrainerStateReader({ source: path, onPoint: (step, key, value) => batcher.add(step, key, value) });
  const bytes = await readPieces(path, opts.chunkBytes ?? 64 * 1024, true, async (text) => {
    reader.push(text);
    while (batcher.size >= opts.batchPoints) await emit(batcher.take(opts.batchPoints));
    return true;
  });
  const facts = reader.end();
  while (batcher.size > 0) await emit(batcher.take(opts.batchPoints));
  return { ...facts, points: reader.points, lastStep: reader.lastStep, bytes };
}

/**
 * A top-level number of a trainer_state.json (`global_step`), read without building
 * log_history and stopping as soon as the key was read (HF writes keys sorted, so
 * `global_step` comes before `log_history`). undefined when the file has none.
 */
export async function readTrainerStateNumber(path: string, key: 'global_step' | 'max_steps'): Promise<number | undefined> {
  const reader = new TrainerStateReader({ source: path, skipHistory: true, stopAfterKey: key });
  await readPieces(path, 256 * 1024, false, (text) => {
    reader.push(text);
    return Promise.resolve(!reader.stopped);
  });
  const facts = reader.end();
  return key === 'global_step' ? facts.globalStep : facts.maxSteps;
}

/** Reads `path` in pieces of `chunkBytes`, decoded as UTF-8, until `onText` says stop; returns bytes read. */
async function readPieces(path: string, chunkBytes: number, wholeOnly: boolean, onText: (text: string) => Promise<boolean>): Promise<number> {
  const fd = openInput(path);
  try {
    const size = fstatSync(fd).size;
    if (wholeOnly) checkEndsWhole(fd, path, size);
    const decoder = new TextDecoder('utf-8');
    const chunk = Buffer.allocUnsafe(chunkBytes);
    let offset = 0;
    while (offset < size) {
      const n = readSync(fd, chunk, 0, Math.min(chunkBytes, size - offset), offset);
      if (n === 0) throw new FormatError('E_TRUNCATED', `unfinished JSON: the file shrank from ${size} bytes while it was read (it is being rewritten)`, { source: path });
      offset += n;
      if (!(await onText(decoder.decode(chunk.subarray(0, n), { stream: true })))) return offset;
    }
    await onText(decoder.decode());
    return offset;
  } finally {
    closeSync(fd);
  }
}

function openInput(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputFileError(path, 'missing', `${WHAT} ${path} does not exist`);
    throw new InputFileError(path, 'unreadable', `cannot read ${WHAT} ${path}: ${(err as Error).message}`);
  }
  try {
    checkInputStats(path, fstatSync(fd), { what: WHAT, maxBytes: Number.MAX_SAFE_INTEGER });
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** A JSON object ends with `}` (then whitespace): a file that does not is cut short. */
function checkEndsWhole(fd: number, path: string, size: number): void {
  if (size === 0) throw new FormatError('E_TRUNCATED', 'unfinished JSON: the file is empty (the file may still be being written)', { source: path });
  const tail = Buffer.alloc(Math.min(size, 4096));
  readSync(fd, tail, 0, tail.length, size - tail.length);
  const text = tail.toString('latin1').trimEnd();
  if (!text.endsWith('}')) {
    throw new FormatError('E_TRUNCATED', `unfinished JSON: the file stops at byte ${size} without its closing '}' (the file may still be being written)`, { source: path });
  }
}

/** Collects points into columns and hands them out in batches. */
class PointBatcher {
  #index = new Map<string, number>();
  #keys: string[] = [];
  #key: number[] = [];
  #step: number[] = [];
  #value: number[] = [];

  get size(): number {
    return this.#key.length;
  }

  add(step: number, key: string, value: number): void {
    let k = this.#index.get(key);
    if (k === undefined) {
      k = this.#keys.length;
      this.#keys.push(key);
      this.#index.set(key, k);
    }
    this.#key.push(k);
    this.#step.push(step);
    this.#value.push(value);
  }

  /** The first `max` points (keys renumbered for the batch); the rest stay. */
  take(max: number): PointBatch {
    const n = Math.min(max, this.#key.length);
    const local = new Map<number, number>();
    const keys: string[] = [];
    const key = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const global = this.#key[i] as number;
      let l = local.get(global);
      if (l === undefined) {
        l = keys.length;
        keys.push(this.#keys[global] as string);
        local.set(global, l);
      }
      key[i] = l;
    }
    const batch: PointBatch = { keys, key, step: Float64Array.from(this.#step.slice(0, n)), value: Float64Array.from(this.#value.slice(0, n)) };
    this.#key.splice(0, n);
    this.#step.splice(0, n);
    this.#value.splice(0, n);
    // Keys of a file with millions of distinct keys must not pile up between batches.
    if (this.#key.length === 0 && this.#keys.length > 100_000) {
      this.#index = new Map();
      this.#keys = [];
    }
    return batch;
  }
}

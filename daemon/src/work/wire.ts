/**
 * What crosses between the daemon's thread and a parse worker: task requests, streamed
 * batches (acknowledged through a shared counter, not a message), results, and errors. Errors lose their class when posted (structured
 * clone keeps only `message` and `name`), so they travel as plain data and are rebuilt as
 * the same error types on the daemon's side: a config's line and column, a trainer_state's
 * "still being written" code and an input file's refusal reason all survive the trip.
 */
import { ErrorCode, RpcError } from '../protocol/errors.ts';
import { ConfigInvalidError, type ConfigInvalidDetails } from '../track/config/parse.ts';
import { ConfigOverrideError, type OverrideProblem } from '../track/config/overrides.ts';
import { FormatError, type FormatErrorCode } from '../track/formats/types.ts';
import { InputFileError } from '../track/input-file.ts';

/**
 * Batches a streaming task may have posted and not yet seen acked: the worker reads the next
 * while the daemon writes the ones before, and holds at most this many in flight.
 */
export const STREAM_AHEAD = 4;
/**
 * A worker waiting for the daemon is woken once at most this many of its batches are left
 * unhandled in the daemon's hands (then it reads until STREAM_AHEAD are again), so it is
 * woken once per few batches, never left idle while the daemon has work, and the daemon
 * never starves: its last batch handled always wakes the worker.
 */
export const STREAM_RESUME = 1;

/**
 * A streaming task's flow control: an Int32Array over a SharedArrayBuffer of FLOW_BYTES whose
 * cell FLOW_HANDLED counts the batches the daemon has handled (Atomics.add + notify) and
 * FLOW_STOP is 1 once the daemon asks the worker to give the task up.
 */
export const FLOW_BYTES = 8;
export const FLOW_HANDLED = 0;
export const FLOW_STOP = 1;

/** Daemon → worker: a task (with its flow control when it streams). */
export type ToWorker = { type: 'task'; id: number; kind: string; args: unknown; flow?: SharedArrayBuffer };

/** Worker → daemon. */
export type FromWorker =
  /** The worker took task `id` up (its time limit starts now, not while the worker loads). */
  | { type: 'started'; id: number }
  | { type: 'batch'; id: number; seq: number; data: unknown }
  | { type: 'done'; id: number; result: unknown }
  | { type: 'error'; id: number; error: WireError };

/** An error as plain data. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  data?: unknown;
  format?: { code: FormatErrorCode; detail: string; source?: string; line?: number; column?: number };
}

/** Turns any thrown value into plain data that keeps what the daemon's side needs. */
export function toWireError(err: unknown): WireError {
  if (err instanceof FormatError) {
    const format: WireError['format'] = { code: err.code, detail: err.detail };
    if (err.source !== undefined) format.source = err.source;
    if (err.line !== undefined) format.line = err.line;
    if (err.column !== undefined) format.column = err.column;
    return { name: 'FormatError', message: err.message, format };
  }
  if (err instanceof RpcError) return { name: err.name, message: err.message, code: err.code, data: err.data };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

/** Rebuilds the error a worker threw, as the class it was thrown as. */
export function fromWireError(wire: WireError): Error {
  if (wire.name === 'FormatError' && wire.format) {
    const { code, detail, ...where } = wire.format;
    return new FormatError(code, detail, where);
  }
  if (wire.name === 'ConfigInvalidError' && isRecord(wire.data)) return new ConfigInvalidError(wire.data as unknown as ConfigInvalidDetails);
  if (wire.name === 'ConfigOverrideError' && isRecord(wire.data) && Array.isArray(wire.data.problems)) {
    return new ConfigOverrideError(wire.data.problems as OverrideProblem[]);
  }
  if (wire.name === 'InputFileError' && isRecord(wire.data) && typeof wire.data.path === 'string') {
    return new InputFileError(wire.data.path, wire.data.reason as InputFileError['reason'], wire.message, asErrorCode(wire.code));
  }
  if (wire.code !== undefined && isErrorCode(wire.code)) return new RpcError(wire.code, wire.message, wire.data);
  const err = new Error(wire.message);
  err.name = wire.name;
  return err;
}

/** Checks a worker message's shape before it is trusted. */
export function parseFromWorker(raw: unknown): FromWorker | undefined {
  if (!isRecord(raw) || typeof raw.id !== 'number') return undefined;
  if (raw.type === 'started') return { type: 'started', id: raw.id };
  if (raw.type === 'batch' && typeof raw.seq === 'number') return { type: 'batch', id: raw.id, seq: raw.seq, data: raw.data };
  if (raw.type === 'done') return { type: 'done', id: raw.id, result: raw.result };
  if (raw.type === 'error' && isRecord(raw.error) && typeof raw.error.message === 'string' && typeof raw.error.name === 'string') {
    return { type: 'error', id: raw.id, error: raw.error as unknown as WireError };
  }
  return undefined;
}

/** Checks a daemon message's shape (in the worker). */
export function parseToWorker(raw: unknown): ToWorker | undefined {
  if (!isRecord(raw) || typeof raw.id !== 'number') return undefined;
  if (raw.type !== 'task' || typeof raw.kind !== 'string') return undefined;
  const task: ToWorker = { type: 'task', id: raw.id, kind: raw.kind, args: raw.args };
  if (raw.flow instanceof SharedArrayBuffer && raw.flow.byteLength >= FLOW_BYTES) task.flow = raw.flow;
  return task;
}

const CODES = new Set<string>(Object.values(ErrorCode));

function isErrorCode(code: string): code is ErrorCode {
  return CODES.has(code);
}

function asErrorCode(code: string | undefined): ErrorCode {
  return code !== undefined && isErrorCode(code) ? code : ErrorCode.Io;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

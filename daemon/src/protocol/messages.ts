/**
 * JSON-RPC-shaped frames: requests `{id, method, params}`, responses `{id, result}` or
 * `{id, error}`, notifications `{method, params}` without an id. `parseFrame` turns any
 * inbound text into one of these or a clear error; nothing downstream sees raw JSON.
 */
import { ErrorCode, type RpcErrorBody } from './errors.ts';

export type RequestId = number | string;

export interface RequestFrame {
  kind: 'request';
  id: RequestId;
  method: string;
  params: unknown;
}

export interface ResponseFrame {
  kind: 'response';
  id: RequestId;
  result?: unknown;
  error?: RpcErrorBody;
}

export interface NotificationFrame {
  kind: 'notification';
  method: string;
  params: unknown;
}

export type Frame = RequestFrame | ResponseFrame | NotificationFrame;

export type ParsedFrame = { ok: true; frame: Frame } | { ok: false; id: RequestId | null; error: RpcErrorBody };

function isId(x: unknown): x is RequestId {
  return (typeof x === 'number' && Number.isSafeInteger(x)) || (typeof x === 'string' && x.length > 0 && x.length <= 100);
}

function isErrorBody(x: unknown): x is RpcErrorBody {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Record<string, unknown>;
  return typeof e.code === 'string' && typeof e.message === 'string';
}

/** Parses one inbound text frame. Never throws. */
export function parseFrame(text: string): ParsedFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, id: null, error: { code: ErrorCode.ParseError, message: `malformed JSON: ${(err as Error).message}` } };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, id: null, error: { code: ErrorCode.InvalidRequest, message: 'a message must be a JSON object' } };
  }
  const m = raw as Record<string, unknown>;
  const id = m.id === undefined ? undefined : m.id;
  if (id !== undefined && !isId(id)) {
    return { ok: false, id: null, error: { code: ErrorCode.InvalidRequest, message: '"id" must be an integer or a non-empty string' } };
  }
  if (typeof m.method === 'string') {
    if (m.method.length > 200) return { ok: false, id: id ?? null, error: { code: ErrorCode.InvalidRequest, message: '"method" is too long' } };
    const params = m.params === undefined ? {} : m.params;
    if (id === undefined) return { ok: true, frame: { kind: 'notification', method: m.method, params } };
    return { ok: true, frame: { kind: 'request', id, method: m.method, params } };
  }
  if (m.method !== undefined) {
    return { ok: false, id: id ?? null, error: { code: ErrorCode.InvalidRequest, message: '"method" must be a string' } };
  }
  if (id !== undefined && ('result' in m || 'error' in m)) {
    if ('error' in m && !isErrorBody(m.error)) {
      return { ok: false, id, error: { code: ErrorCode.InvalidRequest, message: '"error" must have a string code and message' } };
    }
    const frame: ResponseFrame = { kind: 'response', id };
    if ('error' in m) frame.error = m.error as RpcErrorBody;
    else frame.result = m.result;
    return { ok: true, frame };
  }
  return { ok: false, id: id ?? null, error: { code: ErrorCode.InvalidRequest, message: 'a message needs "method" (request/notification) or "result"/"error" (response)' } };
}

/** Serialises a response. */
export function responseText(id: RequestId, result: unknown): string {
  return JSON.stringify({ id, result });
}

export function errorText(id: RequestId | null, error: RpcErrorBody): string {
  return JSON.stringify({ id, error });
}

export function notificationText(method: string, params: unknown): string {
  return JSON.stringify({ method, params });
}

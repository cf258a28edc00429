/**
 * Stable error codes carried across the wire. The message is for people; the code is for
 * programs (the extension maps codes to a message with a next step).
 */
export const ErrorCode = {
  /** The frame was not valid JSON or not a JSON-RPC-shaped object. */
  ParseError: 'E_PARSE',
  /** The message is JSON but not a valid request (missing id/method, wrong types). */
  InvalidRequest: 'E_INVALID_REQUEST',
  /** No such method. */
  MethodNotFound: 'E_METHOD_NOT_FOUND',
  /** Params failed validation; `data.issues` lists each field. */
  InvalidParams: 'E_INVALID_PARAMS',
  /** The client and daemon speak different protocol versions. */
  ProtocolMismatch: 'E_PROTOCOL_MISMATCH',
  /** A request arrived before `initialize`. */
  NotInitialized: 'E_NOT_INITIALIZED',
  /** The daemon is shutting down and takes no new work. */
  ShuttingDown: 'E_SHUTTING_DOWN',
  /** A record that was asked for does not exist. */
  NotFound: 'E_NOT_FOUND',
  /** Something already exists (a project at that root, a host with that name). */
  Conflict: 'E_CONFLICT',
  /** A keel.yaml or training config is invalid; `data` names file, line and key. */
  ConfigInvalid: 'E_CONFIG_INVALID',
  /** A host could not be reached over SSH. */
  HostUnreachable: 'E_HOST_UNREACHABLE',
  /** A step on a host (a workspace build, a hash, a sync) outran its time-out; the host itself answers. */
  HostTimedOut: 'E_HOST_TIMED_OUT',
  /** The request is valid but cannot be done in the record's current state. */
  InvalidState: 'E_INVALID_STATE',
  /** A file could not be read or written. */
  Io: 'E_IO',
  /** A launch failed its pre-flight checks (runs/preflight); `data.problems` lists each, with what to fix. */
  PreflightFailed: 'E_PREFLIGHT',
  /** A bug or an unexpected failure inside the daemon; see daemon.log. */
  Internal: 'E_INTERNAL',
  /**
   * A result too large for one message (over MAX_FRAME_BYTES): it was not sent. The message
   * names the method and how to ask for less; `data` is `{ method, bytes, limit }`.
   */
  ResultTooLarge: 'E_RESULT_TOO_LARGE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The error object in a response. */
export interface RpcErrorBody {
  code: ErrorCode;
  message: string;
  data?: unknown;
}

/** An error thrown by a method handler (daemon) or raised by a client call. */
export class RpcError extends Error {
  readonly code: ErrorCode;
  readonly data: unknown;

  constructor(code: ErrorCode, message: string, data?: unknown) {
    super(message);
    this.name = 'RpcError';
    this.code = code;
    this.data = data;
  }

  toBody(): RpcErrorBody {
    return this.data === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, data: this.data };
  }
}

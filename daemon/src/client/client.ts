/**
 * A typed client of the daemon protocol, shared by the CLI and the extension. It speaks
 * JSON-RPC-shaped frames over a WebSocket on the daemon's Unix socket.
 */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import {
  ErrorCode, MAX_FRAME_BYTES, PROTOCOL_VERSION, RESYNC_METHOD, RpcError, parseFrame,
  type InitializeResult, type Method, type NotificationOf, type ParamsOf, type ResultOf, type ResyncNotification, type Topic,
} from '../protocol/index.ts';
import { awakeTimeout } from './awake-timeout.ts';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; cancelTimer: (() => void) | undefined };
type Listener = (params: unknown) => void;

/** Raised when the socket is missing or refuses: the daemon is not running. */
export class DaemonNotRunningError extends Error {
  readonly code = 'E_DAEMON_NOT_RUNNING';
  constructor(socket: string, cause: string) {
    super(`the Keel daemon is not running (${socket}: ${cause})`);
    this.name = 'DaemonNotRunningError';
  }
}

/**
 * Raised when something accepts on the socket but does not complete the handshake and
 * `initialize` in time: the daemon is stopped (SIGSTOP), or its main thread is blocked.
 */
export class DaemonNotAnsweringError extends Error {
  readonly code = 'E_DAEMON_NOT_ANSWERING';
  /** The daemon's pid from its lock file, when known. */
  readonly pid: number | null;
  constructor(socket: string, timeoutMs: number, pid: number | null) {
    const who = pid ? `The Keel daemon (pid ${pid})` : 'The Keel daemon';
    super(
      `${who} is not answering on ${socket}: no reply within ${(timeoutMs / 1000).toFixed(timeoutMs % 1000 ? 1 : 0)} s. ` +
        `It may be stopped (Ctrl-Z, SIGSTOP) or stuck. Try \`keel daemon stop\`; if it is still there, \`kill -9 ${pid ?? 'PID'}\`` +
        `${pid ? '' : ' (its pid is in daemon.lock beside the socket)'}; the next keel command starts a fresh one.`,
    );
    this.name = 'DaemonNotAnsweringError';
    this.pid = pid;
  }
}

/** The default for ConnectOptions.connectTimeoutMs. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export interface ConnectOptions {
  socketPath: string;
  client: { name: string; version: string };
  /** Per-request timeout; 0 disables it. */
  requestTimeoutMs?: number;
  /** Socket, handshake and `initialize` must finish within this (default 10 s). */
  connectTimeoutMs?: number;
  /** daemon.lock, read to name the daemon's pid when it does not answer. */
  lockPath?: string;
  /** Overrides the protocol version sent (tests of the mismatch path). */
  protocolVersion?: number;
}

function lockPid(lockPath: string | undefined): number | null {
  if (!lockPath) return null;
  try {
    const pid = (JSON.parse(readFileSync(lockPath, 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' && Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export class KeelClient {
  private readonly ws: WebSocket;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly closeListeners = new Set<(reason: string) => void>();
  private readonly resyncListeners = new Set<(params: ResyncNotification) => void>();
  private readonly timeoutMs: number;
  private nextId = 1;
  initializeResult: InitializeResult | null = null;

  private constructor(ws: WebSocket, timeoutMs: number) {
    this.ws = ws;
    this.timeoutMs = timeoutMs;
    ws.on('message', (data: Buffer) => this.onMessage(data.toString('utf8')));
    ws.on('close', (code, reason) => this.handleClose(`connection closed (${code}${reason.length ? `: ${reason.toString()}` : ''})`));
    ws.on('error', () => { /* surfaced through close */ });
  }

  /**
   * Connects and sends `initialize`, all within `connectTimeoutMs`. Rejects with
   * DaemonNotRunningError when nothing listens, DaemonNotAnsweringError when something
   * accepts but does not answer in time.
   */
  static async connect(opts: ConnectOptions): Promise<KeelClient> {
    const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const ws = new WebSocket(`ws+unix://${opts.socketPath}:/`, { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    let cancel = (): void => {};
    const timedOut = new Promise<never>((_, reject) => {
      cancel = awakeTimeout(timeoutMs, () => {
        ws.terminate();
        reject(new DaemonNotAnsweringError(opts.socketPath, timeoutMs, lockPid(opts.lockPath)));
      });
    });
    try {
      return await Promise.race([KeelClient.handshake(ws, opts), timedOut]);
    } finally {
      cancel();
    }
  }

  private static async handshake(ws: WebSocket, opts: ConnectOptions): Promise<KeelClient> {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new DaemonNotRunningError(opts.socketPath, err.code));
        else reject(err);
      });
    });
    const client = new KeelClient(ws, opts.requestTimeoutMs ?? 60_000);
    try {
      // The connect timeout bounds initialize; no second timer.
      client.initializeResult = await client.call('initialize', {
        protocolVersion: opts.protocolVersion ?? PROTOCOL_VERSION,
        client: opts.client,
      }, { timeoutMs: 0 });
    } catch (err) {
      client.close();
      throw err;
    }
    return client;
  }

  /** Calls a method; rejects with RpcError carrying the daemon's error code. */
  call<M extends Method>(method: M, params: ParamsOf<M>, opts: { timeoutMs?: number } = {}): Promise<ResultOf[M]> {
    if (this.ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new RpcError(ErrorCode.Internal, 'not connected to the daemon'));
    }
    const id = this.nextId++;
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    return new Promise((resolve, reject) => {
      // Counted in this process's running time: a suspended CLI does not time out its own requests.
      const cancelTimer = timeoutMs > 0
        ? awakeTimeout(timeoutMs, () => {
          this.pending.delete(id);
          reject(new RpcError(ErrorCode.Internal, `${method} timed out after ${timeoutMs} ms`));
        })
        : undefined;
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, cancelTimer });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Listens to a notification topic (subscribe with `subscriptions/add` too). Returns an unsubscribe function. */
  on<T extends Topic>(topic: T, listener: (params: NotificationOf[T]) => void): () => void {
    const key = `notify/${topic}`;
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener as Listener);
    return () => set.delete(listener as Listener);
  }

  /**
   * Called when the daemon dropped notifications while this client was not reading fast
   * enough (`notify/resync`): re-read the named topics/runs from your own cursors.
   */
  onResync(listener: (params: ResyncNotification) => void): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  /** Called once when the connection ends (daemon stopped, crashed or restarted). */
  onClose(listener: (reason: string) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  private handleClose(reason: string): void {
    for (const p of this.pending.values()) {
      p.cancelTimer?.();
      p.reject(new RpcError(ErrorCode.Internal, `lost the daemon connection: ${reason}`));
    }
    this.pending.clear();
    for (const l of this.closeListeners) l(reason);
  }

  get connected(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.ws.close(1000, 'client done');
  }

  private onMessage(text: string): void {
    const parsed = parseFrame(text);
    if (!parsed.ok) return;
    const frame = parsed.frame;
    if (frame.kind === 'notification') {
      if (frame.method === RESYNC_METHOD) {
        for (const l of this.resyncListeners) l(frame.params as ResyncNotification);
        return;
      }
      for (const l of this.listeners.get(frame.method) ?? []) l(frame.params);
      return;
    }
    if (frame.kind !== 'response' || typeof frame.id !== 'number') return;
    const p = this.pending.get(frame.id);
    if (!p) return;
    this.pending.delete(frame.id);
    p.cancelTimer?.();
    if (frame.error) p.reject(new RpcError(frame.error.code, frame.error.message, frame.error.data));
    else p.resolve(frame.result);
  }
}

/**
 * A typed client of the daemon protocol, shared by the CLI and the extension. It speaks
 * JSON-RPC-shaped frames over a WebSocket on the daemon's Unix socket.
 */
import WebSocket from 'ws';
import {
  ErrorCode, MAX_FRAME_BYTES, PROTOCOL_VERSION, RpcError, parseFrame,
  type InitializeResult, type Method, type NotificationOf, type ParamsOf, type ResultOf, type Topic,
} from '../protocol/index.ts';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout | undefined };
type Listener = (params: unknown) => void;

/** Raised when the socket is missing or refuses: the daemon is not running. */
export class DaemonNotRunningError extends Error {
  readonly code = 'E_DAEMON_NOT_RUNNING';
  constructor(socket: string, cause: string) {
    super(`the Keel daemon is not running (${socket}: ${cause})`);
    this.name = 'DaemonNotRunningError';
  }
}

export interface ConnectOptions {
  socketPath: string;
  client: { name: string; version: string };
  /** Per-request timeout; 0 disables it. */
  requestTimeoutMs?: number;
  /** Overrides the protocol version sent (tests of the mismatch path). */
  protocolVersion?: number;
}

export class KeelClient {
  private readonly ws: WebSocket;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly closeListeners = new Set<(reason: string) => void>();
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

  /** Connects and sends `initialize`; rejects with DaemonNotRunningError when nothing listens. */
  static async connect(opts: ConnectOptions): Promise<KeelClient> {
    const ws = new WebSocket(`ws+unix://${opts.socketPath}:/`, { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new DaemonNotRunningError(opts.socketPath, err.code));
        else reject(err);
      });
    });
    const client = new KeelClient(ws, opts.requestTimeoutMs ?? 60_000);
    try {
      client.initializeResult = await client.call('initialize', {
        protocolVersion: opts.protocolVersion ?? PROTOCOL_VERSION,
        client: opts.client,
      });
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
      const timer = timeoutMs > 0
        ? setTimeout(() => {
          this.pending.delete(id);
          reject(new RpcError(ErrorCode.Internal, `${method} timed out after ${timeoutMs} ms`));
        }, timeoutMs)
        : undefined;
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
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

  /** Called once when the connection ends (daemon stopped, crashed or restarted). */
  onClose(listener: (reason: string) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  private handleClose(reason: string): void {
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
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
      for (const l of this.listeners.get(frame.method) ?? []) l(frame.params);
      return;
    }
    if (frame.kind !== 'response' || typeof frame.id !== 'number') return;
    const p = this.pending.get(frame.id);
    if (!p) return;
    this.pending.delete(frame.id);
    if (p.timer) clearTimeout(p.timer);
    if (frame.error) p.reject(new RpcError(frame.error.code, frame.error.message, frame.error.data));
    else p.resolve(frame.result);
  }
}

/**
 * The daemon's only door: a WebSocket server on a Unix socket (mode 0600, inside the 0700
 * `$KEEL_HOME`). Frames over MAX_FRAME_BYTES close the connection (1009); everything else
 * is handled per connection, each within its send budget (outbox.ts). `close()` stops new
 * work, lets in-flight requests finish, then closes every client.
 */
import { createServer, type Server } from 'node:http';
import { chmodSync, unlinkSync } from 'node:fs';
import { WebSocketServer } from 'ws';
import { isMethod, MAX_FRAME_BYTES, notificationText, type NotificationOf, type Topic } from '../protocol/index.ts';
import type { Logger } from '../log/logger.ts';
import { Connection } from './connection.ts';
import type { Handlers } from './handlers.ts';
import { DEFAULT_SEND_LIMITS, type SendLimits } from './outbox.ts';
import { frameTooLarge } from './result-size.ts';

/** What a held state notification is coalesced by: a newer one with the same key replaces it. */
function coalesceKey<T extends Topic>(topic: T, params: NotificationOf[T]): string {
  const p = params as Partial<Record<'runId' | 'projectId' | 'name' | 'kind' | 'id' | 'alias', unknown>>;
  switch (topic) {
    case 'runs': return String(p.runId);
    case 'alerts': return `${String(p.runId)}:${String(p.kind)}`;
    case 'projects': return String(p.projectId);
    case 'hosts': return String(p.name);
    case 'models': return `${String(p.projectId)}:${String(p.alias)}`;
    default: return '';
  }
}

function runIdOf(params: unknown, runId: string | undefined): string | null {
  if (runId) return runId;
  const r = (params as { runId?: unknown }).runId;
  return typeof r === 'string' ? r : null;
}

export class RpcServer {
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private readonly inFlight = new Map<Promise<unknown>, string>();
  private readonly served = new Map<string, number>();
  private readonly log: Logger;
  private nextId = 1;
  private shuttingDown = false;
  private socketPath: string | null = null;

  constructor(handlers: Handlers, log: Logger, limits: SendLimits = DEFAULT_SEND_LIMITS) {
    this.log = log;
    this.http = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('Keel daemon: connect with a WebSocket\n');
    });
    this.wss = new WebSocketServer({ server: this.http, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    this.wss.on('connection', (socket) => {
      const conn = new Connection(this.nextId++, socket, handlers, log, (p, method) => this.track(p, method), limits);
      this.connections.add(conn);
      socket.on('message', (data, isBinary) => conn.onMessage(data, isBinary, this.shuttingDown));
      socket.on('close', () => this.connections.delete(conn));
      socket.on('error', (err) => log.warn('client socket error', { conn: conn.id, error: err.message }));
    });
    this.wss.on('error', (err) => log.error('websocket server error', { error: err.message }));
  }

  get clientCount(): number {
    return this.connections.size;
  }

  /** Methods of the requests still being handled (for the shutdown report). */
  get inFlightMethods(): string[] {
    return [...this.inFlight.values()];
  }

  /** Requests taken since the daemon started, by method (one bucket for names no method has). */
  requestCounts(): Record<string, number> {
    return Object.fromEntries(this.served);
  }

  private track(p: Promise<unknown>, method: string): void {
    const name = isMethod(method) || method === 'initialize' ? method : '(unknown)';
    this.served.set(name, (this.served.get(name) ?? 0) + 1);
    this.inFlight.set(p, method);
    // handle() never rejects (it answers every error), but a bug there must not become an unhandled rejection.
    p.catch(() => {}).finally(() => this.inFlight.delete(p));
  }

  listen(socketPath: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.http.once('error', onError);
      // Owner-only from the moment it exists: the directory is 0700 and the umask covers the gap.
      const oldMask = process.umask(0o177);
      this.http.listen(socketPath, () => {
        process.umask(oldMask);
        this.http.off('error', onError);
        chmodSync(socketPath, 0o600);
        this.socketPath = socketPath;
        resolve();
      });
    });
  }

  /**
   * Sends a notification to every client subscribed to `topic` (and to `runId`, if it filters
   * runs), serialised once, each within its client's budget. One too large for a frame is
   * not sent: subscribers of a chatty topic are told to re-read (resync).
   */
  publish<T extends Topic>(topic: T, params: NotificationOf[T], runId?: string): void {
    const run = runIdOf(params, runId);
    const subscribers = [...this.connections].filter((c) => c.topics.has(topic) && !(run && c.runFilter && !c.runFilter.has(run)));
    if (subscribers.length === 0) return;
    const text = notificationText(`notify/${topic}`, params);
    if (frameTooLarge(text)) {
      this.tooLargeToPublish(topic, run, text, subscribers);
      return;
    }
    const key = coalesceKey(topic, params);
    for (const conn of subscribers) conn.notify(topic, text, key, run);
  }

  private tooLargeToPublish(topic: Topic, runId: string | null, text: string, subscribers: readonly Connection[]): void {
    this.log.warn('notification too large to send', { topic, runId, chars: text.length });
    if (topic !== 'logs' && topic !== 'metrics' && topic !== 'progress') return;
    for (const conn of subscribers) conn.missed(topic, runId);
  }

  /** Stops taking requests, waits for in-flight ones (up to `graceMs`), closes clients and the socket. */
  async close(graceMs = 10_000): Promise<void> {
    this.shuttingDown = true;
    this.log.info('closing the socket', { inFlight: this.inFlight.size, clients: this.connections.size });
    const deadline = new Promise((r) => setTimeout(r, graceMs).unref());
    await Promise.race([Promise.allSettled([...this.inFlight.keys()]), deadline]);
    // Polite close first; clients that do not answer the close handshake are cut off.
    for (const conn of this.connections) conn.close();
    const politeDeadline = Date.now() + 500;
    while (this.connections.size > 0 && Date.now() < politeDeadline) await new Promise((r) => setTimeout(r, 10));
    for (const ws of this.wss.clients) ws.terminate();
    const closed = new Promise<void>((r) => this.http.close(() => r()));
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.wss.close(() => r()));
    await closed;
    this.log.info('socket closed');
    if (this.socketPath) {
      try {
        unlinkSync(this.socketPath);
      } catch {
        /* already gone */
      }
    }
  }
}

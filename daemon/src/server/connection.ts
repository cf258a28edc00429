/**
 * One client connection: validates every inbound frame, enforces `initialize` first,
 * dispatches requests to handlers, and tracks the client's notification subscriptions.
 * Everything it sends goes through its Outbox (the client's send budget), and no response
 * larger than one message is sent.
 */
import type { WebSocket } from 'ws';
import {
  ErrorCode, PROTOCOL_VERSION, RpcError, errorText, isMethod, paramsOf, parseFrame, validate,
  type DroppableTopic, type Method, type RequestFrame, type Topic,
} from '../protocol/index.ts';
import type { Logger } from '../log/logger.ts';
import type { HandlerContext, Handlers } from './handlers.ts';
import { DEFAULT_SEND_LIMITS, Outbox, type SendLimits } from './outbox.ts';
import { boundedResponseText } from './result-size.ts';

/**
 * The error for a method of the protocol that this daemon has no handler for: the server's
 * answer, and the features' stand-ins' (server/methods.ts) when the loaded features lack it.
 */
export const methodNotAvailable = (method: Method): RpcError => new RpcError(ErrorCode.MethodNotFound, `method "${method}" is not available in this daemon`);

/** Registers a request in flight (the server waits for them on shutdown and names them). */
export type TrackRequest = (p: Promise<unknown>, method: string) => void;

export class Connection {
  readonly id: number;
  readonly topics = new Set<Topic>();
  /** When set, run-scoped notifications are sent only for these runs. */
  runFilter: Set<string> | null = null;
  client: { name: string; version: string } | null = null;
  private readonly socket: WebSocket;
  private readonly handlers: Handlers;
  private readonly log: Logger;
  private readonly track: TrackRequest;
  private readonly outbox: Outbox;

  constructor(id: number, socket: WebSocket, handlers: Handlers, log: Logger, track: TrackRequest, limits: SendLimits = DEFAULT_SEND_LIMITS) {
    this.id = id;
    this.socket = socket;
    this.handlers = handlers;
    this.log = log;
    this.track = track;
    this.outbox = new Outbox(socket, limits, (cut) => {
      log.warn('closing a client that does not read', { conn: this.id, client: this.client?.name ?? null, reason: cut.reason, queuedBytes: cut.queuedBytes });
    });
    socket.once('close', () => this.outbox.dispose());
  }

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /** Bytes queued for this client that it has not read yet. */
  get queuedBytes(): number {
    return this.outbox.queuedBytes;
  }

  /** Sends a response or error frame (never dropped). */
  send(text: string): void {
    this.outbox.response(text);
  }

  /**
   * Sends a `notify/<topic>` frame already serialised by the server, within the client's
   * budget: `key` is what a held state notification is coalesced by, `runId` what a dropped
   * one was about.
   */
  notify(topic: Topic, text: string, key: string, runId: string | null): void {
    this.outbox.notification(topic, text, key, runId);
  }

  /** Records a notification this client should have had but did not get (it was too large to send). */
  missed(topic: DroppableTopic, runId: string | null): void {
    this.outbox.noteDropped(topic, runId);
  }

  close(code = 1001, reason = 'daemon shutting down'): void {
    if (this.open) this.socket.close(code, reason);
  }

  onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean, shuttingDown: boolean): void {
    if (isBinary) {
      this.send(errorText(null, { code: ErrorCode.InvalidRequest, message: 'binary frames are not accepted; send JSON text' }));
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    const parsed = parseFrame(text);
    if (!parsed.ok) {
      this.send(errorText(parsed.id, parsed.error));
      return;
    }
    const frame = parsed.frame;
    if (frame.kind !== 'request') return; // clients send no notifications or responses we act on
    if (shuttingDown) {
      this.send(errorText(frame.id, { code: ErrorCode.ShuttingDown, message: 'the daemon is shutting down; retry in a moment' }));
      return;
    }
    this.track(this.handle(frame), frame.method);
  }

  private async handle(frame: RequestFrame): Promise<void> {
    const started = performance.now();
    try {
      const result: unknown = await this.dispatch(frame);
      this.send(boundedResponseText(frame.id, frame.method, result, (bytes) => {
        this.log.warn('result too large to send', { method: frame.method, bytes, conn: this.id });
      }));
    } catch (err) {
      const body = err instanceof RpcError ? err.toBody() : { code: ErrorCode.Internal, message: `internal error: ${(err as Error).message}` };
      if (!(err instanceof RpcError)) this.log.error('request failed', { method: frame.method, error: (err as Error).stack });
      this.send(errorText(frame.id, body));
    } finally {
      this.log.debug('request', { method: frame.method, ms: +(performance.now() - started).toFixed(2), conn: this.id });
    }
  }

  private dispatch(frame: RequestFrame): unknown {
    const { method } = frame;
    if (!isMethod(method)) throw new RpcError(ErrorCode.MethodNotFound, `unknown method "${method}"`);
    if (method !== 'initialize' && !this.client) {
      throw new RpcError(ErrorCode.NotInitialized, 'send "initialize" first');
    }
    const checked = validate(paramsOf[method], frame.params);
    if (!checked.ok) {
      const summary = checked.issues.map((i) => `${i.path} ${i.message}`).join('; ');
      throw new RpcError(ErrorCode.InvalidParams, `invalid params for ${method}: ${summary}`, { issues: checked.issues });
    }
    if (method === 'initialize') return this.initialize(checked.value as never);
    const handler = this.handlers[method] as ((p: unknown, ctx: HandlerContext) => unknown) | undefined;
    if (!handler) throw methodNotAvailable(method);
    return handler(checked.value, { connection: this });
  }

  private initialize(params: { protocolVersion: number; client: { name: string; version: string } }): unknown {
    if (params.protocolVersion !== PROTOCOL_VERSION) {
      throw new RpcError(
        ErrorCode.ProtocolMismatch,
        `protocol version mismatch: the client speaks ${params.protocolVersion}, the daemon speaks ${PROTOCOL_VERSION}. ` +
          'Restart the daemon (`keel daemon stop`, then any keel command) so both come from the same Keel.',
        { daemon: PROTOCOL_VERSION, client: params.protocolVersion },
      );
    }
    this.client = params.client;
    return this.handlers.initialize();
  }
}

export type { Method };

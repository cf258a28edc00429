/**
 * What one client has not read yet, kept within a budget. A client that stops reading (a
 * suspended `keel logs -f`, a frozen editor) must not make the daemon queue without bound:
 * - under the soft budget everything is sent at once;
 * - over it, chatty notifications (logs, metrics, progress) are dropped and remembered,
 *   state notifications (runs, alerts, projects, hosts) are coalesced to the latest per key,
 *   and the client's own frames are no longer read, so it cannot make the daemon queue
 *   more responses;
 * - once its queue drains under the low-water mark, reading resumes, the coalesced
 *   notifications go out, then one `notify/resync` names what was dropped;
 * - over the hard budget, or over the soft one for too long, the client is cut off.
 * Responses are never dropped: they are what the client asked for.
 */
import type { WebSocket } from 'ws';
import { CLOSE_SLOW_CLIENT, RESYNC_METHOD, notificationText, type DroppableTopic, type ResyncNotification, type Topic } from '../protocol/index.ts';

/** The budget of one client, in bytes queued in the daemon (ws `bufferedAmount`) and time. */
export interface SendLimits {
  /** Over this, droppable notifications are dropped and the client's frames are not read. */
  softBytes: number;
  /** Under this again, the client is back in budget (well below soft, so it does not flap). */
  lowWaterBytes: number;
  /** Over this, the client is cut off. */
  hardBytes: number;
  /** Over the soft budget for this long, the client is cut off. */
  stallMs: number;
  /** How often a client over budget is looked at. */
  checkMs: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_SEND_LIMITS: SendLimits = { softBytes: 4 * MiB, lowWaterBytes: 1 * MiB, hardBytes: 32 * MiB, stallMs: 30_000, checkMs: 50 };

const DROPPABLE: ReadonlySet<Topic> = new Set<DroppableTopic>(['logs', 'metrics', 'progress']);

function isDroppable(topic: Topic): topic is DroppableTopic {
  return DROPPABLE.has(topic);
}

/** Why a client was cut off, for the close frame and the log. */
export interface CutOff {
  reason: string;
  queuedBytes: number;
}

export class Outbox {
  private readonly socket: WebSocket;
  private readonly limits: SendLimits;
  private readonly onCut: (cut: CutOff) => void;
  private overSince: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  /** Held state notifications, latest per key, in the order their keys last changed. */
  private readonly held = new Map<string, string>();
  private readonly dropped = new Map<DroppableTopic, Set<string>>();
  private cut = false;

  constructor(socket: WebSocket, limits: SendLimits, onCut: (cut: CutOff) => void) {
    this.socket = socket;
    this.limits = limits;
    this.onCut = onCut;
  }

  /** Bytes queued in the daemon for this client. */
  get queuedBytes(): number {
    return this.socket.bufferedAmount;
  }

  /** True while the client is over its soft budget (and its frames are not read). */
  get overBudget(): boolean {
    return this.overSince !== null;
  }

  /** Sends a response (or an error response): never dropped. */
  response(text: string): void {
    this.write(text);
  }

  /**
   * Sends a notification, or — over budget — drops it (chatty topics) or holds the latest
   * per `key` (state topics). `runId` names what a dropped notification was about.
   */
  notification(topic: Topic, text: string, key: string, runId: string | null): void {
    if (this.overSince === null && this.socket.bufferedAmount < this.limits.softBytes) {
      this.write(text);
      return;
    }
    this.enterOverBudget();
    if (isDroppable(topic)) {
      this.noteDropped(topic, runId);
      return;
    }
    const id = `${topic}\u0000${key}`;
    this.held.delete(id);
    this.held.set(id, text);
  }

  /** Remembers a notification that was not sent, for the next resync. */
  noteDropped(topic: DroppableTopic, runId: string | null): void {
    let runs = this.dropped.get(topic);
    if (!runs) this.dropped.set(topic, (runs = new Set()));
    if (runId !== null) runs.add(runId);
    // A client in budget learns of the drop as soon as its queue is low again.
    this.enterOverBudget();
  }

  /** Stops the timer (the connection closed). */
  dispose(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.held.clear();
    this.dropped.clear();
  }

  private get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  private write(text: string): void {
    if (!this.open) return;
    this.socket.send(text);
    const queued = this.socket.bufferedAmount;
    if (queued > this.limits.hardBytes) this.cutOff(`over the ${this.limits.hardBytes / MiB} MiB budget of unread messages`, queued);
    else if (queued >= this.limits.softBytes) this.enterOverBudget();
  }

  private enterOverBudget(): void {
    if (this.overSince !== null || !this.open) return;
    this.overSince = Date.now();
    this.socket.pause();
    this.timer = setInterval(() => this.check(), this.limits.checkMs);
    this.timer.unref();
  }

  private check(): void {
    if (!this.open || this.overSince === null) {
      this.dispose();
      return;
    }
    const queued = this.socket.bufferedAmount;
    if (queued <= this.limits.lowWaterBytes) this.leaveOverBudget();
    else if (Date.now() - this.overSince > this.limits.stallMs) {
      this.cutOff(`not reading: over the ${this.limits.softBytes / MiB} MiB budget for ${Math.round(this.limits.stallMs / 1000)} s`, queued);
    }
  }

  private leaveOverBudget(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.overSince = null;
    this.socket.resume();
    const held = [...this.held.values()];
    this.held.clear();
    for (const text of held) this.write(text);
    if (this.dropped.size === 0 || !this.open) return;
    const params: ResyncNotification = { dropped: [...this.dropped].map(([topic, runs]) => ({ topic, runIds: [...runs] })) };
    this.dropped.clear();
    this.write(notificationText(RESYNC_METHOD, params));
  }

  private cutOff(reason: string, queuedBytes: number): void {
    if (this.cut) return;
    this.cut = true;
    this.dispose();
    this.onCut({ reason, queuedBytes });
    // Nothing more is queued after the close frame, so memory stays bounded; a client that comes
    // back reads what was queued and then the code and reason. One that never does is dropped by
    // ws's own close timeout (30 s).
    this.socket.close(CLOSE_SLOW_CLIENT, `slow client: ${reason}`.slice(0, 120));
    // Read again, or the client's answer to the close frame is never seen and the close hangs.
    this.socket.resume();
  }
}

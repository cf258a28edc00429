/**
 * Notification listeners that outlive connections. Features listen once; after every
 * (re)connect the hub re-attaches to the new client and re-subscribes the topics that have
 * listeners. A topic is subscribed on the daemon only while someone listens to it (the
 * `metrics` topic is chatty), and no run filter is ever set: one connection serves every view.
 */
import { Topics, type NotificationOf, type ResyncNotification, type Topic } from '../../../daemon/src/protocol/index.ts';

type Listener = (params: never) => void;
type ResyncListener = (params: ResyncNotification) => void;

/** The part of KeelClient the hub uses (a fake in tests). */
export interface SubscribingClient {
  on<T extends Topic>(topic: T, listener: (params: NotificationOf[T]) => void): () => void;
  /** `notify/resync`: notifications the daemon dropped while this client was not reading. */
  onResync(listener: ResyncListener): () => void;
  call(method: 'subscriptions/add' | 'subscriptions/remove', params: { topics: Topic[] }): Promise<unknown>;
}

export class TopicHub {
  private readonly listeners = new Map<Topic, Set<Listener>>();
  private readonly resyncListeners = new Set<ResyncListener>();
  private client: SubscribingClient | null = null;
  private detachers: (() => void)[] = [];
  private readonly onError: (message: string) => void;

  constructor(onError: (message: string) => void) {
    this.onError = onError;
  }

  /** Topics with at least one listener. */
  activeTopics(): Topic[] {
    return Topics.filter((t) => (this.listeners.get(t)?.size ?? 0) > 0);
  }

  /** Adds a listener; returns its removal. */
  add<T extends Topic>(topic: T, listener: (params: NotificationOf[T]) => void): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    const fn = listener as Listener;
    set.add(fn);
    if (set.size === 1) this.request('subscriptions/add', topic);
    return () => {
      if (!set.delete(fn)) return;
      if (set.size === 0) this.request('subscriptions/remove', topic);
    };
  }

  /** Adds a listener for resyncs (re-read what the daemon dropped); returns its removal. */
  addResync(listener: ResyncListener): () => void {
    this.resyncListeners.add(listener);
    return () => { this.resyncListeners.delete(listener); };
  }

  /** Routes a new connection's notifications to the listeners and subscribes their topics. */
  async attach(client: SubscribingClient): Promise<void> {
    this.detach();
    this.client = client;
    for (const topic of Topics) this.detachers.push(client.on(topic, (params) => this.dispatch(topic, params)));
    this.detachers.push(client.onResync((params) => this.dispatchResync(params)));
    const topics = this.activeTopics();
    if (topics.length > 0) await client.call('subscriptions/add', { topics });
  }

  /** Forgets the current connection (it closed). */
  detach(): void {
    for (const d of this.detachers.splice(0)) d();
    this.client = null;
  }

  private dispatch(topic: Topic, params: unknown): void {
    for (const l of [...(this.listeners.get(topic) ?? [])]) {
      try {
        (l as (p: unknown) => void)(params);
      } catch (err) {
        // One broken listener must not starve the others.
        this.onError(`a ${topic} listener failed: ${(err as Error).stack ?? String(err)}`);
      }
    }
  }

  private dispatchResync(params: ResyncNotification): void {
    for (const l of [...this.resyncListeners]) {
      try {
        l(params);
      } catch (err) {
        this.onError(`a resync listener failed: ${(err as Error).stack ?? String(err)}`);
      }
    }
  }

  private request(method: 'subscriptions/add' | 'subscriptions/remove', topic: Topic): void {
    const client = this.client;
    if (!client) return; // attach() subscribes on the next connect
    client.call(method, { topics: [topic] }).catch((err: Error) => this.onError(`${method} ${topic} failed: ${err.message}`));
  }
}

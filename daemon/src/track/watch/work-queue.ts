/**
 * Debounced, serial work for one project: a burst of file events for one target (a dataset,
 * a run folder) becomes one job after `quietMs` without events (or `maxWaitMs` at most), and
 * a project's jobs run one at a time so hashing and ingest never pile up. Every project has
 * its own queue; {@link JobSlots} shared between them caps how many jobs run at once, so one
 * project's slow job (a huge dataset being hashed) never holds up another project. A failing
 * job is logged, not fatal.
 */
export interface WorkQueueOptions {
  quietMs: number;
  maxWaitMs: number;
  onError: (key: string, err: unknown) => void;
  /** Shared limit on jobs running at once across queues; none when absent. */
  slots?: JobSlots;
}

interface Pending {
  run: () => Promise<void>;
  firstAt: number;
  timer: NodeJS.Timeout;
}

/** A counting semaphore: at most `size` holders at once, the rest wait in arrival order. */
export class JobSlots {
  readonly size: number;
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.size = Math.max(1, Math.floor(size));
  }

  /** Jobs holding a slot now. */
  get running(): number {
    return this.held;
  }

  /** Resolves with a release function once a slot is free; call it exactly once. */
  async acquire(): Promise<() => void> {
    if (this.held >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter; `held` counts it already.
      if (next) next();
      else this.held--;
    };
  }
}

export class WorkQueue {
  private readonly opts: WorkQueueOptions;
  private readonly pending = new Map<string, Pending>();
  private readonly ready: { key: string; run: () => Promise<void> }[] = [];
  private readonly queuedKeys = new Set<string>();
  private running: Promise<void> | null = null;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(opts: WorkQueueOptions) {
    this.opts = opts;
  }

  /** Schedules `run` for `key`, replacing any pending job for the same key. */
  schedule(key: string, run: () => Promise<void>, immediate = false): void {
    if (this.closed) return;
    const now = Date.now();
    const prev = this.pending.get(key);
    if (prev) clearTimeout(prev.timer);
    const firstAt = prev?.firstAt ?? now;
    const wait = immediate ? 0 : Math.max(0, Math.min(this.opts.quietMs, firstAt + this.opts.maxWaitMs - now));
    const timer = setTimeout(() => this.promote(key), wait);
    timer.unref();
    this.pending.set(key, { run, firstAt, timer });
  }

  private promote(key: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    if (this.queuedKeys.has(key)) {
      const idx = this.ready.findIndex((r) => r.key === key);
      if (idx >= 0) this.ready[idx] = { key, run: p.run };
    } else {
      this.queuedKeys.add(key);
      this.ready.push({ key, run: p.run });
    }
    // `.finally` always runs after the assignment, even when drain() has nothing to wait for.
    this.running ??= this.drain().finally(() => {
      this.running = null;
      if (this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  private async drain(): Promise<void> {
    for (let job = this.ready.shift(); job && !this.closed; job = this.ready.shift()) {
      this.queuedKeys.delete(job.key);
      const release = await this.opts.slots?.acquire();
      try {
        if (!this.closed) await job.run();
      } catch (err) {
        this.opts.onError(job.key, err);
      } finally {
        release?.();
      }
    }
  }

  isIdle(): boolean {
    return this.running === null && this.ready.length === 0 && this.pending.size === 0;
  }

  /** Resolves when nothing is pending or running (tests, `keel import`). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Drops pending work and waits for the running job to finish (abort it first to make that quick). */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.ready.length = 0;
    this.queuedKeys.clear();
    await this.running;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}

/**
 * Debounced, serial work: a burst of file events for one target (a dataset, a run folder)
 * becomes one job after `quietMs` without events (or `maxWaitMs` at most), and jobs run
 * one at a time so hashing and ingest never pile up. A failing job is logged, not fatal.
 */
export interface WorkQueueOptions {
  quietMs: number;
  maxWaitMs: number;
  onError: (key: string, err: unknown) => void;
}

interface Pending {
  run: () => Promise<void>;
  firstAt: number;
  timer: NodeJS.Timeout;
}

export class WorkQueue {
  private readonly opts: WorkQueueOptions;
  private readonly pending = new Map<string, Pending>();
  private readonly ready: { key: string; run: () => Promise<void> }[] = [];
  private readonly queuedKeys = new Set<string>();
  private running = false;
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
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let job = this.ready.shift(); job && !this.closed; job = this.ready.shift()) {
        this.queuedKeys.delete(job.key);
        try {
          await job.run();
        } catch (err) {
          this.opts.onError(job.key, err);
        }
      }
    } finally {
      this.running = false;
      if (this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  isIdle(): boolean {
    return !this.running && this.ready.length === 0 && this.pending.size === 0;
  }

  /** Resolves when nothing is pending or running (tests, `keel import`). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Drops pending work and waits for the running job to finish. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.ready.length = 0;
    while (this.running) await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * GPU leases as the host sees them, consulted before a GPU job is placed. Keel's own active
 * jobs are excluded from the database; this finds what else holds a GPU's lock — another
 * user's job (the lock folder is machine-wide), a stray process left behind — with leases.sh,
 * which also names the holder. A GPU found held is left out of placement with exponential
 * back-off (it is looked at again after 5 s, 10 s, 20 s … up to the cap), so a held GPU costs
 * one ssh call per back-off period, never one per scheduling tick.
 */
import type { DispatchContext } from './context.ts';
import type { HostRecord } from './hosts.ts';
import { gpuId } from './placement.ts';
import { parseLeasesOutput } from './remote/markers.ts';
import { DEFAULT_GPU_LOCK_DIR } from './remote/gpu-sh.ts';
import { isUnreachable } from './transport/connection.ts';

/** A GPU found held by something that is not one of this daemon's jobs. */
export interface HeldGpu {
  index: number | null;
  pid: number;
  command: string;
  /** Not looked at again before this time (ms). */
  until: number;
  /** Consecutive times it was found held. */
  times: number;
}

/** The back-off after `times` consecutive findings: first, doubling, capped. */
export function backoffMs(times: number, first: number, max: number): number {
  return Math.min(max, first * 2 ** Math.max(0, Math.min(times - 1, 30)));
}

export class GpuLeases {
  private readonly ctx: DispatchContext;
  private readonly held = new Map<string, Map<string, HeldGpu>>();
  private readonly checkedAt = new Map<string, number>();
  private readonly checking = new Map<string, Promise<void>>();
  private readonly onChecked: () => void;

  constructor(ctx: DispatchContext, onChecked: () => void) {
    this.ctx = ctx;
    this.onChecked = onChecked;
  }

  /** GPU ids of `host` held outside Keel's jobs, whose back-off has not run out. */
  heldOn(host: HostRecord): Set<string> {
    const now = Date.now();
    return new Set([...(this.held.get(host.id) ?? new Map<string, HeldGpu>())].filter(([, h]) => h.until > now).map(([id]) => id));
  }

  /** What holds GPU `id` on `host`, as a sentence (for reasons and events). */
  describe(host: HostRecord, id: string): string | null {
    const h = this.held.get(host.id)?.get(id);
    if (!h) return null;
    const holder = h.pid > 0 ? `pid ${h.pid} (${h.command})` : 'a process Keel cannot see (another user\'s?)';
    return `GPU ${h.index ?? '?'} (${id}) on ${host.name} is held by ${holder}, not by a job of this Keel`;
  }

  /** True when the host's leases were looked at within `freshMs`. */
  isFresh(host: HostRecord, freshMs: number): boolean {
    return Date.now() - (this.checkedAt.get(host.id) ?? 0) < freshMs;
  }

  /** Forgets when the host was last looked at (a job there found a GPU taken): the next placement looks again. */
  invalidate(host: HostRecord): void {
    this.checkedAt.delete(host.id);
    const held = this.held.get(host.id);
    for (const h of held?.values() ?? []) h.until = 0;
  }

  /** Looks at the host's GPU locks in the background (one call at a time per host); `onChecked` runs after. */
  refresh(host: HostRecord): void {
    if (this.checking.has(host.id)) return;
    const p = this.check(host)
      .catch((err: Error) => {
        this.ctx.log.warn('cannot read GPU leases', { host: host.name, error: err.message });
        // A host gone since its check waits like any unreachable host (placement says so and checks it again).
        if (isUnreachable(err)) this.ctx.hosts.markUnreachable(host.name, err.message);
      })
      .finally(() => {
        this.checking.delete(host.id);
        this.onChecked();
      });
    this.checking.set(host.id, p);
  }

  private async check(host: HostRecord): Promise<void> {
    const ids = host.gpus.map(gpuId);
    if (ids.length === 0) return;
    // GPUs this daemon's jobs hold before or after the look are theirs, not "something else":
    // a job that ended while leases.sh ran still held its lock when it was read.
    const mine = this.ctx.store.jobs.gpusInUse(host.id);
    const scripts = await this.ctx.hosts.scriptsDir(host.name);
    const r = await this.ctx.hosts.connection(host.name).exec(['bash', `${scripts}/leases.sh`, this.ctx.gpuLockDir ?? DEFAULT_GPU_LOCK_DIR, ...ids], { timeoutMs: 30_000, what: 'reading GPU leases' });
    const leases = parseLeasesOutput(r.stdout);
    if (!leases) throw new Error(`leases.sh on ${host.name} was cut short`);
    for (const id of this.ctx.store.jobs.gpusInUse(host.id)) mine.add(id);
    const before = this.held.get(host.id) ?? new Map<string, HeldGpu>();
    const now = new Map<string, HeldGpu>();
    for (const g of host.gpus) {
      const id = gpuId(g);
      const lease = leases.get(id);
      if (lease?.state !== 'busy' || mine.has(id)) continue;
      const times = (before.get(id)?.times ?? 0) + 1;
      now.set(id, { index: g.index, pid: lease.pid, command: lease.command, times, until: Date.now() + backoffMs(times, this.ctx.backoff.firstMs, this.ctx.backoff.maxMs) });
    }
    this.held.set(host.id, now);
    this.checkedAt.set(host.id, Date.now());
    this.ctx.log.info('gpu leases', { host: host.name, held: [...now.entries()].map(([id, h]) => ({ id, pid: h.pid, command: h.command, retryInMs: h.until - Date.now() })) });
  }
}

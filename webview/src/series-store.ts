/**
 * The curves the panel holds, by metric key and run: loaded on `init`, grown by
 * `seriesAppend`, and refined by `series` answers to zoom requests (spliced into the
 * coarse curve so zooming back out still shows everything).
 */
import type { MetricPoint } from '../../daemon/src/protocol/domain.ts';
import type { SeriesPayload } from '../../daemon/src/protocol/webview.ts';
import { mergePoints, spliceRange } from './series.ts';

export interface StoredSeries {
  points: MetricPoint[];
  /** Points the daemon holds for the whole series. */
  total: number;
  downsampled: boolean;
}

const pendingKey = (runId: string, key: string): string => `${runId}\u0000${key}`;

export class SeriesStore {
  private readonly byKey = new Map<string, Map<string, StoredSeries>>();
  private readonly pending = new Map<string, { fromStep: number; toStep: number }>();

  /** Replaces everything (on `init`). */
  load(series: readonly SeriesPayload[]): void {
    this.byKey.clear();
    this.pending.clear();
    for (const s of series) this.set(s.runId, s.key, { points: mergePoints([], s.points), total: s.total, downsampled: s.downsampled });
  }

  private set(runId: string, key: string, s: StoredSeries): void {
    const runs = this.byKey.get(key) ?? new Map<string, StoredSeries>();
    runs.set(runId, s);
    this.byKey.set(key, runs);
  }

  get(runId: string, key: string): StoredSeries | undefined {
    return this.byKey.get(key)?.get(runId);
  }

  /** Live points: merged by step; the daemon's total grows by the points that were new. */
  append(runId: string, key: string, points: readonly MetricPoint[]): void {
    const old = this.get(runId, key);
    const merged = mergePoints(old?.points ?? [], points);
    const added = merged.length - (old?.points.length ?? 0);
    this.set(runId, key, { points: merged, total: (old?.total ?? 0) + Math.max(0, added), downsampled: old?.downsampled ?? false });
  }

  /** Remembers a zoom refetch so its answer is spliced in rather than replacing the curve. */
  requested(runId: string, key: string, range: { fromStep: number; toStep: number }): void {
    this.pending.set(pendingKey(runId, key), range);
  }

  /** A whole series again: the answer to a zoom (spliced into its range) or a resync (replaces). */
  replace(s: SeriesPayload): void {
    const k = pendingKey(s.runId, s.key);
    const range = this.pending.get(k);
    const old = this.get(s.runId, s.key);
    this.pending.delete(k);
    if (range && old) {
      this.set(s.runId, s.key, { points: spliceRange(old.points, range.fromStep, range.toStep, s.points), total: s.total, downsampled: old.downsampled });
    } else {
      this.set(s.runId, s.key, { points: mergePoints([], s.points), total: s.total, downsampled: s.downsampled });
    }
  }

  /** Forgets a run (deleted while the panel is open). */
  removeRun(runId: string): void {
    for (const runs of this.byKey.values()) runs.delete(runId);
  }

  /** Which runs hold points for each key. */
  keys(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const [key, runs] of this.byKey) out.set(key, new Set([...runs.entries()].filter(([, s]) => s.points.length > 0).map(([id]) => id)));
    return out;
  }

  /** The curves of `key` for `runIds`, in that order (runs without points are left out). */
  curves(key: string, runIds: readonly string[]): { runId: string; points: MetricPoint[] }[] {
    const runs = this.byKey.get(key);
    if (!runs) return [];
    return runIds.flatMap((runId) => {
      const s = runs.get(runId);
      return s && s.points.length > 0 ? [{ runId, points: s.points }] : [];
    });
  }
}

/**
 * Downsampling a series for drawing (see MetricStore.downsample for the contract). The
 * min/max per bucket is read from the coarsest rollup level (metric-rollups.ts) whose buckets
 * are still at least as fine as the requested ones, so the cost follows the number of points
 * drawn, not stored; a range too small for any level, or a series whose rollups are not
 * built yet, is grouped from its points as before.
 */
import type { MetricPoint } from '../protocol/index.ts';
import type { Db } from './db.ts';
import { ROLLUP_WIDTHS, type RollupRow, type RollupStore } from './metric-rollups.ts';

/** (step, value, wall time) as SQLite returns them. */
export type PointRow = [number, number | null, number | null];

/** What downsampling needs of the series row. */
export interface SeriesSpan {
  id: number;
  points: number;
  firstStep: number;
  lastStep: number;
  rollupReady: boolean;
}

/** Wire form of a stored point (NaN is stored as NULL; ±Inf as REAL infinities). */
export function toWirePoint(step: number, value: number | null, wallTime: number | null): MetricPoint {
  if (value === null) return { step, value: null, special: 'nan', wallTime };
  if (value === Infinity) return { step, value: null, special: 'inf', wallTime };
  if (value === -Infinity) return { step, value: null, special: '-inf', wallTime };
  return { step, value, wallTime };
}

/** The coarsest level giving at least `buckets` buckets over `span` steps, or 0 for none. */
export function rollupLevel(span: number, buckets: number): number {
  for (let level = ROLLUP_WIDTHS.length; level >= 1; level--) if (span / (ROLLUP_WIDTHS[level - 1] as number) >= buckets) return level;
  return 0;
}

export class Downsampler {
  private readonly db: Db;
  private readonly rollups: RollupStore;

  constructor(db: Db, rollups: RollupStore) {
    this.db = db;
    this.rollups = rollups;
  }

  private rows(sql: string, args: Record<string, number>): PointRow[] {
    return this.db.prepare(sql).raw().all(args) as PointRow[];
  }

  /** How many points [lo, hi] holds, counting no further than `cap` + 1. */
  countUpTo(seriesId: number, lo: number, hi: number, cap: number): number {
    return this.db.prepare('SELECT count(*) FROM (SELECT 1 FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ? LIMIT ?)').pluck().get(seriesId, lo, hi, cap + 1) as number;
  }

  /** The downsampled points of [lo, hi], which holds more than `max` (≥ 2) points. */
  sample(s: SeriesSpan, lo: number, hi: number, max: number): MetricPoint[] {
    const id = s.id;
    const ends = this.rows(`SELECT step, value, wall_time FROM (SELECT * FROM metrics WHERE series_id = @id AND step BETWEEN @lo AND @hi ORDER BY step LIMIT 1)
                UNION ALL SELECT step, value, wall_time FROM (SELECT * FROM metrics WHERE series_id = @id AND step BETWEEN @lo AND @hi ORDER BY step DESC LIMIT 1)`, { id, lo, hi });
    const budget = max - 2;
    // Only NaN/±Inf rows are read, through the partial index metrics_special (its WHERE repeated).
    const special = budget < 4 ? [] : this.rows(`SELECT step, value, wall_time FROM metrics INDEXED BY metrics_special WHERE series_id = @id AND step > @lo AND step < @hi
                AND (value IS NULL OR value IN (9e999, -9e999)) ORDER BY step LIMIT @cap`, { id, lo, hi, cap: Math.floor(budget / 4) });
    const buckets = Math.floor((budget - special.length) / 2);
    const picked = buckets === 0 ? [] : (s.rollupReady && this.fromRollups(id, lo, hi, buckets)) || this.fromPoints(id, lo, hi, buckets);
    const byStep = new Map<number, MetricPoint>();
    for (const [step, value, wall] of [...ends, ...special, ...picked]) byStep.set(step, toWirePoint(step, value, wall));
    return [...byStep.values()].sort((a, b) => a.step - b.step);
  }

  /** Min and max of each of `buckets` equal step ranges, grouped from the points themselves. */
  private fromPoints(id: number, lo: number, hi: number, buckets: number): PointRow[] {
    const args = { id, lo, hi, buckets, span: Math.max(1, hi - lo + 1) };
    // SQLite returns the other columns of the row that holds min()/max() (a documented "bare column" rule).
    const pick = (agg: 'min' | 'max'): PointRow[] => this.rows(`SELECT step, ${agg}(value) AS v, wall_time FROM metrics
                WHERE series_id = @id AND step BETWEEN @lo AND @hi AND value IS NOT NULL GROUP BY CAST(((step - @lo) * @buckets) / @span AS INTEGER)`, args);
    return [...pick('min'), ...pick('max')];
  }

  /**
   * Min and max per group of whole rollup buckets inside [lo, hi]; the partial buckets at
   * either end are each one more group, taken from their points (fewer than a bucket's width).
   * Null when no level fits (the caller groups the points).
   */
  private fromRollups(id: number, lo: number, hi: number, buckets: number): PointRow[] | null {
    const level = rollupLevel(hi - lo + 1, buckets);
    if (level === 0) return null;
    const w = ROLLUP_WIDTHS[level - 1] as number;
    const first = Math.ceil(lo / w);
    const last = Math.floor((hi + 1) / w) - 1;
    const edges: [number, number][] = [];
    if (lo < first * w) edges.push([lo, first * w - 1]);
    if ((last + 1) * w <= hi) edges.push([(last + 1) * w, hi]);
    const groups = Math.min(buckets - edges.length, last - first + 1);
    if (groups < 1) return null;
    const out: PointRow[] = [];
    for (const [a, b] of edges) out.push(...this.fromPoints(id, a, b, 1));
    const whole = last - first + 1;
    let acc: RollupRow | null = null;
    let group = -1;
    const flush = (): void => {
      if (acc?.minStep != null) out.push([acc.minStep, acc.minValue, acc.minWall]);
      if (acc?.maxStep != null) out.push([acc.maxStep, acc.maxValue, acc.maxWall]);
    };
    for (const r of this.rollups.rows(id, level, first, last)) {
      const g = Math.floor(((r.bucket - first) * groups) / whole);
      if (g !== group) {
        flush();
        acc = { ...r };
        group = g;
        continue;
      }
      if (acc === null) continue;
      if (r.minValue !== null && (acc.minValue === null || r.minValue < acc.minValue)) [acc.minValue, acc.minStep, acc.minWall] = [r.minValue, r.minStep, r.minWall];
      if (r.maxValue !== null && (acc.maxValue === null || r.maxValue > acc.maxValue)) [acc.maxValue, acc.maxStep, acc.maxWall] = [r.maxValue, r.maxStep, r.maxWall];
    }
    flush();
    return out;
  }
}

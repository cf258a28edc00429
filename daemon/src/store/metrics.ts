/**
 * Metrics: one series per (run, key), points keyed by (series, step) in a WITHOUT ROWID
 * table so millions of points per run stay compact and range scans stay cheap.
 * NaN is stored as NULL (SQLite's own rule); ±Infinity are stored as REAL infinities.
 */
import type { MetricPoint, SeriesInfo } from '../protocol/index.ts';
import type { Db } from './db.ts';

/** A value to record. `wallTime` is seconds since the epoch (as the tools write it) or null. */
export interface MetricInput {
  key: string;
  step: number;
  value: number;
  wallTime?: number | null;
}

/** A series' summary as clients see it, plus when a point was last recorded (ms). */
export type SeriesSummary = SeriesInfo & { updatedAt: number };

/** (step, value, wall time) as SQLite returns them. */
type Row = [number, number | null, number | null];

interface SeriesRow {
  id: number;
  key: string;
  points: number;
  first_step: number | null;
  last_step: number | null;
  last_value: number | null;
  min_value: number | null;
  max_value: number | null;
  updated_at: number;
}

const SERIES_COLUMNS = 'id, key, points, first_step, last_step, last_value, min_value, max_value, updated_at';
/** Keys starting with @prefix (NULL: all); substr, not LIKE, so `_` and `%` in a prefix are plain characters. */
const PREFIX_MATCH = '(@prefix IS NULL OR substr(key, 1, length(@prefix)) = @prefix)';
/** What people look for first: losses, then eval metrics (see {@link displayRank}). */
const DISPLAY_ORDER = "CASE WHEN key LIKE '%loss%' THEN 0 WHEN key LIKE 'eval%' OR key LIKE '%/eval%' OR key LIKE 'test%' THEN 1 ELSE 2 END";

/** The display rank of a key as {@link MetricStore.seriesFirst} orders it: 0 losses, 1 eval metrics, 2 the rest. */
export function displayRank(key: string): number {
  const k = key.toLowerCase();
  if (k.includes('loss')) return 0;
  return k.startsWith('eval') || k.includes('/eval') || k.startsWith('test') ? 1 : 2;
}

function toSummary(r: SeriesRow): SeriesSummary {
  return {
    key: r.key, points: r.points, firstStep: r.first_step, lastStep: r.last_step,
    lastValue: r.last_value, min: r.min_value, max: r.max_value, updatedAt: r.updated_at,
  };
}

export function toWirePoint(step: number, value: number | null, wallTime: number | null): MetricPoint {
  if (value === null) return { step, value: null, special: 'nan', wallTime };
  if (value === Infinity) return { step, value: null, special: 'inf', wallTime };
  if (value === -Infinity) return { step, value: null, special: '-inf', wallTime };
  return { step, value, wallTime };
}

export class MetricStore {
  private readonly db: Db;
  private readonly seriesIds = new Map<string, number>();
  private readonly stmts;

  constructor(db: Db) {
    this.db = db;
    this.stmts = {
      findSeries: db.prepare('SELECT id FROM metric_series WHERE run_id = ? AND key = ?'),
      addSeries: db.prepare('INSERT INTO metric_series (run_id, key, updated_at) VALUES (?, ?, ?)'),
      insert: db.prepare('INSERT OR IGNORE INTO metrics (series_id, step, value, wall_time) VALUES (?, ?, ?, ?)'),
      update: db.prepare('UPDATE metrics SET value = ?, wall_time = ? WHERE series_id = ? AND step = ?'),
      summarise: db.prepare(`UPDATE metric_series SET
          points = points + @added,
          first_step = min(coalesce(first_step, @first), @first),
          last_step = max(coalesce(last_step, @last), @last),
          min_value = CASE WHEN @min IS NULL THEN min_value ELSE min(coalesce(min_value, @min), @min) END,
          max_value = CASE WHEN @max IS NULL THEN max_value ELSE max(coalesce(max_value, @max), @max) END,
          updated_at = @now
        WHERE id = @id`),
      setLast: db.prepare('UPDATE metric_series SET last_value = (SELECT value FROM metrics WHERE series_id = @id AND step = last_step) WHERE id = @id'),
    };
  }

  /** The series id of (run, key), created when new; `created` collects the cache keys of new ones. */
  private seriesId(runId: string, key: string, created: string[]): number {
    const cacheKey = `${runId}\u0000${key}`;
    const cached = this.seriesIds.get(cacheKey);
    if (cached !== undefined) return cached;
    const row = this.stmts.findSeries.get(runId, key) as { id: number } | undefined;
    const id = row ? row.id : Number(this.stmts.addSeries.run(runId, key, Date.now()).lastInsertRowid);
    if (!row) created.push(cacheKey);
    this.seriesIds.set(cacheKey, id);
    return id;
  }

  /**
   * Upserts points on (run, key, step) — re-ingesting a file is harmless — in one
   * transaction, keeping each series' summary (count, step range, min/max, last value)
   * up to date incrementally. min/max are over every value recorded (NaN ignored).
   */
  record(runId: string, points: readonly MetricInput[]): number {
    if (points.length === 0) return 0;
    const touched = new Map<number, { added: number; first: number; last: number; min: number | null; max: number | null }>();
    const created: string[] = [];
    const write = this.db.transaction(() => {
      for (const p of points) {
        const id = this.seriesId(runId, p.key, created);
        const step = Math.trunc(p.step);
        const value = Number.isNaN(p.value) ? null : p.value;
        const wall = p.wallTime ?? null;
        const added = this.stmts.insert.run(id, step, value, wall).changes;
        if (added === 0) this.stmts.update.run(value, wall, id, step);
        let t = touched.get(id);
        if (!t) touched.set(id, (t = { added: 0, first: step, last: step, min: null, max: null }));
        t.added += added;
        if (step < t.first) t.first = step;
        if (step > t.last) t.last = step;
        if (value !== null) {
          if (t.min === null || value < t.min) t.min = value;
          if (t.max === null || value > t.max) t.max = value;
        }
      }
      const now = Date.now();
      for (const [id, t] of touched) {
        this.stmts.summarise.run({ id, added: t.added, first: t.first, last: t.last, min: t.min, max: t.max, now });
        this.stmts.setLast.run({ id });
      }
    });
    try {
      write();
    } catch (err) {
      // The transaction rolled back (disk full, I/O error…): series made inside it are gone,
      // and a cached id of one would send the next points to a series that does not exist.
      for (const cacheKey of created) this.seriesIds.delete(cacheKey);
      throw err;
    }
    return points.length;
  }

  /** The run's metric keys. */
  keys(runId: string): string[] {
    return this.db.prepare('SELECT key FROM metric_series WHERE run_id = ?').pluck().all(runId) as string[];
  }

  /** Summaries of every series of a run, by key. For display, prefer {@link seriesFirst} or {@link seriesPage}: a run may have thousands. */
  series(runId: string): SeriesSummary[] {
    return (this.db.prepare(`SELECT ${SERIES_COLUMNS} FROM metric_series WHERE run_id = ? ORDER BY key`).all(runId) as SeriesRow[]).map(toSummary);
  }

  /** How many series the run has (with keys starting with `prefix`, when given). */
  seriesCount(runId: string, prefix?: string): number {
    return this.db.prepare(`SELECT count(*) FROM metric_series WHERE run_id = @runId AND ${PREFIX_MATCH}`).pluck().get({ runId, prefix: prefix ?? null }) as number;
  }

  /** A page of the run's series by key (with keys starting with `prefix`, when given). */
  seriesPage(runId: string, page: { prefix?: string; offset: number; limit: number }): SeriesSummary[] {
    const rows = this.db
      .prepare(`SELECT ${SERIES_COLUMNS} FROM metric_series WHERE run_id = @runId AND ${PREFIX_MATCH} ORDER BY key LIMIT @limit OFFSET @offset`)
      .all({ runId, prefix: page.prefix ?? null, limit: page.limit, offset: page.offset }) as SeriesRow[];
    return rows.map(toSummary);
  }

  /** The run's first `limit` series in display order: losses, then eval metrics, then the rest, each by key. */
  seriesFirst(runId: string, limit: number): SeriesSummary[] {
    const rows = this.db
      .prepare(`SELECT ${SERIES_COLUMNS} FROM metric_series WHERE run_id = ? ORDER BY ${DISPLAY_ORDER}, key LIMIT ?`)
      .all(runId, limit) as SeriesRow[];
    return rows.map(toSummary);
  }

  /** One series' summary, or undefined when the run has no such key. */
  seriesSummary(runId: string, key: string): SeriesSummary | undefined {
    const row = this.db.prepare(`SELECT ${SERIES_COLUMNS} FROM metric_series WHERE run_id = ? AND key = ?`).get(runId, key) as SeriesRow | undefined;
    return row && toSummary(row);
  }

  /** True when the run has a series `key`. */
  hasSeries(runId: string, key: string): boolean {
    return this.stmts.findSeries.get(runId, key) !== undefined;
  }

  /** Distinct metric keys over several runs. */
  distinctKeyCount(runIds: readonly string[]): number {
    if (runIds.length === 0) return 0;
    return this.db.prepare(`SELECT count(DISTINCT key) FROM metric_series WHERE run_id IN (${runIds.map(() => '?').join(', ')})`).pluck().get(...runIds) as number;
  }

  /** All points of one series in step order (callers downsample for display). */
  points(runId: string, key: string, range: { fromStep?: number; toStep?: number } = {}): MetricPoint[] {
    const row = this.stmts.findSeries.get(runId, key) as { id: number } | undefined;
    if (!row) return [];
    const rows = this.db
      .prepare('SELECT step, value, wall_time FROM metrics WHERE series_id = ? AND step >= ? AND step <= ? ORDER BY step')
      .raw()
      .all(row.id, range.fromStep ?? Number.MIN_SAFE_INTEGER, range.toStep ?? Number.MAX_SAFE_INTEGER) as [number, number | null, number | null][];
    return rows.map(([step, value, wall]) => toWirePoint(step, value, wall));
  }

  /**
   * At most `maxPoints` points of a series for drawing (every point when the range holds no
   * more). Otherwise the range's first and last points are kept, then up to a quarter of the
   * rest of the budget goes to NaN/±Inf points (so a diverging run still shows where it
   * diverged), and the remainder is split into buckets over the step range that each keep
   * their minimum and maximum (so spikes and dips survive). Never more than `maxPoints`.
   */
  downsample(runId: string, key: string, maxPoints: number, range: { fromStep?: number; toStep?: number } = {}): { points: MetricPoint[]; total: number; downsampled: boolean } {
    const row = this.db
      .prepare('SELECT id, points, first_step, last_step FROM metric_series WHERE run_id = ? AND key = ?')
      .get(runId, key) as { id: number; points: number; first_step: number | null; last_step: number | null } | undefined;
    if (!row || row.first_step === null || row.last_step === null) return { points: [], total: 0, downsampled: false };
    const lo = Math.max(range.fromStep ?? row.first_step, row.first_step);
    const hi = Math.min(range.toStep ?? row.last_step, row.last_step);
    const max = Math.max(2, Math.floor(maxPoints));
    const ranged = range.fromStep !== undefined || range.toStep !== undefined;
    const inRange = !ranged ? row.points : lo > hi ? 0 : this.db.prepare('SELECT count(*) FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ?').pluck().get(row.id, lo, hi) as number;
    if (inRange <= max) return { points: inRange === 0 ? [] : this.points(runId, key, { fromStep: lo, toStep: hi }), total: row.points, downsampled: false };
    const ends = this.rows(`SELECT step, value, wall_time FROM (SELECT * FROM metrics WHERE series_id = @id AND step BETWEEN @lo AND @hi ORDER BY step LIMIT 1)
                UNION ALL SELECT step, value, wall_time FROM (SELECT * FROM metrics WHERE series_id = @id AND step BETWEEN @lo AND @hi ORDER BY step DESC LIMIT 1)`, { id: row.id, lo, hi });
    const budget = max - 2;
    const special = budget < 4 ? [] : this.rows(`SELECT step, value, wall_time FROM metrics WHERE series_id = @id AND step > @lo AND step < @hi
                AND (value IS NULL OR value IN (9e999, -9e999)) ORDER BY step LIMIT @cap`, { id: row.id, lo, hi, cap: Math.floor(budget / 4) });
    const buckets = Math.floor((budget - special.length) / 2);
    const args = { id: row.id, lo, hi, buckets, span: Math.max(1, hi - lo + 1) };
    // SQLite returns the other columns of the row that holds min()/max() (a documented "bare column" rule).
    const pick = (agg: 'min' | 'max'): Row[] => (buckets === 0 ? [] : this.rows(`SELECT step, ${agg}(value) AS v, wall_time FROM metrics
                WHERE series_id = @id AND step BETWEEN @lo AND @hi AND value IS NOT NULL GROUP BY CAST(((step - @lo) * @buckets) / @span AS INTEGER)`, args));
    const byStep = new Map<number, MetricPoint>();
    for (const [step, value, wall] of [...ends, ...special, ...pick('min'), ...pick('max')]) byStep.set(step, toWirePoint(step, value, wall));
    const points = [...byStep.values()].sort((a, b) => a.step - b.step);
    return { points, total: row.points, downsampled: true };
  }

  private rows(sql: string, args: Record<string, number>): Row[] {
    return this.db.prepare(sql).raw().all(args) as Row[];
  }

  /** The first step at which a series took `value` (used for "best at step N"). */
  stepOfValue(runId: string, key: string, value: number): number | null {
    const row = this.stmts.findSeries.get(runId, key) as { id: number } | undefined;
    if (!row) return null;
    const step = this.db.prepare('SELECT step FROM metrics WHERE series_id = ? AND value = ? ORDER BY step LIMIT 1').pluck().get(row.id, value) as number | undefined;
    return step ?? null;
  }

  /** Forgets cached series ids (after a run is deleted). */
  clearCache(): void {
    this.seriesIds.clear();
  }
}

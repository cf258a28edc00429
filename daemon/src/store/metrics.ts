/**
 * Metrics: one series per (run, quantity), points keyed by (series, step) in a WITHOUT ROWID
 * table so millions of points per run stay compact and range scans stay cheap.
 * NaN is stored as NULL (SQLite's own rule); ±Infinity are stored as REAL infinities.
 *
 * A series is keyed by the quantity's canonical key (track/formats/metric-names.ts); the names
 * files used for it are kept as its aliases. Each point remembers its precision and the kind
 * of file it came from, so two files reporting the same step merge into one point
 * (metric-merge.ts).
 */
import type { MetricPoint, SeriesInfo } from '../protocol/index.ts';
import type { Db } from './db.ts';
import { metricKeyCandidates } from '../track/formats/metric-names.ts';
import { DEFAULT_BITS, mergeReading, type Disagreement } from './metric-merge.ts';
import { Downsampler, toWirePoint } from './metric-downsample.ts';
import { beatsMax, beatsMin, RollupStore, type AppendedPoints } from './metric-rollups.ts';

export { toWirePoint };

/** A value to record. `wallTime` is seconds since the epoch (as the tools write it) or null. */
export interface MetricInput {
  /** The canonical key. */
  key: string;
  step: number;
  value: number;
  wallTime?: number | null;
  /** The key as the file wrote it, when it differs (kept as an alias of the series). */
  sourceKey?: string;
  /** Precision of the value as read: 64 (JSON, text, float64 tensors), 32 (TensorBoard simple_value), 16. Default 64. */
  bits?: number;
}

/** How a batch was read. */
export interface RecordOptions {
  /** The kind of file (MetricSourceCodes); points without one replace whatever is stored. */
  source?: number;
  /** Hears each (series, step) where two files disagree (the higher-precision value is kept). */
  onDisagreement?: (d: Disagreement) => void;
}

/** A series' summary as clients see it, plus when a point was last recorded (ms). */
export type SeriesSummary = SeriesInfo & { updatedAt: number };

interface SeriesRow {
  id: number;
  key: string;
  aliases_json: string | null;
  disagreements: number;
  points: number;
  first_step: number | null;
  last_step: number | null;
  last_value: number | null;
  min_value: number | null;
  max_value: number | null;
  updated_at: number;
}

const SERIES_COLUMNS = 'id, key, aliases_json, disagreements, points, first_step, last_step, last_value, min_value, max_value, updated_at';
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
  const aliases = parseAliases(r.aliases_json);
  return {
    key: r.key, points: r.points, firstStep: r.first_step, lastStep: r.last_step,
    lastValue: r.last_value, min: r.min_value, max: r.max_value, updatedAt: r.updated_at,
    ...(aliases.length > 0 ? { aliases } : {}), ...(r.disagreements > 0 ? { disagreements: r.disagreements } : {}),
  };
}

/** Stored aliases (a JSON array of names), tolerant of anything else. */
export function parseAliases(json: string | null): string[] {
  if (json === null) return [];
  try {
    const parsed = JSON.parse(json) as unknown;
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** What one record() call accumulates per series for its summary update. */
interface Touched {
  added: number;
  first: number;
  last: number;
  min: number | null;
  max: number | null;
  /** The first step (in this batch) holding min / max. */
  minStep: number | null;
  maxStep: number | null;
  disagreements: number;
  /** Steps written, whose rollup buckets are rebuilt. */
  steps: number[];
  /** For the rollups (metric-rollups.ts AppendedPoints), when the series' rollups were complete before this write. */
  appended: Appending | undefined;
}

/** AppendedPoints as a write collects them. */
type Appending = AppendedPoints & { steps: number[]; values: (number | null)[]; walls: (number | null)[]; replacedSteps: number[] };

/** Folds a written point into the batch's summary (the first step of a tie keeps the best). */
function noteValue(t: Touched, step: number, value: number | null): void {
  if (step < t.first) t.first = step;
  if (step > t.last) t.last = step;
  if (value === null) return;
  if (beatsMin(value, step, t.min, t.minStep)) [t.min, t.minStep] = [value, step];
  if (beatsMax(value, step, t.max, t.maxStep)) [t.max, t.maxStep] = [value, step];
}

export class MetricStore {
  private readonly db: Db;
  private readonly seriesIds = new Map<string, number>();
  /** Series id → its aliases as stored (filled on first use). */
  private readonly knownAliases = new Map<number, Set<string>>();
  /** Series id → bit mask of the kinds of file (1 << source code) that wrote its points. */
  private readonly seriesSources = new Map<number, number>();
  private readonly stmts;
  private readonly rollups: RollupStore;
  private readonly downsampler: Downsampler;

  constructor(db: Db) {
    this.db = db;
    this.rollups = new RollupStore(db);
    this.downsampler = new Downsampler(db, this.rollups);
    this.stmts = {
      findSeries: db.prepare('SELECT id, sources FROM metric_series WHERE run_id = ? AND key = ?'),
      addSeries: db.prepare('INSERT INTO metric_series (run_id, key, updated_at, rollup_ready) VALUES (?, ?, ?, 1)'),
      insert: db.prepare('INSERT OR IGNORE INTO metrics (series_id, step, value, wall_time, bits, source) VALUES (?, ?, ?, ?, ?, ?)'),
      /** The same for a point without a wall time (JSON, text): one bind fewer on the hottest statement. */
      insertNoWall: db.prepare('INSERT OR IGNORE INTO metrics (series_id, step, value, bits, source) VALUES (?, ?, ?, ?, ?)'),
      stored: db.prepare('SELECT value, wall_time, bits, source FROM metrics WHERE series_id = ? AND step = ?'),
      update: db.prepare('UPDATE metrics SET value = ?, wall_time = coalesce(?, wall_time), bits = ?, source = coalesce(?, source) WHERE series_id = ? AND step = ?'),
      setSources: db.prepare('UPDATE metric_series SET sources = ? WHERE id = ?'),
      updateWall: db.prepare('UPDATE metrics SET wall_time = ? WHERE series_id = ? AND step = ?'),
      aliases: db.prepare('SELECT aliases_json FROM metric_series WHERE id = ?').pluck(),
      setAliases: db.prepare('UPDATE metric_series SET aliases_json = ? WHERE id = ?'),
      // min_step / max_step keep the first step of a tie, as beatsMin / beatsMax (metric-rollups.ts) do in a batch.
      summarise: db.prepare(`UPDATE metric_series SET
          points = points + @added,
          first_step = min(coalesce(first_step, @first), @first),
          last_step = max(coalesce(last_step, @last), @last),
          min_value = CASE WHEN @min IS NULL THEN min_value ELSE min(coalesce(min_value, @min), @min) END,
          max_value = CASE WHEN @max IS NULL THEN max_value ELSE max(coalesce(max_value, @max), @max) END,
          min_step = CASE WHEN @min IS NULL THEN min_step WHEN min_value IS NULL OR @min < min_value THEN @minStep
            WHEN @min = min_value THEN min(min_step, @minStep) ELSE min_step END,
          max_step = CASE WHEN @max IS NULL THEN max_step WHEN max_value IS NULL OR @max > max_value THEN @maxStep
            WHEN @max = max_value THEN min(max_step, @maxStep) ELSE max_step END,
          disagreements = disagreements + @disagreements,
          updated_at = @now
        WHERE id = @id`),
      setLast: db.prepare('UPDATE metric_series SET last_value = (SELECT value FROM metrics WHERE series_id = @id AND step = last_step) WHERE id = @id'),
      rollupState: db.prepare('SELECT last_step, rollup_ready FROM metric_series WHERE id = ?').raw(),
    };
  }

  /** The series id of (run, key), created when new; `created` collects the cache keys of new ones. */
  private seriesId(runId: string, key: string, created: string[]): number {
    const cacheKey = `${runId}\u0000${key}`;
    const cached = this.seriesIds.get(cacheKey);
    if (cached !== undefined) return cached;
    const row = this.stmts.findSeries.get(runId, key) as { id: number; sources: number } | undefined;
    const id = row ? row.id : Number(this.stmts.addSeries.run(runId, key, Date.now()).lastInsertRowid);
    if (!row) created.push(cacheKey);
    this.seriesIds.set(cacheKey, id);
    this.seriesSources.set(id, row?.sources ?? 0);
    return id;
  }

  /**
   * Upserts points on (run, key, step) — re-ingesting a file is harmless — in one
   * transaction, keeping each series' summary (count, step range, min/max, last value)
   * up to date incrementally. min/max are over every value recorded (NaN ignored). A point
   * another kind of file already gave for the step is merged (metric-merge.ts).
   */
  record(runId: string, points: readonly MetricInput[], opts: RecordOptions = {}): number {
    if (points.length === 0) return 0;
    const touched = new Map<number, Touched>();
    const created: string[] = [];
    const aliased = new Set<number>();
    const sourced: number[] = [];
    // Per key of this call: its series and what the call does to it (one lookup per point; no cache key string per point).
    const byKey = new Map<string, { id: number; t: Touched; alias: string | undefined }>();
    const write = this.db.transaction(() => {
      for (const p of points) {
        const step = Math.trunc(p.step);
        let k = byKey.get(p.key);
        if (k === undefined) {
          // A key is one series of the run, so each series is met here once per call.
          const id = this.seriesId(runId, p.key, created);
          const t: Touched = { added: 0, first: step, last: step, min: null, max: null, minStep: null, maxStep: null, disagreements: 0, steps: [], appended: this.appendTo(id) };
          touched.set(id, t);
          byKey.set(p.key, (k = { id, t, alias: undefined }));
        }
        const { id, t } = k;
        // The alias is looked up once per name per call, not per point.
        if (p.sourceKey !== undefined && p.sourceKey !== p.key && p.sourceKey !== k.alias) {
          this.noteAlias(aliased, id, p.sourceKey);
          k.alias = p.sourceKey;
        }
        t.steps.push(step);
        const added = t.added;
        const kept = this.writePoint(id, p, step, opts, t);
        const value = Number.isNaN(p.value) ? null : p.value;
        const a = t.appended;
        if (a) {
          if (t.added > added) {
            a.steps.push(step);
            a.values.push(value);
            a.walls.push(p.wallTime ?? null);
          } else a.replacedSteps.push(step);
        }
        if (!kept) continue;
        noteValue(t, step, value);
      }
      const now = Date.now();
      for (const [id, t] of touched) {
        this.stmts.summarise.run({ id, added: t.added, first: t.first, last: t.last, min: t.min, max: t.max, minStep: t.minStep, maxStep: t.maxStep, disagreements: t.disagreements, now });
        this.stmts.setLast.run({ id });
        this.rollups.touch(id, t.steps, t.appended);
      }
      for (const id of aliased) this.stmts.setAliases.run(JSON.stringify([...(this.knownAliases.get(id) ?? [])].sort()), id);
      if (opts.source !== undefined) {
        const bit = 1 << opts.source;
        for (const id of touched.keys()) {
          const mask = this.seriesSources.get(id) ?? 0;
          if ((mask & bit) === 0) {
            this.stmts.setSources.run(mask | bit, id);
            this.seriesSources.set(id, mask | bit);
            sourced.push(id);
          }
        }
      }
    });
    try {
      write();
    } catch (err) {
      // The transaction rolled back (disk full, I/O error…): series made inside it are gone,
      // and a cached id of one would send the next points to a series that does not exist.
      for (const cacheKey of created) this.seriesIds.delete(cacheKey);
      for (const id of aliased) this.knownAliases.delete(id);
      for (const id of sourced) this.seriesSources.delete(id);
      throw err;
    }
    return points.length;
  }

  /** What the rollups need to build appended buckets from the points in hand: only for a series whose rollups are complete. */
  private appendTo(id: number): Appending | undefined {
    const row = this.stmts.rollupState.get(id) as [number | null, number] | undefined;
    return row !== undefined && row[1] === 1 ? { after: row[0], steps: [], values: [], walls: [], replacedSteps: [] } : undefined;
  }

  /**
   * Inserts one point, or merges it with the stored one. Returns true when `p`'s value is now
   * the stored value (counted in min/max), false when the stored value was kept.
   */
  private writePoint(id: number, p: MetricInput, step: number, opts: RecordOptions, t: Touched): boolean {
    const value = Number.isNaN(p.value) ? null : p.value;
    const wall = p.wallTime ?? null;
    const bits = p.bits ?? DEFAULT_BITS;
    const source = opts.source ?? null;
    const inserted = wall === null ? this.stmts.insertNoWall.run(id, step, value, bits, source) : this.stmts.insert.run(id, step, value, wall, bits, source);
    if (inserted.changes > 0) {
      t.added++;
      return true;
    }
    // Only this kind of file ever wrote the series: its new reading replaces the old (a rewritten file).
    const mask = this.seriesSources.get(id) ?? 0;
    if (source === null || mask === 0 || mask === 1 << source) {
      this.stmts.update.run(value, wall, bits, source, id, step);
      return true;
    }
    const stored = this.stmts.stored.get(id, step) as { value: number | null; wall_time: number | null; bits: number | null; source: number | null };
    const decision = source === null ? { replace: true, disagree: false } : mergeReading(stored, { value: p.value, bits, source });
    if (decision.disagree && source !== null) {
      t.disagreements++;
      const keptNew = decision.replace;
      opts.onDisagreement?.({
        key: p.key, step, kept: keptNew ? p.value : (stored.value ?? NaN), keptSource: keptNew ? source : stored.source,
        dropped: keptNew ? (stored.value ?? NaN) : p.value, droppedSource: keptNew ? (stored.source ?? 0) : source,
      });
    }
    if (decision.replace) {
      this.stmts.update.run(value, wall, bits, source, id, step);
      return true;
    }
    if (stored.wall_time === null && wall !== null) this.stmts.updateWall.run(wall, id, step);
    return false;
  }

  /** Adds `name` to the series' aliases; `dirty` collects the series whose row must be written. */
  private noteAlias(dirty: Set<number>, id: number, name: string): void {
    let names = this.knownAliases.get(id);
    if (names === undefined) {
      names = new Set(parseAliases(this.stmts.aliases.get(id) as string | null));
      this.knownAliases.set(id, names);
    }
    if (names.has(name)) return;
    names.add(name);
    dirty.add(id);
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

  /**
   * The run's series for a key a person may have typed by another name: the key itself, an
   * alias a file used for it (`loss` for `train/loss`), or its HF TensorBoard spelling.
   */
  resolveKey(runId: string, key: string): string | undefined {
    if (this.stmts.findSeries.get(runId, key) !== undefined) return key;
    const byAlias = this.db
      .prepare('SELECT s.key FROM metric_series s, json_each(s.aliases_json) a WHERE s.run_id = ? AND s.aliases_json IS NOT NULL AND a.value = ? LIMIT 1')
      .pluck().get(runId, key) as string | undefined;
    if (byAlias !== undefined) return byAlias;
    return metricKeyCandidates(key).find((k) => this.stmts.findSeries.get(runId, k) !== undefined);
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
      .prepare('SELECT id, points, first_step, last_step, rollup_ready FROM metric_series WHERE run_id = ? AND key = ?')
      .get(runId, key) as { id: number; points: number; first_step: number | null; last_step: number | null; rollup_ready: number } | undefined;
    if (!row || row.first_step === null || row.last_step === null) return { points: [], total: 0, downsampled: false };
    const lo = Math.max(range.fromStep ?? row.first_step, row.first_step);
    const hi = Math.min(range.toStep ?? row.last_step, row.last_step);
    const max = Math.max(2, Math.floor(maxPoints));
    const ranged = range.fromStep !== undefined || range.toStep !== undefined;
    const inRange = !ranged ? row.points : lo > hi ? 0 : this.downsampler.countUpTo(row.id, lo, hi, max);
    if (inRange <= max) return { points: inRange === 0 ? [] : this.points(runId, key, { fromStep: lo, toStep: hi }), total: row.points, downsampled: false };
    if (row.rollup_ready !== 1) this.rollups.buildLater(row.id);
    const span = { id: row.id, points: row.points, firstStep: row.first_step, lastStep: row.last_step, rollupReady: row.rollup_ready === 1 };
    return { points: this.downsampler.sample(span, lo, hi, max), total: row.points, downsampled: true };
  }

  /**
   * The first step at which a series took its best value (`goal` min or max), kept on the
   * series row; a series recorded before it was kept finds it once and keeps it.
   */
  stepOfBest(runId: string, key: string, goal: 'min' | 'max'): number | null {
    const col = goal === 'min' ? 'min' : 'max';
    const row = this.db.prepare(`SELECT id, ${col}_value AS value, ${col}_step AS step FROM metric_series WHERE run_id = ? AND key = ?`).get(runId, key) as
      { id: number; value: number | null; step: number | null } | undefined;
    if (!row || row.value === null) return null;
    if (row.step !== null) return row.step;
    const step = this.stepOfValue(runId, key, row.value);
    if (step !== null) this.db.prepare(`UPDATE metric_series SET ${col}_step = ? WHERE id = ?`).run(step, row.id);
    return step;
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
    this.knownAliases.clear();
    this.seriesSources.clear();
  }
}

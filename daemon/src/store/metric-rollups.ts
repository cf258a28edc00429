/**
 * Level-of-detail rollups of metric series, so drawing a series costs what is drawn, not
 * what is stored. Level L groups a series' steps into buckets ROLLUP_WIDTHS[L-1] steps wide
 * (16, 64, 256 … 262,144: each level 4× the one below) and keeps per bucket the point
 * count and the minimum and maximum (value, step, wall time) over the non-NaN values — the
 * same min/max-per-bucket that downsampling draws. Ingest rebuilds each touched level-1
 * bucket from its (≤16) points and each touched coarser bucket from its 4 children, so a
 * point replaced by another file's reading is reflected exactly.
 *
 * Series recorded before rollups existed have `rollup_ready = 0` and are drawn from their
 * points (the cost before rollups) until {@link RollupStore.buildLater} has filled them in bounded slices.
 */
import type { Db } from './db.ts';

/** Bucket width in steps of levels 1, 2, … (index 0 is level 1). */
export const ROLLUP_WIDTHS: readonly number[] = [16, 64, 256, 1024, 4096, 16_384, 65_536, 262_144];
/** Children per coarser bucket. */
const FAN = 4;

/** One rollup bucket: min and max are null when every point in it is NaN. */
export interface RollupRow {
  bucket: number;
  n: number;
  minValue: number | null;
  minStep: number | null;
  minWall: number | null;
  maxValue: number | null;
  maxStep: number | null;
  maxWall: number | null;
}

type Raw = [number, number, number | null, number | null, number | null, number | null, number | null, number | null];

function fromRaw(r: Raw): RollupRow {
  return { bucket: r[0], n: r[1], minValue: r[2], minStep: r[3], minWall: r[4], maxValue: r[5], maxStep: r[6], maxWall: r[7] };
}

/**
 * Whether `value` at `step` takes the place of the kept minimum (`best` at `bestStep`; null:
 * none yet): a lower value, or the same value at an earlier step (the first step that took it).
 */
export function beatsMin(value: number, step: number, best: number | null, bestStep: number | null): boolean {
  return best === null || value < best || (value === best && step < (bestStep ?? Infinity));
}

/** {@link beatsMin} for the maximum. */
export function beatsMax(value: number, step: number, best: number | null, bestStep: number | null): boolean {
  return best === null || value > best || (value === best && step < (bestStep ?? Infinity));
}

/** Folds `next` into `acc`. */
function fold(acc: RollupRow, next: { n: number; minValue: number | null; minStep: number | null; minWall: number | null; maxValue: number | null; maxStep: number | null; maxWall: number | null }): void {
  acc.n += next.n;
  if (next.minValue !== null && next.minStep !== null && beatsMin(next.minValue, next.minStep, acc.minValue, acc.minStep)) {
    acc.minValue = next.minValue;
    acc.minStep = next.minStep;
    acc.minWall = next.minWall;
  }
  if (next.maxValue !== null && next.maxStep !== null && beatsMax(next.maxValue, next.maxStep, acc.maxValue, acc.maxStep)) {
    acc.maxValue = next.maxValue;
    acc.maxStep = next.maxStep;
    acc.maxWall = next.maxWall;
  }
}

/** {@link fold} of one point, without making a row of it. */
function foldPoint(acc: RollupRow, step: number, value: number | null, wall: number | null): void {
  acc.n++;
  if (value === null) return;
  if (beatsMin(value, step, acc.minValue, acc.minStep)) {
    acc.minValue = value;
    acc.minStep = step;
    acc.minWall = wall;
  }
  if (beatsMax(value, step, acc.maxValue, acc.maxStep)) {
    acc.maxValue = value;
    acc.maxStep = step;
    acc.maxWall = wall;
  }
}

function empty(bucket: number): RollupRow {
  return { bucket, n: 0, minValue: null, minStep: null, minWall: null, maxValue: null, maxStep: null, maxWall: null };
}

/**
 * What a write knows that spares reading points back: the series' rollups were complete
 * (`rollup_ready`) and its last step was `after` (null: no point) before the write, which
 * inserted the points (`steps[i]`, `values[i]` (null: NaN), `walls[i]`; none was stored at
 * its step; in columns, so a write allocates nothing per point) and wrote `replacedSteps`
 * over stored points or twice. Only buckets past `after` holding no replaced step are built
 * from the points in hand.
 */
export interface AppendedPoints {
  after: number | null;
  steps: readonly number[];
  values: readonly (number | null)[];
  walls: readonly (number | null)[];
  replacedSteps: readonly number[];
}

/** Points per slice of {@link RollupStore.buildSlice}: ~2 ms on a dense series, ~30 ms when every point is its own bucket at every level. */
export const BUILD_SLICE_POINTS = 2_048;

export class RollupStore {
  private readonly db: Db;
  private readonly stmts;
  /** Series whose rollups are being built (see {@link buildLater}). */
  private readonly building = new Set<number>();

  constructor(db: Db) {
    this.db = db;
    this.stmts = {
      points: db.prepare('SELECT step, value, wall_time FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ?').raw(),
      children: db.prepare(`SELECT bucket, n, min_value, min_step, min_wall, max_value, max_step, max_wall FROM metric_rollups
        WHERE series_id = ? AND level = ? AND bucket BETWEEN ? AND ?`).raw(),
      put: db.prepare(`INSERT OR REPLACE INTO metric_rollups (series_id, level, bucket, n, min_value, min_step, min_wall, max_value, max_step, max_wall)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      drop: db.prepare('DELETE FROM metric_rollups WHERE series_id = ? AND level = ? AND bucket = ?'),
      range: db.prepare(`SELECT bucket, n, min_value, min_step, min_wall, max_value, max_step, max_wall FROM metric_rollups
        WHERE series_id = ? AND level = ? AND bucket BETWEEN ? AND ? ORDER BY bucket`).raw(),
      ready: db.prepare('SELECT rollup_ready FROM metric_series WHERE id = ?').pluck(),
      setReady: db.prepare('UPDATE metric_series SET rollup_ready = 1 WHERE id = ?'),
      stepsFrom: db.prepare('SELECT step FROM metrics WHERE series_id = ? AND step >= ? ORDER BY step LIMIT ?').pluck(),
    };
  }

  /**
   * Rebuilds the buckets holding `steps` (level 1 up to the coarsest). Call inside the write's
   * transaction. With `appended` (see {@link AppendedPoints}), a bucket wholly past the
   * series' previous last step is built from the points in hand instead of read back: an
   * append (the usual ingest) then reads nothing.
   */
  touch(seriesId: number, steps: Iterable<number>, appended?: AppendedPoints): void {
    const w1 = ROLLUP_WIDTHS[0] as number;
    const after = appended?.after ?? null;
    /** Whether bucket `b` of a level `width` steps wide starts past the previous last step (so held no point before). */
    const isNew = (b: number, width: number): boolean => appended !== undefined && (after === null || b * width > after);
    let buckets = new Set<number>();
    // Steps mostly come in order: a bucket is added once per run of its steps.
    let prev = NaN;
    for (const s of steps) {
      const b = Math.floor(s / w1);
      if (b !== prev) buckets.add((prev = b));
    }
    // Level 1 from the points in hand where it may; a bucket with a step written twice is read back.
    const inHand = new Map<number, RollupRow>();
    if (appended) {
      const replaced = new Set<number>();
      for (const step of appended.replacedSteps) replaced.add(Math.floor(step / w1));
      const { steps: st, values, walls } = appended;
      let acc: RollupRow | undefined;
      for (let i = 0; i < st.length; i++) {
        const step = st[i] as number;
        const b = Math.floor(step / w1);
        if (acc?.bucket !== b) {
          if (replaced.has(b) || !isNew(b, w1)) {
            acc = undefined;
            continue;
          }
          acc = inHand.get(b);
          if (acc === undefined) inHand.set(b, (acc = empty(b)));
        }
        foldPoint(acc, step, values[i] as number | null, walls[i] as number | null);
      }
    }
    let rows = new Map<number, RollupRow>();
    for (const b of buckets) {
      const acc = inHand.get(b);
      if (acc === undefined) rows.set(b, this.rebuildBase(seriesId, b));
      else {
        this.write(seriesId, 1, acc);
        rows.set(b, acc);
      }
    }
    for (let level = 2; level <= ROLLUP_WIDTHS.length; level++) {
      const parents = new Set<number>();
      for (const b of buckets) parents.add(Math.floor(b / FAN));
      const next = new Map<number, RollupRow>();
      for (const p of parents) {
        // A new parent's children are all rebuilt just now (the others hold no point).
        if (isNew(p, ROLLUP_WIDTHS[level - 1] as number)) {
          const acc = empty(p);
          for (let c = p * FAN; c < p * FAN + FAN; c++) {
            const child = rows.get(c);
            if (child) fold(acc, child);
          }
          this.write(seriesId, level, acc);
          next.set(p, acc);
        } else next.set(p, this.rebuildParent(seriesId, level, p));
      }
      buckets = parents;
      rows = next;
    }
  }

  private rebuildBase(seriesId: number, bucket: number): RollupRow {
    const w = ROLLUP_WIDTHS[0] as number;
    const acc = empty(bucket);
    for (const [step, value, wall] of this.stmts.points.all(seriesId, bucket * w, bucket * w + w - 1) as [number, number | null, number | null][]) {
      fold(acc, { n: 1, minValue: value, minStep: step, minWall: wall, maxValue: value, maxStep: step, maxWall: wall });
    }
    this.write(seriesId, 1, acc);
    return acc;
  }

  private rebuildParent(seriesId: number, level: number, bucket: number): RollupRow {
    const acc = empty(bucket);
    for (const r of this.stmts.children.all(seriesId, level - 1, bucket * FAN, bucket * FAN + FAN - 1) as Raw[]) fold(acc, fromRaw(r));
    this.write(seriesId, level, acc);
    return acc;
  }

  private write(seriesId: number, level: number, r: RollupRow): void {
    if (r.n === 0) this.stmts.drop.run(seriesId, level, r.bucket);
    else this.stmts.put.run(seriesId, level, r.bucket, r.n, r.minValue, r.minStep, r.minWall, r.maxValue, r.maxStep, r.maxWall);
  }

  /** Buckets of `level` from `first` to `last`, in order. */
  rows(seriesId: number, level: number, first: number, last: number): RollupRow[] {
    return (this.stmts.range.all(seriesId, level, first, last) as Raw[]).map(fromRaw);
  }

  /** True when the series' rollups cover all its points. */
  ready(seriesId: number): boolean {
    return this.stmts.ready.get(seriesId) === 1;
  }

  /**
   * Builds the rollups of a series recorded before they existed, {@link BUILD_SLICE_POINTS}
   * points per call from step `fromStep` on (by points, not steps: steps may be sparse, e.g.
   * timestamps); returns where the next slice starts, or null once the series is ready. Each
   * slice is its own transaction: a point recorded between slices rebuilds its own buckets,
   * and a bucket two slices share is rebuilt whole by each, so slices and ingest may interleave.
   */
  buildSlice(seriesId: number, fromStep: number | null): number | null {
    return this.db.transaction((): number | null => {
      if (this.stmts.ready.get(seriesId) === undefined) return null;
      const steps = this.stmts.stepsFrom.all(seriesId, fromStep ?? Number.MIN_SAFE_INTEGER, BUILD_SLICE_POINTS) as number[];
      this.touch(seriesId, steps);
      const last = steps.at(-1);
      if (steps.length < BUILD_SLICE_POINTS || last === undefined) {
        this.stmts.setReady.run(seriesId);
        return null;
      }
      const w = ROLLUP_WIDTHS[0] as number;
      return (Math.floor(last / w) + 1) * w;
    })();
  }

  /**
   * Builds the rollups of a series recorded before they existed, one bounded slice per turn
   * of the event loop so requests are served in between; until then it is drawn from its points.
   */
  buildLater(seriesId: number): void {
    if (this.building.has(seriesId)) return;
    this.building.add(seriesId);
    const slice = (from: number | null): void => {
      setImmediate(() => {
        try {
          const next = this.buildSlice(seriesId, from);
          if (next === null) this.building.delete(seriesId);
          else slice(next);
        } catch {
          // The store closed or the run was deleted meanwhile: the next draw starts again.
          this.building.delete(seriesId);
        }
      }).unref();
    };
    slice(null);
  }
}

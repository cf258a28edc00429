/**
 * Curves as data, with no DOM: merging live points by step, EMA smoothing, the log-scale
 * guard, NaN/±Inf kept as gaps with markers (never zeros), and the columns uPlot draws
 * (one x array shared by every run, each run's values aligned to it).
 */
import type { MetricPoint } from '../../daemon/src/protocol/domain.ts';

/** A drawn value: a number, `null` for a gap (NaN, ±Inf, ≤0 on a log scale), `undefined` where the run has no point at that x. */
export type Cell = number | null | undefined;

export type SpecialKind = 'nan' | 'inf' | '-inf';

const byStep = (a: MetricPoint, b: MetricPoint): number => a.step - b.step;

function isSortedUnique(points: readonly MetricPoint[]): boolean {
  for (let i = 1; i < points.length; i++) if ((points[i] as MetricPoint).step <= (points[i - 1] as MetricPoint).step) return false;
  return true;
}

/**
 * `existing` with `incoming` merged in by step: a point at a step already present replaces
 * it (the latest write wins, as in the store); the result is in step order. Appending
 * after the last step — the live case — costs one copy.
 */
export function mergePoints(existing: readonly MetricPoint[], incoming: readonly MetricPoint[]): MetricPoint[] {
  if (incoming.length === 0) return existing.slice();
  const last = existing[existing.length - 1];
  const first = incoming[0] as MetricPoint;
  if (isSortedUnique(incoming) && (last === undefined || first.step > last.step)) return existing.concat(incoming);
  const merged = new Map<number, MetricPoint>();
  for (const p of existing) merged.set(p.step, p);
  for (const p of incoming) merged.set(p.step, p);
  return [...merged.values()].sort(byStep);
}

/**
 * Replaces the points of `existing` within [fromStep, toStep] by `finer` (a zoomed-in
 * re-fetch at a finer resolution), keeping the coarse points outside the range.
 */
export function spliceRange(existing: readonly MetricPoint[], fromStep: number, toStep: number, finer: readonly MetricPoint[]): MetricPoint[] {
  const outside = existing.filter((p) => p.step < fromStep || p.step > toStep);
  return mergePoints(outside, finer.filter((p) => p.step >= fromStep && p.step <= toStep));
}

/** What a point is when it is not a finite number. */
export function specialOf(p: MetricPoint): SpecialKind | null {
  if (p.special) return p.special;
  if (p.value === null) return 'nan';
  if (p.value === Infinity) return 'inf';
  if (p.value === -Infinity) return '-inf';
  return Number.isNaN(p.value) ? 'nan' : null;
}

/**
 * Debiased exponential moving average (TensorBoard's smoothing): `weight` 0 returns the
 * values unchanged; gaps stay gaps and do not reset or poison the average.
 */
export function emaSmooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (!(weight > 0)) return values.slice();
  const w = Math.min(weight, 0.999);
  const out: (number | null)[] = new Array<number | null>(values.length);
  let last = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      out[i] = null;
      continue;
    }
    last = last * w + (1 - w) * v;
    n++;
    out[i] = last / (1 - Math.pow(w, n));
  }
  return out;
}

/** The x of each point: its step, or seconds since the run's first recorded wall time (null when none was recorded). */
export function xValues(points: readonly MetricPoint[], axis: 'step' | 'time'): (number | null)[] {
  if (axis === 'step') return points.map((p) => p.step);
  let t0 = Infinity;
  for (const p of points) if (p.wallTime !== null && p.wallTime < t0) t0 = p.wallTime;
  return points.map((p) => (p.wallTime === null ? null : p.wallTime - t0));
}

/** A value a log scale can draw, else a gap. */
export const logSafe = (v: number | null): number | null => (v !== null && v > 0 ? v : null);

/** One run's curve of one key in its own x order (for hover readouts and zoom refetches). */
export interface RunCurve {
  runId: string;
  /** The metric key ('' when the caller did not say). */
  key: string;
  xs: number[];
  steps: number[];
  raw: (number | null)[];
  smooth: (number | null)[];
  specials: (SpecialKind | null)[];
}

/** A NaN/±Inf point, drawn as a marker at its x. */
export interface SpecialMark {
  runIndex: number;
  x: number;
  step: number;
  kind: SpecialKind;
}

/** Everything one chart draws. */
export interface ChartData {
  x: number[];
  /** Per run, aligned to `x`. */
  raw: Cell[][];
  smooth: Cell[][];
  runs: RunCurve[];
  specials: SpecialMark[];
  /** Points ≤ 0 that a log scale cannot show. */
  hiddenByLog: number;
  /** Points left out of a time axis for want of a wall time. */
  withoutTime: number;
  /** Per curve, when it is a group's mean: the group's min and max, aligned to `x`. */
  bands?: ({ lo: Cell[]; hi: Cell[] } | null)[];
}

export interface CurveOptions {
  xAxis: 'step' | 'time';
  smoothing: number;
  logScale: boolean;
}

/** One run's curve: its points put in x order, smoothed, guarded, specials noted (one pass: this runs for every chart). */
function runCurve(runId: string, key: string, points: readonly MetricPoint[], opts: CurveOptions): { curve: RunCurve; withoutTime: number } {
  const all = xValues(points, opts.xAxis);
  const xs: number[] = [];
  const steps: number[] = [];
  const raw: (number | null)[] = [];
  const specials: (SpecialKind | null)[] = [];
  let sorted = true;
  for (let i = 0; i < points.length; i++) {
    const x = all[i];
    if (x === null || x === undefined) continue;
    const p = points[i] as MetricPoint;
    const special = specialOf(p);
    if (xs.length > 0 && x < (xs[xs.length - 1] as number)) sorted = false;
    xs.push(x);
    steps.push(p.step);
    specials.push(special);
    raw.push(special ? null : p.value);
  }
  const withoutTime = points.length - xs.length;
  if (!sorted) {
    // Wall clocks can step back (a restart on another host): draw in time order.
    const order = xs.map((_, i) => i).sort((a, b) => (xs[a] as number) - (xs[b] as number) || (steps[a] as number) - (steps[b] as number));
    const pick = <T>(arr: T[]): T[] => order.map((i) => arr[i] as T);
    return { curve: { runId, key, xs: pick(xs), steps: pick(steps), raw: pick(raw), smooth: emaSmooth(pick(raw), opts.smoothing), specials: pick(specials) }, withoutTime };
  }
  return { curve: { runId, key, xs, steps, raw, smooth: emaSmooth(raw, opts.smoothing), specials }, withoutTime };
}

/** The sorted union of several ascending x arrays (shared as is when they are all the same). */
export function unionX(cols: readonly (readonly number[])[]): number[] {
  const first = cols[0];
  if (!first) return [];
  if (cols.every((c) => c.length === first.length && c.every((v, i) => v === first[i]))) return first.slice();
  let total = 0;
  for (const c of cols) total += c.length;
  const all = new Float64Array(total);
  let k = 0;
  for (const c of cols) for (const v of c) all[k++] = v;
  all.sort();
  const out: number[] = [];
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) out.push(all[i] as number);
  return out;
}

/** `ys` (at ascending `xs`) placed on the shared `x`; `undefined` where the run has no point. */
export function alignTo(x: readonly number[], xs: readonly number[], ys: readonly (number | null)[]): Cell[] {
  const out = new Array<Cell>(x.length).fill(undefined);
  let j = 0;
  for (let i = 0; i < xs.length; i++) {
    const xi = xs[i] as number;
    while (j < x.length && (x[j] as number) < xi) j++;
    if (j < x.length) out[j] = ys[i];
  }
  return out;
}

/** The columns for one chart: every curve (a run's train or eval curve) on a shared x, smoothed and log-guarded. */
export function buildChartData(series: readonly { runId: string; key?: string; points: readonly MetricPoint[] }[], opts: CurveOptions): ChartData {
  const built = series.map((s) => runCurve(s.runId, s.key ?? '', s.points, opts));
  const runs = built.map((b) => b.curve);
  const x = unionX(runs.map((r) => r.xs));
  let hiddenByLog = 0;
  const guard = (vs: (number | null)[]): (number | null)[] => {
    if (!opts.logScale) return vs;
    return vs.map((v) => {
      const safe = logSafe(v);
      if (safe === null && v !== null) hiddenByLog++;
      return safe;
    });
  };
  const raw = runs.map((r) => alignTo(x, r.xs, guard(r.raw)));
  const before = hiddenByLog;
  const smooth = runs.map((r) => alignTo(x, r.xs, guard(r.smooth)));
  hiddenByLog = before;
  const specials: SpecialMark[] = [];
  runs.forEach((r, runIndex) =>
    r.specials.forEach((kind, i) => {
      if (kind) specials.push({ runIndex, x: r.xs[i] as number, step: r.steps[i] as number, kind });
    }),
  );
  return { x, raw, smooth, runs, specials, hiddenByLog, withoutTime: built.reduce((n, b) => n + b.withoutTime, 0) };
}

/** Index of the point of `xs` (ascending) nearest to `x`, or -1 when `xs` is empty. */
export function nearestIndex(xs: readonly number[], x: number): number {
  if (xs.length === 0) return -1;
  let lo = 0;
  let hi = xs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs((xs[lo - 1] as number) - x) <= Math.abs((xs[lo] as number) - x)) return lo - 1;
  return lo;
}

/**
 * The step range of a run's points whose x lies in [min, max] (a zoom on either axis),
 * widened by one point each side so the refetch covers the visible edges.
 */
export function stepRange(curve: RunCurve, min: number, max: number): { fromStep: number; toStep: number } | null {
  let lo = -1;
  let hi = -1;
  curve.xs.forEach((x, i) => {
    if (x >= min && x <= max) {
      if (lo < 0 || (curve.steps[i] as number) < (curve.steps[lo] as number)) lo = i;
      if (hi < 0 || (curve.steps[i] as number) > (curve.steps[hi] as number)) hi = i;
    }
  });
  if (lo < 0) return null;
  const steps = curve.steps;
  return { fromStep: steps[Math.max(0, lo - 1)] as number, toStep: steps[Math.min(steps.length - 1, hi + 1)] as number };
}

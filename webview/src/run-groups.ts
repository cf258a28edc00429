/**
 * A hundred runs in one panel: the legend's search, grouping runs by sweep or by a param
 * (seeds of one setting drawn as their mean with a min–max band), and the table of each
 * run's best and last values, sortable by any column. Pure (no DOM): unit-tested in
 * test/webview/run-groups.test.ts.
 */
import type { MetricPoint, RunComparison } from '../../daemon/src/protocol/domain.ts';
import { formatParam } from './format.ts';
import { PER_RUN_PARAMS } from './run-legend.ts';

/** `sweep`, `param:<key>`, or '' (each run its own line). */
export type GroupBy = string;

export interface RunGroup {
  /** Stable within a grouping: `sweep:<id>`, `param:<key>=<value>`. */
  id: string;
  label: string;
  runIds: string[];
}

/** Params that tell runs apart without being a setting worth grouping by (seeds, paths, names). */
const NOT_A_SETTING = new RegExp(`(^|\\.)(${['seed', 'data_seed', ...PER_RUN_PARAMS].join('|')})$`);

/** What the runs can be grouped by: their sweep (when any run has one) and each differing param. */
export function groupOptions(c: RunComparison): { value: GroupBy; label: string }[] {
  const out: { value: GroupBy; label: string }[] = [{ value: '', label: 'No grouping' }];
  if (c.runs.some((r) => r.sweepId)) out.push({ value: 'sweep', label: 'Sweep' });
  for (const d of c.params.differ) if (!NOT_A_SETTING.test(d.key)) out.push({ value: `param:${d.key}`, label: d.key });
  return out;
}

/** The runs (in comparison order) grouped by `by`; groups in order of their first run. Null when `by` does not apply. */
export function groupRuns(c: RunComparison, by: GroupBy, runIds: readonly string[] = c.runs.map((r) => r.id)): RunGroup[] | null {
  const keep = new Set(runIds);
  const runs = c.runs.filter((r) => keep.has(r.id));
  const groups = new Map<string, RunGroup>();
  const add = (id: string, label: string, runId: string): void => {
    const g = groups.get(id) ?? { id, label, runIds: [] };
    g.runIds.push(runId);
    groups.set(id, g);
  };
  if (by === 'sweep') {
    if (!c.runs.some((r) => r.sweepId)) return null;
    for (const r of runs) add(`sweep:${r.sweepId ?? ''}`, r.sweepId ? `sweep ${r.sweepId.slice(0, 8)}` : 'no sweep', r.id);
    return [...groups.values()];
  }
  if (by.startsWith('param:')) {
    const key = by.slice('param:'.length);
    const row = c.params.differ.find((d) => d.key === key);
    if (!row) return null;
    for (const r of runs) {
      const v = row.values[r.id];
      add(`param:${key}=${JSON.stringify(v ?? null)}`, `${key}=${formatParam(v)}`, r.id);
    }
    return [...groups.values()];
  }
  return null;
}

/** A group's curve of one key: the mean of its runs at each x, and the band they span. */
export interface Band {
  x: number[];
  mean: (number | null)[];
  min: (number | null)[];
  max: (number | null)[];
  /** How many runs had a value at each x. */
  n: number[];
}

/**
 * Mean, min and max of several runs' curves on the union of their steps. A run counts at
 * a step inside its own first…last step (its value read between its points linearly: runs
 * logged at different steps, or downsampled to different ones, still line up); NaN/±Inf
 * points and steps outside a run's range leave that run out there, never count as zero.
 */
export function bandOf(curves: readonly (readonly MetricPoint[])[]): Band {
  const finite = curves.map((pts) => pts.filter((p) => typeof p.value === 'number' && Number.isFinite(p.value) && !p.special));
  const steps = new Set<number>();
  for (const pts of finite) for (const p of pts) steps.add(p.step);
  const x = [...steps].sort((a, b) => a - b);
  const mean: (number | null)[] = [];
  const min: (number | null)[] = [];
  const max: (number | null)[] = [];
  const n: number[] = [];
  const cursor = finite.map(() => 0);
  for (const s of x) {
    let sum = 0, lo = Infinity, hi = -Infinity, count = 0;
    finite.forEach((pts, k) => {
      const first = pts[0];
      const last = pts[pts.length - 1];
      if (!first || !last || s < first.step || s > last.step) return;
      let j = cursor[k] as number;
      while (j < pts.length - 1 && (pts[j + 1] as MetricPoint).step <= s) j++;
      cursor[k] = j;
      const a = pts[j] as MetricPoint;
      const b = pts[j + 1];
      const v = a.step === s || !b ? (a.value as number) : (a.value as number) + (((b.value as number) - (a.value as number)) * (s - a.step)) / (b.step - a.step);
      sum += v;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      count++;
    });
    mean.push(count ? sum / count : null);
    min.push(count ? lo : null);
    max.push(count ? hi : null);
    n.push(count);
  }
  return { x, mean, min, max, n };
}

/** Runs whose name or differing params contain every word of `query` (case-insensitive). */
export function matchRuns(c: RunComparison, query: string): Set<string> {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const text = (runId: string, name: string): string =>
    [name, ...c.params.differ.map((d) => `${d.key}=${formatParam(d.values[runId])}`)].join(' ').toLowerCase();
  return new Set(c.runs.filter((r) => words.every((w) => text(r.id, r.name).includes(w))).map((r) => r.id));
}

/** One row of the best/last table. */
export interface BestLastRow {
  runId: string;
  name: string;
  status: string;
  /** `<key>:best` / `<key>:last` → value (null when the run has none). */
  values: Record<string, number | null>;
}

/** A column of the table: `name`, `status`, or `<key>:best` / `<key>:last`. */
export type SortColumn = string;

/** Each run's best and last value of `keys` (best by the key's goal, as the daemon judged it). */
export function bestLastRows(c: RunComparison, keys: readonly string[]): BestLastRow[] {
  const rows = new Map(c.metrics.map((m) => [m.key, m]));
  return c.runs.map((r) => {
    const values: Record<string, number | null> = {};
    for (const k of keys) {
      const s = rows.get(k)?.perRun[r.id];
      values[`${k}:best`] = s?.best ?? null;
      values[`${k}:last`] = s?.last ?? null;
    }
    return { runId: r.id, name: r.name, status: r.status, values };
  });
}

/**
 * Rows sorted by `column`, ascending or descending; runs without a value last either way
 * (a run that never logged the key is not the best nor the worst); ties keep comparison order.
 */
export function sortRows(rows: readonly BestLastRow[], column: SortColumn, descending: boolean): BestLastRow[] {
  const dir = descending ? -1 : 1;
  const value = (r: BestLastRow): string | number | null =>
    column === 'name' ? r.name : column === 'status' ? r.status : (r.values[column] ?? null);
  return rows
    .map((r, i) => ({ r, i, v: value(r) }))
    .sort((a, b) => {
      const an = a.v === null || (typeof a.v === 'number' && Number.isNaN(a.v));
      const bn = b.v === null || (typeof b.v === 'number' && Number.isNaN(b.v));
      if (an || bn) return an === bn ? a.i - b.i : an ? 1 : -1;
      const cmp = typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : String(a.v).localeCompare(String(b.v), undefined, { numeric: true });
      return cmp === 0 ? a.i - b.i : dir * cmp;
    })
    .map((x) => x.r);
}

/**
 * Which metric keys the panel loads, in what order. A TRL run logs dozens of keys; fetching
 * every series of every run before drawing would make the first chart wait for the last.
 * So: the user's own selection when the panel was restored, else the keys most useful
 * first — losses, then eval metrics, then training signals, then bookkeeping — curves
 * before single summary values. `init` carries the first key; the rest stream after it,
 * up to `limit` keys; beyond that a key loads when the webview asks (`requestSeries`).
 */
import type { RunComparison } from '../../../daemon/src/protocol/index.ts';

/** Keys whose curves `init` carries (the first chart draws from these). */
export const INIT_KEYS = 1;
/** Keys loaded without being asked for (init plus the stream after it). */
export const LOADED_KEY_LIMIT = 64;

type MetricRow = RunComparison['metrics'][number];

/** Throughput and bookkeeping keys: rarely what a person compares runs by. */
const BOOKKEEPING = /(^|[/_])(runtime|samples_per_second|steps_per_second|total_flos|flos|epoch|step|num_tokens|samples|mem_.*delta)$/;

/** Ranks a key: lower comes first. */
export function keyRank(key: string): number {
  // The daemon's canonical keys are TensorBoard's (`train/loss`, `eval/loss`); older records use HF's.
  if (/^(train[_/])?loss$/.test(key)) return 0;
  if (/^eval[_/]loss$/.test(key)) return 1;
  if (/loss/i.test(key) && !BOOKKEEPING.test(key)) return 2;
  if (/^(eval|test|validation|val)[_/]/.test(key) && !BOOKKEEPING.test(key)) return 3;
  if (/accuracy|acc\b|reward|perplexity|ppl|bleu|rouge|f1|wer|cer/i.test(key)) return 4;
  if (/learning_rate|^lr$|grad_norm/.test(key)) return 5;
  if (BOOKKEEPING.test(key)) return 7;
  return 6;
}

/** How many of the compared runs have more than one point of this key (a curve, not a summary). */
function runsWithCurve(row: MetricRow): number {
  return Object.values(row.perRun).filter((s) => s !== null && s.points > 1).length;
}

/** The keys to load, most useful first. */
export function initialKeys(comparison: RunComparison, selectedKeys: readonly string[], limit = LOADED_KEY_LIMIT): string[] {
  const known = new Set(comparison.metrics.map((m) => m.key));
  const chosen = selectedKeys.filter((k) => known.has(k));
  if (chosen.length > 0) return chosen;
  return [...comparison.metrics]
    .filter((m) => Object.values(m.perRun).some((s) => s !== null && s.points > 0))
    .sort((a, b) => {
      const curves = Math.min(runsWithCurve(b), 1) - Math.min(runsWithCurve(a), 1);
      if (curves !== 0) return curves;
      const rank = keyRank(a.key) - keyRank(b.key);
      if (rank !== 0) return rank;
      return runsWithCurve(b) - runsWithCurve(a) || a.key.localeCompare(b.key);
    })
    .slice(0, limit)
    .map((m) => m.key);
}

/** (run, key) pairs to fetch for these keys: only runs that have the key. */
export function seriesToFetch(comparison: RunComparison, keys: readonly string[]): { runId: string; key: string }[] {
  const rows = new Map(comparison.metrics.map((m) => [m.key, m]));
  return keys.flatMap((key) => {
    const row = rows.get(key);
    if (!row) return [];
    return comparison.runs.filter((r) => (row.perRun[r.id]?.points ?? 0) > 0).map((r) => ({ runId: r.id, key }));
  });
}

/**
 * Points a chart holds in all, at most, when the setting would give more: 20 runs at the
 * default 2,000 each. A hundred overlaid runs cannot show 2,000 points each on a chart a
 * thousand pixels wide, and would send 13 MB to the webview before the first paint; each
 * gets its share instead (min/max buckets keep the spikes; zooming in fetches finer ones).
 */
export const CHART_POINT_BUDGET = 40_000;
/**
 * Points per curve in `init`, at most: the first chart waits for every hop to carry and
 * parse them and for uPlot to lay ten curves of them out, and 500 min/max-bucketed points
 * still show every spike on a chart about a thousand pixels wide. The curves come again at
 * `curvePoints` right after the first paint (the stream after init starts with them).
 */
export const FIRST_PAINT_POINTS = 500;
/**
 * Points the first chart holds in all, at most: ten runs at FIRST_PAINT_POINTS. A hundred
 * runs at 400 each made the daemon downsample 40,000 points before the page could even be
 * set (150–280 ms of the 100-run panel's first chart) and uPlot lay them out (~70 ms);
 * their first paint is a sketch of each curve, refined right after like any thinned one.
 */
export const FIRST_PAINT_BUDGET = 5_000;
/** The least a curve gets in the first paint, however many runs share it. */
const MIN_FIRST_PAINT_POINTS = 100;
/** The least a curve gets, however many runs share the chart. */
const MIN_CURVE_POINTS = 200;

/** `cap` points a curve, or its share of `budget` among `runs` curves when less — never under `least`. */
function share(cap: number, runs: number, budget: number, least: number): number {
  return Math.min(cap, Math.max(least, Math.floor(budget / Math.max(1, runs))));
}

/** Points per curve in `init` for `runs` runs, when a curve gets `full` points at most afterwards. */
export function firstPaintPoints(full: number, runs: number): number {
  return share(Math.min(full, FIRST_PAINT_POINTS), runs, FIRST_PAINT_BUDGET, MIN_FIRST_PAINT_POINTS);
}

/** Points per curve for `runs` curves in a chart, from the configured `perCurve`. */
export function curvePoints(perCurve: number, runs: number): number {
  return share(perCurve, runs, CHART_POINT_BUDGET, MIN_CURVE_POINTS);
}

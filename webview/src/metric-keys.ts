/**
 * Which metric charts to draw: the keys several runs share (a curve only one run logs
 * compares nothing), or the keys the user picked; losses first.
 */
import type { RunComparison } from '../../daemon/src/protocol/domain.ts';

export interface MetricKeyInfo {
  key: string;
  /** Runs that logged this key, in comparison order. */
  runIds: string[];
}

export interface ChartKeys {
  /** Every key any run logged, in display order. */
  all: MetricKeyInfo[];
  /** The keys drawn. */
  shown: string[];
  /** More than one run, yet no key is logged by two of them. */
  noneInCommon: boolean;
}

/** Losses first (what people look at first), then the rest alphabetically. */
export function keyOrder(a: string, b: string): number {
  const rank = (k: string): number => (k === 'loss' || k === 'train_loss' ? 0 : /loss/i.test(k) ? 1 : 2);
  return rank(a) - rank(b) || a.localeCompare(b);
}

/**
 * Keys from the comparison's metric summaries and from the series received (a live run may
 * log a key the summary did not have yet). `selected` (the user's pick) wins when any of
 * its keys exist; otherwise every key logged by at least two runs (or all keys of a single run).
 */
export function chartKeys(comparison: RunComparison, seriesKeys: ReadonlyMap<string, ReadonlySet<string>>, selected: readonly string[]): ChartKeys {
  const runIds = comparison.runs.map((r) => r.id);
  const byKey = new Map<string, Set<string>>();
  const add = (key: string, id: string): void => {
    const ids = byKey.get(key) ?? new Set<string>();
    ids.add(id);
    byKey.set(key, ids);
  };
  for (const m of comparison.metrics) for (const id of runIds) if (m.perRun[id]) add(m.key, id);
  for (const [key, ids] of seriesKeys) for (const id of ids) if (runIds.includes(id)) add(key, id);
  const all = [...byKey.entries()]
    .map(([key, ids]) => ({ key, runIds: runIds.filter((id) => ids.has(id)) }))
    .filter((k) => k.runIds.length > 0)
    .sort((a, b) => keyOrder(a.key, b.key));
  const needed = Math.min(2, runIds.length);
  const common = all.filter((k) => k.runIds.length >= needed).map((k) => k.key);
  const picked = selected.filter((k) => byKey.has(k)).sort(keyOrder);
  return { all, shown: picked.length > 0 ? picked : common, noneInCommon: runIds.length > 1 && common.length === 0 };
}

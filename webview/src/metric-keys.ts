/**
 * Which metric charts to draw. A chart shows one quantity: a train key and the eval key of
 * the same quantity share it. End-of-run summary values go to a table, not a chart. Without
 * a pick, the charts of the families people compare runs by (losses, eval metrics, quality,
 * training signals) are drawn, among those several runs share (a curve only one run logs
 * compares nothing); the user's pick wins when any of its keys exist.
 */
import type { RunComparison } from '../../daemon/src/protocol/domain.ts';
import { groupFamily, groupOrder, HfSummaryKeys, isDefaultGroup, summaryValueKeys, trainEvalGroups, type MetricFamily, type MetricGroup } from './metric-identity.ts';

/** A chart the panel can draw. */
export interface ChartGroup extends MetricGroup {
  /** Runs that logged any of its keys, in comparison order. */
  runIds: string[];
  family: MetricFamily;
}

export interface ChartKeys {
  /** Every chart any run has data for, in display order. */
  all: ChartGroup[];
  /** The charts drawn. */
  shown: ChartGroup[];
  /** Keys that are end-of-run summary values (shown in a table). */
  summaries: string[];
  /** More than one run, yet no chart has data from two of them. */
  noneInCommon: boolean;
  /** No pick of the user's applies: the default charts are drawn. */
  usingDefaults: boolean;
}

/** Runs with data for each key: from the comparison's summaries and from the series received. */
function runsByKey(comparison: RunComparison, seriesKeys: ReadonlyMap<string, ReadonlySet<string>>): Map<string, Set<string>> {
  const runIds = comparison.runs.map((r) => r.id);
  const byKey = new Map<string, Set<string>>();
  const add = (key: string, id: string): void => {
    const ids = byKey.get(key) ?? new Set<string>();
    ids.add(id);
    byKey.set(key, ids);
  };
  for (const m of comparison.metrics) for (const id of runIds) if (m.perRun[id]) add(m.key, id);
  // A live run may log a key the comparison did not have yet.
  for (const [key, ids] of seriesKeys) for (const id of ids) if (runIds.includes(id)) add(key, id);
  return byKey;
}

/** The charts, the ones drawn, and the summary keys; `selected` is the user's pick of keys. */
export function chartKeys(comparison: RunComparison, seriesKeys: ReadonlyMap<string, ReadonlySet<string>>, selected: readonly string[]): ChartKeys {
  const runIds = comparison.runs.map((r) => r.id);
  const byKey = runsByKey(comparison, seriesKeys);
  const summarySet = summaryValueKeys(comparison);
  // HF's own summary keys first (train time, mean train loss …), then the rest by key.
  const summaries = [...byKey.keys()].filter((k) => summarySet.has(k)).sort((a, b) => Number(HfSummaryKeys.has(b)) - Number(HfSummaryKeys.has(a)) || a.localeCompare(b));
  const all = trainEvalGroups([...byKey.keys()].filter((k) => !summarySet.has(k)))
    .map((g): ChartGroup => {
      const ids = new Set(g.keys.flatMap((k) => [...(byKey.get(k) ?? [])]));
      return { ...g, runIds: runIds.filter((id) => ids.has(id)), family: groupFamily(g) };
    })
    .filter((g) => g.runIds.length > 0)
    .sort(groupOrder);
  const needed = Math.min(2, runIds.length);
  const common = all.filter((g) => g.runIds.length >= needed);
  const pick = new Set(selected);
  const picked = all.filter((g) => g.keys.some((k) => pick.has(k)));
  const defaults = common.filter(isDefaultGroup);
  const shown = picked.length > 0 ? picked : defaults.length > 0 ? defaults : common;
  return { all, shown, summaries, noneInCommon: runIds.length > 1 && common.length === 0, usingDefaults: picked.length === 0 };
}

/** The keys of `groups`, for the state's `selectedKeys`. */
export function keysOf(groups: readonly MetricGroup[]): string[] {
  return groups.flatMap((g) => g.keys);
}

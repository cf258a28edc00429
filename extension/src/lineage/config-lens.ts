/**
 * What the config CodeLenses say — `▶ Launch`, `3 runs`, `best eval_loss 0.2639 (baseline)` —
 * and the daemon calls they come from. "Best" is judged only among runs whose effective config
 * is the file as it is now: its current version, launched without overrides (a result got with
 * `learning_rate=0.2` is not this file's). No vscode here, so it is tested against a real daemon.
 */
import type { KeelClient } from '../../../daemon/src/client/client.ts';
import type { RunComparison, RunSummary } from '../../../daemon/src/protocol/index.ts';
import { formatValue, plural } from '../format.ts';

/** The best run of a config by a loss. */
export interface BestRun {
  metric: string;
  value: number;
  runId: string;
  runName: string;
}

/** What the lens knows about a config file; `runs` undefined while not known (daemon not connected). */
export interface ConfigStats {
  /** Runs of any version of the file, with or without overrides. */
  runs?: number;
  /** Of those, the runs of the file exactly as it is now (current version, no overrides). */
  exact?: number;
  best?: BestRun;
}

/** The runs whose effective config is the file as it is now: its current config record, no overrides. */
export function exactRuns(runs: readonly RunSummary[], currentConfigId: string | null): RunSummary[] {
  if (currentConfigId === null) return [];
  return runs.filter((r) => r.configId === currentConfigId && (r.overrides ?? []).length === 0 && r.kind !== 'eval');
}

/**
 * The metrics the lens ranks by, in order of preference, each by its canonical key and the
 * name a daemon before canonical keys used: lower is better for all of them.
 */
export const LENS_METRICS: readonly (readonly string[])[] = [['eval/loss', 'eval_loss'], ['train/loss', 'loss']];

/** The lowest eval loss among the runs (else the lowest training loss), from a runs/compare result. */
export function bestRun(comparison: RunComparison): BestRun | undefined {
  for (const names of LENS_METRICS) {
    const row = comparison.metrics.find((m) => names.includes(m.key));
    if (!row) continue;
    const metric = row.key;
    let best: BestRun | undefined;
    for (const run of comparison.runs) {
      const value = row.perRun[run.id]?.min;
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      if (!best || value < best.value) best = { metric, value, runId: run.id, runName: run.name };
    }
    if (best) return best;
  }
  return undefined;
}

/** The lens titles, in order: launch, the run count, the best run (when there is one). */
export function lensTitles(stats: ConfigStats): { launch: string; runs?: string; best?: string } {
  const out: { launch: string; runs?: string; best?: string } = { launch: '▶ Launch' };
  if (stats.runs !== undefined) {
    const other = stats.runs - (stats.exact ?? stats.runs);
    out.runs = stats.runs === 0 ? 'no runs yet' : `${plural(stats.runs, 'run')}${other > 0 && stats.exact !== undefined ? ` (${stats.exact} of this exact config)` : ''}`;
  }
  if (stats.best) out.best = `best ${stats.best.metric} ${formatValue(stats.best.value)} (${stats.best.runName})`;
  return out;
}

/** Runs are compared (for the best value) over at most this many, newest first. */
const MAX_COMPARED = 50;

/** The counts for one config file, from the daemon. */
export async function configStats(client: Pick<KeelClient, 'call'>, configPath: string): Promise<ConfigStats> {
  const { runs } = await client.call('runs/list', { config: configPath, limit: 10_000 });
  if (runs.length === 0) return { runs: 0, exact: 0 };
  const { node } = await client.call('lineage/resolve', { ref: configPath });
  const exact = exactRuns(runs, node?.kind === 'config' ? node.id : null);
  if (exact.length === 0) return { runs: runs.length, exact: 0 };
  const comparison = await client.call('runs/compare', { runs: exact.slice(0, MAX_COMPARED).map((r) => r.id) });
  const best = bestRun(comparison);
  return best ? { runs: runs.length, exact: exact.length, best } : { runs: runs.length, exact: exact.length };
}

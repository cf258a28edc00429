/**
 * What the config CodeLens says — `▶ Launch · 3 runs · best eval_loss 0.2639 (demo-baseline)` —
 * and the two daemon calls it comes from. No vscode here, so it is tested against a real daemon.
 */
import type { KeelClient } from '../../../daemon/src/client/client.ts';
import type { RunComparison } from '../../../daemon/src/protocol/index.ts';
import { formatValue } from '../format.ts';

/** The best run of a config by a loss. */
export interface BestRun {
  metric: string;
  value: number;
  runId: string;
  runName: string;
}

/** What the lens knows about a config file; `runs` undefined while not known (daemon not connected). */
export interface ConfigStats {
  runs?: number;
  best?: BestRun;
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

/** The lens title. */
export function lensTitle(stats: ConfigStats): string {
  const parts = ['▶ Launch'];
  if (stats.runs !== undefined) parts.push(stats.runs === 0 ? 'no runs yet' : `${stats.runs} run${stats.runs === 1 ? '' : 's'}`);
  if (stats.best) parts.push(`best ${stats.best.metric} ${formatValue(stats.best.value)} (${stats.best.runName})`);
  return parts.join(' · ');
}

/** Runs are compared (for the best value) over at most this many, newest first. */
const MAX_COMPARED = 50;

/** The counts for one config file, from the daemon. */
export async function configStats(client: Pick<KeelClient, 'call'>, configPath: string): Promise<ConfigStats> {
  const { runs } = await client.call('runs/list', { config: configPath, limit: 10_000 });
  if (runs.length === 0) return { runs: 0 };
  const comparison = await client.call('runs/compare', { runs: runs.slice(0, MAX_COMPARED).map((r) => r.id) });
  const best = bestRun(comparison);
  return best ? { runs: runs.length, best } : { runs: runs.length };
}

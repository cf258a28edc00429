/**
 * How the Runs view and the status bar see the run list: grouped into running, queued and
 * recent, and counted. Pure (no vscode), so it is unit-tested.
 */
import type { RunStatus, RunSummary } from '../../../daemon/src/protocol/index.ts';

export type RunGroupKind = 'running' | 'queued' | 'recent';

export interface RunGroup {
  kind: RunGroupKind;
  label: string;
  runs: RunSummary[];
}

/** Statuses shown under "Running": the run is on its way or going. */
export const ActiveStatuses: readonly RunStatus[] = ['syncing', 'starting', 'running'];

export function groupOf(status: RunStatus): RunGroupKind {
  if (status === 'queued') return 'queued';
  return ActiveStatuses.includes(status) ? 'running' : 'recent';
}

/**
 * True for a run Slurm holds pending (the daemon's reason "queued on Slurm (Resources)" or
 * "requeued by Slurm: …"): its status is `starting` but it waits in the cluster's queue, so
 * the Runs view lists and counts it as queued, not running.
 */
export function pendingOnSlurm(run: Pick<RunSummary, 'status' | 'statusReason'>): boolean {
  return (run.status === 'starting' || run.status === 'syncing' || run.status === 'queued') && /^(queued on Slurm|requeued by Slurm)\b/.test(run.statusReason ?? '');
}

/** A run's group in the Runs view: by status, except that a run Slurm holds pending is queued. */
export function runGroupOf(run: Pick<RunSummary, 'status' | 'statusReason'>): RunGroupKind {
  return pendingOnSlurm(run) ? 'queued' : groupOf(run.status);
}

const byNewest = (a: RunSummary, b: RunSummary): number => (b.startedAt ?? b.createdAt) - (a.startedAt ?? a.createdAt);
const byEnded = (a: RunSummary, b: RunSummary): number => (b.endedAt ?? b.updatedAt) - (a.endedAt ?? a.updatedAt);
// Queue order: higher priority first, then first come first served (as the daemon places them).
const byQueue = (a: RunSummary, b: RunSummary): number => b.priority - a.priority || a.createdAt - b.createdAt;

/**
 * Running (newest first), Queued (in queue order) and Recent (latest ended first, at most
 * `recentLimit`). Empty running/queued groups are left out; no runs at all gives [] so the
 * view shows its welcome text.
 */
export function groupRuns(runs: readonly RunSummary[], recentLimit = 50): RunGroup[] {
  if (runs.length === 0) return [];
  const all = [...new Map(runs.map((r) => [r.id, r])).values()];
  const nested = nestedEvalIds(all);
  const unique = all.filter((r) => !nested.has(r.id));
  const pick = (kind: RunGroupKind): RunSummary[] => unique.filter((r) => runGroupOf(r) === kind);
  const groups: RunGroup[] = [];
  const running = pick('running').sort(byNewest);
  const queued = pick('queued').sort(byQueue);
  const recent = pick('recent').sort(byEnded).slice(0, recentLimit);
  if (running.length) groups.push({ kind: 'running', label: 'Running', runs: running });
  if (queued.length) groups.push({ kind: 'queued', label: 'Queued', runs: queued });
  groups.push({ kind: 'recent', label: 'Recent', runs: recent });
  return groups;
}

export interface RunCounts {
  running: number;
  queued: number;
}

export function countRuns(runs: readonly RunSummary[]): RunCounts {
  const unique = [...new Map(runs.map((r) => [r.id, r])).values()];
  return {
    running: unique.filter((r) => runGroupOf(r) === 'running').length,
    queued: unique.filter((r) => runGroupOf(r) === 'queued').length,
  };
}

/**
 * Eval runs shown under their train run instead of at the top level: ended ones whose train
 * run is in the list (an active eval stays under Running, where the status bar counts it).
 */
function nestedEvalIds(runs: readonly RunSummary[]): Set<string> {
  const ids = new Set(runs.map((r) => r.id));
  return new Set(runs.filter((r) => r.kind === 'eval' && r.parentRunId && ids.has(r.parentRunId) && groupOf(r.status) === 'recent').map((r) => r.id));
}

/** The eval runs nested under `parentId` (see groupRuns), newest first. */
export function nestedEvalRuns(runs: readonly RunSummary[], parentId: string): RunSummary[] {
  const nested = nestedEvalIds(runs);
  return runs.filter((r) => r.parentRunId === parentId && nested.has(r.id)).sort(byNewest);
}

/**
 * Which run an eval row favours, honestly: the leader is "best" only when it is ahead of
 * every other run by more than the standard error of the difference, √(se₁² + se₂²); runs
 * within that of the leader tie with it; a lead that no stderr can check is "ahead", not
 * best. Results of an eval job that failed (or was cancelled or lost) may be partial: they
 * are flagged and take no part. Pure: the daemon's `runs/compare` (its `bestRunId` and
 * `verdicts`), the CLI and the compare panel all judge by it.
 */
import type { EvalJobRef, EvalVerdict, RunComparison } from './domain.ts';

type EvalRowData = RunComparison['evals'][number];
type EvalCellData = NonNullable<EvalRowData['perRun'][string]>;

/** How many standard errors of the difference a lead must exceed to count. */
export const LEAD_IN_STDERRS = 1;

/** A cell's standing in its row. */
export type Verdict = EvalVerdict;

/** Eval job states whose results may be partial. */
const UNFINISHED: ReadonlySet<EvalJobRef['status']> = new Set(['failed', 'cancelled', 'lost']);

/** The eval job behind a result when it did not finish, else null. */
export function failedJob(cell: EvalCellData | null | undefined): EvalJobRef | null {
  const job = cell?.evalRun;
  if (job && UNFINISHED.has(job.status)) return job;
  // The daemon may know the job failed without naming it (its result's evalJobFailed).
  return cell?.evalJobFailed === true ? (job ?? { id: '', name: 'the eval job', status: 'failed' }) : null;
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** Whether higher is better: the row's own flag, else the daemon's guess from the metric's name. */
export function higherIsBetter(row: EvalRowData): boolean {
  return row.higherIsBetter ?? !/perplexity|loss|error|wer|cer/i.test(row.metric);
}

/** The standard error of the difference of two results, or null when either stderr is unknown. */
export function diffStderr(a: EvalCellData, b: EvalCellData): number | null {
  return finite(a.stderr) && finite(b.stderr) ? Math.sqrt(a.stderr ** 2 + b.stderr ** 2) : null;
}

/** Whether `a` and `b` differ by more than the noise; null when no stderr says. */
export function beyondNoise(a: EvalCellData, b: EvalCellData): boolean | null {
  if (!finite(a.value) || !finite(b.value)) return null;
  const gap = Math.abs(a.value - b.value);
  if (gap === 0) return false;
  const se = diffStderr(a, b);
  return se === null ? null : gap > LEAD_IN_STDERRS * se;
}

/** Each run's verdict in a row (runs without an eligible result get null). */
export function rowVerdicts(row: EvalRowData, runIds: readonly string[]): Map<string, Verdict> {
  const out = new Map<string, Verdict>(runIds.map((id) => [id, null]));
  const eligible = runIds
    .map((id) => ({ id, cell: row.perRun[id] }))
    .filter((x): x is { id: string; cell: EvalCellData } => !!x.cell && finite(x.cell.value) && failedJob(x.cell) === null);
  // One result is nothing to compare.
  if (eligible.length < 2) return out;
  const sign = higherIsBetter(row) ? -1 : 1;
  eligible.sort((a, b) => sign * ((a.cell.value as number) - (b.cell.value as number)));
  const [leader, ...others] = eligible;
  if (!leader) return out;
  const tied = others.filter((o) => beyondNoise(leader.cell, o.cell) === false);
  const unchecked = others.some((o) => beyondNoise(leader.cell, o.cell) === null);
  if (tied.length > 0) for (const x of [leader, ...tied]) out.set(x.id, 'tie');
  else out.set(leader.id, unchecked ? 'ahead' : 'best');
  return out;
}

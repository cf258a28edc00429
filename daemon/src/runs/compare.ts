/**
 * Compares runs: which params differ (and how many are equal), each metric's last/min/max
 * and best value with its step (for at most 500 keys, losses and eval metrics first — one
 * row per quantity, under its canonical key), the end-of-run summary values as their own
 * table, and the eval table with the best run per row and what each result evaluated.
 */
import { basename } from 'node:path';
import { rowVerdicts, type EvalJobRef, type EvalResult, type Run, type RunComparison, type RunStatus, type SummaryValue } from '../protocol/index.ts';
import { EdgeTypes, type Store } from '../store/index.ts';
import { displayRank } from '../store/metrics.ts';
import { MAX_SERIES_SHOWN } from './metric-answers.ts';
import { runUsage } from './usage.ts';

/** Lower is better for losses, perplexities and error rates; higher for everything else. */
export function metricGoal(key: string): 'min' | 'max' {
  return /loss|perplexity|ppl|\bwer\b|_wer|\bcer\b|_cer|error|runtime|mse|mae|rmse|bpb|bits_per/i.test(key) ? 'min' : 'max';
}

/** Params listed per comparison (differing ones, and equal ones): 50 runs × 10,000 generated params would not fit one answer. */
export const MAX_PARAMS_SHOWN = 2_000;

function compareParams(store: Store, runs: Run[]): RunComparison['params'] {
  const all = runs.map((r) => store.runLinks.params(r.id));
  const keys = new Set(all.flatMap((p) => Object.keys(p)));
  const differ: RunComparison['params']['differ'] = [];
  const equalParams: Record<string, unknown> = {};
  let equal = 0;
  let differTotal = 0;
  for (const key of [...keys].sort()) {
    const values = Object.fromEntries(runs.map((r, i) => [r.id, all[i]?.[key] ?? null]));
    const distinct = new Set(Object.values(values).map((v) => JSON.stringify(v)));
    if (distinct.size > 1) {
      if (differTotal++ < MAX_PARAMS_SHOWN) differ.push({ key, values });
    } else if (equal++ < MAX_PARAMS_SHOWN) {
      equalParams[key] = Object.values(values)[0];
    }
  }
  return { differ, equal, equalParams, ...(differTotal > differ.length ? { differTotal } : {}) };
}

/**
 * Metric summaries for at most MAX_SERIES_SHOWN keys: each run's first series in display
 * order (losses, eval metrics, the rest), merged in that order. A key one run shows and
 * another has further down is looked up for that run, so every row is complete.
 */
function compareMetrics(store: Store, runs: Run[]): RunComparison['metrics'] {
  const series = new Map(runs.map((r) => [r.id, new Map(store.metrics.seriesFirst(r.id, MAX_SERIES_SHOWN).map((s) => [s.key, s]))]));
  const candidates = new Set([...series.values()].flatMap((s) => [...s.keys()]));
  const keys = [...candidates].sort((a, b) => displayRank(a) - displayRank(b) || (a < b ? -1 : a > b ? 1 : 0)).slice(0, MAX_SERIES_SHOWN);
  return keys.sort().map((key) => {
    const goal = metricGoal(key);
    const perRun: RunComparison['metrics'][number]['perRun'] = {};
    for (const r of runs) {
      const s = series.get(r.id)?.get(key) ?? store.metrics.seriesSummary(r.id, key);
      if (!s) {
        perRun[r.id] = null;
        continue;
      }
      const best = goal === 'min' ? s.min : s.max;
      perRun[r.id] = { last: s.lastValue, min: s.min, max: s.max, best, bestStep: best === null ? null : store.metrics.stepOfBest(r.id, key, goal), lastStep: s.lastStep, points: s.points };
    }
    return { key, goal, perRun };
  });
}

/** Evals of a run: those measuring its checkpoints (deleted ones too: their results stay history), and those measuring the run itself. */
export function evalsOfRun(store: Store, runId: string): EvalResult[] {
  const out = store.evals.bySubject('run', runId);
  for (const c of store.checkpoints.byRunAll(runId)) out.push(...store.evals.bySubject('checkpoint', c.id));
  return out;
}

/** Eval job states whose results may be partial (the job stopped before it finished). */
const UNFINISHED_JOB: readonly RunStatus[] = ['failed', 'cancelled', 'lost'];

/**
 * The eval job that wrote a result: the run with a `produced` edge to its eval group, else
 * the eval job launched for its checkpoint (`evaluated_by`) whose job folder holds the
 * results file — a job's outputs, local or mirrored, live under a folder named by its run
 * id. Null for results Keel only watched or imported. Memoised per eval group.
 */
function evalJobLookup(store: Store): (e: EvalResult) => EvalJobRef | null {
  const seen = new Map<string, EvalJobRef | null>();
  const find = (e: EvalResult): Run | undefined => {
    const produced = store.lineage.incoming({ kind: 'eval', id: e.groupId }).find((x) => x.fromKind === 'run' && x.type === EdgeTypes.Produced);
    if (produced) return store.runs.get(produced.fromId);
    if (e.subjectKind !== 'checkpoint' || e.subjectId === null || e.sourcePath === null) return undefined;
    const segments = new Set(e.sourcePath.split(/[\\/]/));
    const job = store.lineage.outgoing({ kind: 'checkpoint', id: e.subjectId }).find((x) => x.type === EdgeTypes.EvaluatedBy && x.toKind === 'run' && segments.has(x.toId));
    return job ? store.runs.get(job.toId) : undefined;
  };
  return (e) => {
    let job = seen.get(e.groupId);
    if (job === undefined) {
      const run = find(e);
      job = run ? { id: run.id, name: run.name, status: run.status } : null;
      seen.set(e.groupId, job);
    }
    return job;
  };
}

/** What an eval measured, for people: `checkpoint-60 (step 60)`, `run name`, a model's ref. */
export function subjectLabel(store: Store, e: EvalResult): string | null {
  if (e.subjectId === null) return e.subjectRef;
  if (e.subjectKind === 'checkpoint') {
    const c = store.checkpoints.get(e.subjectId);
    if (!c) return e.subjectRef;
    const name = basename(c.location);
    const step = c.step === null || name === `checkpoint-${c.step}` ? '' : ` (step ${c.step})`;
    return `${name}${step}${c.final ? ', final model' : ''}${c.deletedAt != null ? ', deleted' : ''}`;
  }
  if (e.subjectKind === 'run') return store.runs.get(e.subjectId)?.name ?? e.subjectRef;
  return store.baseModels.get(e.subjectId)?.ref ?? e.subjectRef;
}

function compareEvals(store: Store, runs: Run[]): RunComparison['evals'] {
  const rows = new Map<string, RunComparison['evals'][number]>();
  const evalJob = evalJobLookup(store);
  for (const r of runs) {
    for (const e of evalsOfRun(store, r.id)) {
      const key = `${e.task}\u0000${e.metric}\u0000${e.filter}`;
      let row = rows.get(key);
      if (!row) {
        row = { task: e.task, metric: e.metric, filter: e.filter, higherIsBetter: e.higherIsBetter, perRun: Object.fromEntries(runs.map((x) => [x.id, null])), bestRunId: null };
        rows.set(key, row);
      }
      // The latest result for a run wins (a re-evaluated checkpoint).
      row.perRun[r.id] = { value: e.value, stderr: e.stderr, subject: e.subjectId, subjectLabel: subjectLabel(store, e), evalJobFailed: e.evalJobFailed === true, evalRun: evalJob(e) };
    }
  }
  for (const row of rows.values()) {
    const higher = row.higherIsBetter ?? !/perplexity|loss|error|wer|cer/i.test(row.metric);
    let best: [string, number] | null = null;
    for (const [runId, cell] of Object.entries(row.perRun)) {
      if (cell?.value === null || cell?.value === undefined || Number.isNaN(cell.value)) continue;
      // A failed eval job's results may be partial: never the best.
      if (cell.evalRun && UNFINISHED_JOB.includes(cell.evalRun.status)) continue;
      if (!best || (higher ? cell.value > best[1] : cell.value < best[1])) best = [runId, cell.value];
    }
    row.bestRunId = best?.[0] ?? null;
    row.verdicts = Object.fromEntries(rowVerdicts(row, runs.map((x) => x.id)));
  }
  return [...rows.values()].sort((a, b) => a.task.localeCompare(b.task) || a.metric.localeCompare(b.metric));
}

/** End-of-run summary values by key, one cell per run. */
function compareSummary(store: Store, runs: Run[]): NonNullable<RunComparison['summary']> {
  const byKey = new Map<string, Record<string, SummaryValue | null>>();
  runs.forEach((r) => {
    for (const v of store.summaries.list(r.id)) {
      let row = byKey.get(v.key);
      if (!row) byKey.set(v.key, (row = Object.fromEntries(runs.map((x) => [x.id, null]))));
      row[r.id] = v;
    }
  });
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, perRun]) => ({ key, perRun }));
}

export function compareRuns(store: Store, runs: Run[]): RunComparison {
  return {
    runs, params: compareParams(store, runs), metricsTotal: store.metrics.distinctKeyCount(runs.map((r) => r.id)),
    metrics: compareMetrics(store, runs), evals: compareEvals(store, runs), summary: compareSummary(store, runs),
    usage: Object.fromEntries(runs.map((r) => [r.id, runUsage(store, r)])),
  };
}

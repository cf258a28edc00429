/**
 * Evals: tasks × runs, value ± stderr, the best of each row highlighted (by the task's
 * higher_is_better, else the daemon's pick), and each run's difference from the baseline.
 */
import type { RunComparison } from '../../daemon/src/protocol/domain.ts';
import { clear, h } from './dom.ts';
import { formatDelta, formatNumber, runStyle } from './format.ts';

export interface EvalCell {
  runId: string;
  value: number | null;
  stderr: number | null;
  /** `0.4500 ± 0.1141`, `0.3019 ± n/a`, or `—` when the run has no result for the row. */
  text: string;
  best: boolean;
  /** value − baseline value; null for the baseline itself or when either is missing. */
  delta: number | null;
  /** Whether the delta is an improvement; null when the direction is unknown or there is no delta. */
  better: boolean | null;
  /** What was evaluated (a checkpoint id), when known. */
  subject: string | null;
  /** What was evaluated, for people (`checkpoint-60, final model`). */
  subjectLabel: string | null;
  /** The result comes from an eval job that failed (it may be partial). */
  failedJob: boolean;
}

export interface EvalRow {
  task: string;
  metric: string;
  filter: string;
  higherIsBetter: boolean | null;
  cells: EvalCell[];
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** The runs holding the best value of a row; ties are all best. */
function bestRuns(row: RunComparison['evals'][number], runIds: readonly string[]): Set<string> {
  if (row.higherIsBetter === null) return new Set(row.bestRunId === null ? [] : [row.bestRunId]);
  const values = runIds.map((id) => row.perRun[id]?.value).filter(finite);
  if (values.length === 0) return new Set();
  const best = row.higherIsBetter ? Math.max(...values) : Math.min(...values);
  return new Set(runIds.filter((id) => row.perRun[id]?.value === best));
}

/** The table: one row per (task, metric, filter), one cell per run in comparison order. */
export function evalTable(c: RunComparison, baselineRunId: string | null): EvalRow[] {
  const runIds = c.runs.map((r) => r.id);
  return c.evals.map((row) => {
    const best = bestRuns(row, runIds);
    const base = baselineRunId === null ? null : (row.perRun[baselineRunId]?.value ?? null);
    const cells = runIds.map((runId): EvalCell => {
      const cell = row.perRun[runId] ?? null;
      const value = cell?.value ?? null;
      const stderr = cell?.stderr ?? null;
      const delta = runId !== baselineRunId && finite(value) && finite(base) ? value - base : null;
      const better = delta === null || delta === 0 || row.higherIsBetter === null ? null : row.higherIsBetter === delta > 0;
      const text = cell === null ? '—' : `${formatNumber(value)} ± ${stderr === null ? 'n/a' : formatNumber(stderr)}`;
      return {
        runId, value, stderr, text, best: best.has(runId), delta, better, subject: cell?.subject ?? null,
        subjectLabel: cell?.subjectLabel ?? null, failedJob: cell?.evalJobFailed === true,
      };
    });
    return { task: row.task, metric: row.metric, filter: row.filter, higherIsBetter: row.higherIsBetter, cells };
  });
}

const direction = (hib: boolean | null): string => (hib === null ? '' : hib ? ' ↑' : ' ↓');

/** Renders the section into `root`. */
export function renderEvals(root: HTMLElement, c: RunComparison, baselineRunId: string | null): void {
  clear(root);
  const rows = evalTable(c, baselineRunId);
  if (rows.length === 0) {
    root.append(h('p', { class: 'empty', text: 'No eval results for these runs or their checkpoints yet.' }));
    return;
  }
  const baseName = c.runs.find((r) => r.id === baselineRunId)?.name;
  root.append(h('p', { class: 'summary', text: `${rows.length} results. Best per row is highlighted; ↑ higher is better, ↓ lower is better.${baseName ? ` Deltas against ${baseName}.` : ''}` }));
  const head = h('tr', {}, h('th', { text: 'Task', attrs: { scope: 'col' } }), h('th', { text: 'Metric', attrs: { scope: 'col' } }),
    ...c.runs.map((r, i) => h('th', { attrs: { scope: 'col' }, title: r.id },
      h('span', { class: `swatch c${runStyle(i).colorIndex}${runStyle(i).dashed ? ' dashed' : ''}` }),
      r.name, r.id === baselineRunId ? h('span', { class: 'muted', text: ' (baseline)' }) : null)));
  const body = h('tbody');
  for (const row of rows) {
    const metric = `${row.metric}${row.filter !== 'none' ? ` (${row.filter})` : ''}${direction(row.higherIsBetter)}`;
    const tr = h('tr', {}, h('th', { text: row.task, attrs: { scope: 'row' } }), h('td', { text: metric, class: 'muted' }));
    for (const cell of row.cells) {
      const delta = cell.delta === null ? null
        : h('span', { class: `delta${cell.better === true ? ' better' : cell.better === false ? ' worse' : ''}`, text: formatDelta(cell.delta) });
      const what = cell.subjectLabel ?? cell.subject;
      const title = [what ? `evaluated: ${what}` : '', cell.failedJob ? 'from an eval job that failed: the results may be partial' : ''].filter(Boolean).join('\n');
      const td = h('td', { class: `eval-cell${cell.best ? ' best' : ''}${cell.failedJob ? ' failed-job' : ''}`, attrs: { 'data-run': cell.runId }, title },
        h('span', { class: 'value', text: cell.text }), cell.best ? h('span', { class: 'best-mark', text: ' ★', attrs: { 'aria-label': 'best' } }) : null,
        cell.failedJob ? h('span', { class: 'failed-mark', text: ' ⚠ failed job', attrs: { 'aria-label': 'from an eval job that failed' } }) : null,
        delta);
      tr.append(td);
    }
    body.append(tr);
  }
  root.append(h('div', { class: 'table-scroll', attrs: { tabindex: '0', 'aria-label': 'Eval results (scrollable)' } },
    h('table', { class: 'grid evals', attrs: { 'aria-label': 'Eval results by run' } }, h('thead', {}, head), body)));
}

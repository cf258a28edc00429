/**
 * Evals: tasks × runs, value ± stderr, each row's verdict (best only beyond the noise, else
 * a tie; see eval-verdicts.ts), results of failed eval jobs flagged, and each run's
 * difference from the baseline, coloured only when it is beyond the noise.
 */
import type { EvalJobRef, RunComparison } from '../../daemon/src/protocol/domain.ts';
import { clear, h, runSwatch } from './dom.ts';
import { beyondNoise, diffStderr, failedJob, rowVerdicts, type Verdict } from '../../daemon/src/protocol/eval-verdicts.ts';
import { formatDelta, formatNumber } from './format.ts';

export interface EvalCell {
  runId: string;
  value: number | null;
  stderr: number | null;
  /** `0.4500 ± 0.1141`, `0.3019 ± n/a`, or `—` when the run has no result for the row. */
  text: string;
  verdict: Verdict;
  /** The eval job that wrote the result, when it failed (or was cancelled or lost): the result may be partial. */
  failedJob: EvalJobRef | null;
  /** value − baseline value; null for the baseline itself or when either is missing. */
  delta: number | null;
  /** Whether the delta is an improvement; null when the direction is unknown or there is no delta. */
  better: boolean | null;
  /** Whether the delta is beyond the noise (null: no stderr to tell). */
  significant: boolean | null;
  /** What was evaluated (a checkpoint id), when known. */
  subject: string | null;
  /** What was evaluated, for people (`checkpoint-60 (step 60)`), when the daemon says. */
  subjectLabel: string | null;
}

export interface EvalRow {
  task: string;
  metric: string;
  filter: string;
  higherIsBetter: boolean | null;
  cells: EvalCell[];
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** The table: one row per (task, metric, filter), one cell per run in comparison order. */
export function evalTable(c: RunComparison, baselineRunId: string | null): EvalRow[] {
  const runIds = c.runs.map((r) => r.id);
  return c.evals.map((row) => {
    const verdicts = rowVerdicts(row, runIds);
    const baseCell = baselineRunId === null ? null : (row.perRun[baselineRunId] ?? null);
    const base = baseCell && failedJob(baseCell) === null ? baseCell.value : null;
    const cells = runIds.map((runId): EvalCell => {
      const cell = row.perRun[runId] ?? null;
      const value = cell?.value ?? null;
      const stderr = cell?.stderr ?? null;
      const failed = failedJob(cell);
      const delta = runId !== baselineRunId && !failed && finite(value) && finite(base) ? value - base : null;
      const better = delta === null || delta === 0 || row.higherIsBetter === null ? null : row.higherIsBetter === delta > 0;
      const significant = delta === null || !cell || !baseCell ? null : beyondNoise(cell, baseCell);
      const text = cell === null ? '—' : `${formatNumber(value)} ± ${stderr === null ? 'n/a' : formatNumber(stderr)}`;
      return { runId, value, stderr, text, verdict: verdicts.get(runId) ?? null, failedJob: failed, delta, better, significant, subject: cell?.subject ?? null, subjectLabel: cell?.subjectLabel ?? null };
    });
    return { task: row.task, metric: row.metric, filter: row.filter, higherIsBetter: row.higherIsBetter, cells };
  });
}

const direction = (hib: boolean | null): string => (hib === null ? '' : hib ? ' ↑' : ' ↓');

/** The mark after a value: what the verdict (or a failed job) means, in a word a screen reader reads too. */
function mark(cell: EvalCell): HTMLElement | null {
  if (cell.failedJob) {
    return h('span', { class: 'flag flag-failed', text: `⚠ eval job ${cell.failedJob.status}`, title: `${cell.failedJob.name} ${cell.failedJob.status}: these results may be partial, so they are not compared` });
  }
  if (cell.verdict === 'best') return h('span', { class: 'flag flag-best', text: '★ best' });
  if (cell.verdict === 'tie') return h('span', { class: 'flag flag-tie', text: '≈ tie' });
  if (cell.verdict === 'ahead') return h('span', { class: 'flag flag-ahead', text: '☆ ahead', title: 'ahead of the others, but without a stderr there is no telling whether by more than noise' });
  return null;
}

/** How the row's cells compare, for the tie's tooltip: the gap and the stderr of the difference. */
function tieNote(row: RunComparison['evals'][number], cells: readonly EvalCell[]): string {
  const tied = cells.filter((x) => x.verdict === 'tie');
  const [a, b] = tied;
  const ca = a && row.perRun[a.runId];
  const cb = b && row.perRun[b.runId];
  if (!a || !b || !ca || !cb || !finite(a.value) || !finite(b.value)) return '';
  const se = diffStderr(ca, cb);
  return `gap ${formatNumber(Math.abs(a.value - b.value))} is within the stderr of the difference (${formatNumber(se)})`;
}

function evalCell(cell: EvalCell, note: string): HTMLElement {
  const delta = cell.delta === null ? null
    : h('span', { class: `delta${cell.significant === true && cell.better === true ? ' better' : cell.significant === true && cell.better === false ? ' worse' : ''}`, text: formatDelta(cell.delta) });
  const cls = `eval-cell${cell.verdict === 'best' ? ' best' : ''}${cell.verdict === 'tie' ? ' tie' : ''}${cell.failedJob ? ' failed-job' : ''}`;
  const what = cell.subjectLabel ?? cell.subject;
  const title = [what ? `evaluated: ${what}` : '', cell.verdict === 'tie' ? note : ''].filter(Boolean).join('\n');
  return h('td', { class: cls, attrs: { 'data-run': cell.runId, 'data-verdict': cell.verdict ?? (cell.failedJob ? 'failed-job' : '') }, title },
    h('span', { class: 'value', text: cell.text }), mark(cell), delta);
}

const LEGEND = '★ best: ahead of every other run by more than the stderr of the difference. ≈ tie: within it. ☆ ahead: no stderr to tell. ⚠ the eval job failed: its results may be partial and are not compared. ↑ higher is better, ↓ lower.';

/** Renders the section into `root`. */
export function renderEvals(root: HTMLElement, c: RunComparison, baselineRunId: string | null, runIndex: (runId: string) => number): void {
  clear(root);
  const rows = evalTable(c, baselineRunId);
  if (rows.length === 0) {
    root.append(h('p', { class: 'empty', text: 'No eval results for these runs or their checkpoints yet.' }));
    return;
  }
  const baseName = c.runs.find((r) => r.id === baselineRunId)?.name;
  root.append(h('p', { class: 'summary', text: `${rows.length} results.${baseName ? ` Deltas against ${baseName}, coloured when beyond the noise.` : ''}` }),
    h('p', { class: 'summary eval-legend', text: LEGEND }));
  const head = h('tr', {}, h('th', { text: 'Task', attrs: { scope: 'col' } }), h('th', { text: 'Metric', attrs: { scope: 'col' } }),
    ...c.runs.map((r) => {
      return h('th', { attrs: { scope: 'col' }, title: r.id },
        runSwatch(runIndex(r.id)),
        r.name, r.id === baselineRunId ? h('span', { class: 'muted', text: ' (baseline)' }) : null);
    }));
  const body = h('tbody');
  rows.forEach((row, i) => {
    const metric = `${row.metric}${row.filter !== 'none' ? ` (${row.filter})` : ''}${direction(row.higherIsBetter)}`;
    const note = tieNote(c.evals[i] as RunComparison['evals'][number], row.cells);
    body.append(h('tr', { attrs: { 'data-task': row.task, 'data-metric': row.metric } },
      h('th', { text: row.task, attrs: { scope: 'row' } }), h('td', { text: metric, class: 'muted' }),
      ...row.cells.map((cell) => evalCell(cell, note))));
  });
  root.append(h('div', { class: 'table-scroll', attrs: { tabindex: '0', 'aria-label': 'Eval results (scrollable)' } },
    h('table', { class: 'grid evals', attrs: { 'aria-label': 'Eval results by run' } }, h('thead', {}, head), body)));
}

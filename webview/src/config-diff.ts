/**
 * Config diff: the params that differ, run by run (and, on request, the equal ones too).
 * Choosing a cell opens VS Code's diff editor between the baseline's config and that run's.
 */
import type { RunComparison } from '../../daemon/src/protocol/domain.ts';
import { checkbox } from './controls.ts';
import { clear, h, runSwatch } from './dom.ts';
import { formatParam } from './format.ts';
import { plural } from '../../daemon/src/protocol/format.ts';

export interface ParamCell {
  runId: string;
  text: string;
  /** The value is not the baseline's. */
  differsFromBaseline: boolean;
}

export interface ParamRow {
  key: string;
  /** False for an equal param (shown with "show all"). */
  differs: boolean;
  cells: ParamCell[];
}

/** The rows to show: differing params, plus the equal ones when `showAll`, by key. */
export function configDiffRows(c: RunComparison, baselineRunId: string | null, showAll: boolean): ParamRow[] {
  const rows: ParamRow[] = c.params.differ.map((d) => {
    const base = baselineRunId === null ? undefined : JSON.stringify(d.values[baselineRunId] ?? null);
    return {
      key: d.key,
      differs: true,
      cells: c.runs.map((r) => ({
        runId: r.id,
        text: formatParam(d.values[r.id]),
        differsFromBaseline: base !== undefined && r.id !== baselineRunId && JSON.stringify(d.values[r.id] ?? null) !== base,
      })),
    };
  });
  if (showAll) {
    for (const [key, v] of Object.entries(c.params.equalParams)) {
      rows.push({ key, differs: false, cells: c.runs.map((r) => ({ runId: r.id, text: formatParam(v), differsFromBaseline: false })) });
    }
  }
  return rows.sort((a, b) => a.key.localeCompare(b.key));
}

/** What `openConfigDiff` compares for a row: the baseline against `runId`, or against the first run that differs. */
export function diffTarget(row: ParamRow, baselineRunId: string | null, runId?: string): { key: string; leftRunId: string; rightRunId: string } | null {
  const left = baselineRunId ?? row.cells[0]?.runId;
  if (left === undefined) return null;
  const right = runId !== undefined && runId !== left ? runId : (row.cells.find((c) => c.differsFromBaseline) ?? row.cells.find((c) => c.runId !== left))?.runId;
  return right === undefined ? null : { key: row.key, leftRunId: left, rightRunId: right };
}

export interface ConfigDiffView {
  comparison: RunComparison;
  baselineRunId: string | null;
  showAll: boolean;
  /** Colour slot of each run (the same as in the charts). */
  runIndex: (runId: string) => number;
  onShowAll: (showAll: boolean) => void;
  onOpenDiff: (target: { key: string; leftRunId: string; rightRunId: string }) => void;
}

function summary(c: RunComparison): string {
  const differ = c.params.differ.length;
  if (differ === 0 && c.params.equal === 0) return 'No params recorded for these runs (no tracked config).';
  if (differ === 0) return `The configs agree on all ${c.params.equal} params.`;
  return `${plural(differ, 'param')} differ · ${c.params.equal} equal. Choose a value to open the diff against the baseline.`;
}

/** Arrow keys move between rows and cells; Enter/Space open the diff for the focused cell (or row). */
function onGridKey(ev: KeyboardEvent, table: HTMLTableElement): void {
  const cell = (ev.target as HTMLElement).closest<HTMLElement>('td, tr');
  if (!cell) return;
  const row = cell.closest('tr') as HTMLTableRowElement;
  const rows = [...table.tBodies[0]!.rows];
  const cells = [...row.querySelectorAll<HTMLElement>('td[data-run]')];
  let next: HTMLElement | undefined;
  const r = rows.indexOf(row);
  const c = cell.tagName === 'TD' ? cells.indexOf(cell) : -1;
  if (ev.key === 'ArrowDown') next = rows[Math.min(rows.length - 1, r + 1)];
  else if (ev.key === 'ArrowUp') next = rows[Math.max(0, r - 1)];
  else if (ev.key === 'Home') next = rows[0];
  else if (ev.key === 'End') next = rows[rows.length - 1];
  else if (ev.key === 'ArrowRight') next = cells[Math.min(cells.length - 1, c + 1)];
  else if (ev.key === 'ArrowLeft') next = c <= 0 ? row : cells[c - 1];
  else if (ev.key === 'Enter' || ev.key === ' ') {
    ev.preventDefault();
    cell.click();
    return;
  } else return;
  ev.preventDefault();
  if (!next) return;
  for (const el of table.querySelectorAll('[tabindex="0"]')) el.setAttribute('tabindex', '-1');
  next.setAttribute('tabindex', '0');
  next.focus();
}

/** Renders the section into `root`. */
export function renderConfigDiff(root: HTMLElement, v: ConfigDiffView): void {
  clear(root);
  const rows = configDiffRows(v.comparison, v.baselineRunId, v.showAll);
  const bar = h('div', { class: 'toolbar' }, checkbox(`Show all params (${v.comparison.params.equal} equal)`, v.showAll, v.onShowAll, 'show-all-params'));
  root.append(bar, h('p', { class: 'summary', text: summary(v.comparison) }));
  if (rows.length === 0) return;
  const runs = v.comparison.runs;
  const head = h('tr', {}, h('th', { text: 'Param', attrs: { scope: 'col' } }),
    ...runs.map((r) => {
      return h('th', { attrs: { scope: 'col' }, title: r.id },
        runSwatch(v.runIndex(r.id)),
        r.name, r.id === v.baselineRunId ? h('span', { class: 'muted', text: ' (baseline)' }) : null);
    }));
  const body = h('tbody');
  rows.forEach((row, i) => {
    const open = (runId?: string): void => {
      const t = diffTarget(row, v.baselineRunId, runId);
      if (t) v.onOpenDiff(t);
    };
    const tr = h('tr', { class: row.differs ? 'param differs' : 'param equal', attrs: { tabindex: i === 0 ? '0' : '-1', 'data-key': row.key } },
      h('th', { text: row.key, attrs: { scope: 'row' } }));
    for (const cell of row.cells) {
      const td = h('td', { text: cell.text, class: cell.differsFromBaseline ? 'changed' : '', attrs: { 'data-run': cell.runId, tabindex: '-1' }, title: cell.text });
      td.addEventListener('click', (ev) => {
        ev.stopPropagation();
        open(cell.runId);
      });
      tr.append(td);
    }
    tr.addEventListener('click', () => open());
    body.append(tr);
  });
  const table = h('table', { class: `grid config-diff runs-${Math.min(runs.length, 6)}`, attrs: { 'aria-label': 'Config params by run' } },
    h('colgroup', {}, h('col', { class: 'param-col' }), ...runs.map(() => h('col', { class: 'run-col' }))), h('thead', {}, head), body);
  table.addEventListener('keydown', (ev) => onGridKey(ev, table));
  root.append(h('div', { class: 'table-scroll' }, table));
}

/**
 * The end-of-run summary values of the compared runs (the Trainer's `train_runtime`,
 * `*_per_second`, `total_flos`, the average `train_loss`, `*_results.json` values): one
 * table, keys × runs. They are never drawn as one-point charts.
 */
import type { RunComparison, SummaryValue } from '../../daemon/src/protocol/domain.ts';
import { h } from './dom.ts';
import { formatNumber, runStyle } from './format.ts';

/** A summary cell's text: the value, NaN/Inf spelled out, `—` when the run has none. */
export function summaryText(v: SummaryValue | null | undefined): string {
  if (!v) return '—';
  if (v.special) return v.special === 'nan' ? 'NaN' : v.special === 'inf' ? '+Inf' : '-Inf';
  return formatNumber(v.value);
}

/** The table, or null when no run has summary values (older daemons send none). */
export function summaryValuesTable(c: RunComparison): HTMLElement | null {
  const rows = c.summary ?? [];
  if (rows.length === 0) return null;
  const head = h('tr', {}, h('th', { text: 'Summary value', attrs: { scope: 'col' } }),
    ...c.runs.map((r, i) => h('th', { attrs: { scope: 'col' }, title: r.id },
      h('span', { class: `swatch c${runStyle(i).colorIndex}${runStyle(i).dashed ? ' dashed' : ''}` }), r.name)));
  const body = h('tbody', {}, ...rows.map((row) => h('tr', {},
    h('th', { text: row.key, attrs: { scope: 'row' }, title: aliasTitle(row.perRun) }),
    ...c.runs.map((r) => {
      const v = row.perRun[r.id];
      return h('td', { class: 'summary-cell', text: summaryText(v), attrs: { 'data-run': r.id }, title: v?.step == null ? '' : `at step ${v.step}` });
    }))));
  return h('div', { class: 'summary-values' },
    h('h3', { text: 'Summary values (end of run)' }),
    h('div', { class: 'table-scroll', attrs: { tabindex: '0', 'aria-label': 'Summary values (scrollable)' } },
      h('table', { class: 'grid summary', attrs: { 'aria-label': 'End-of-run summary values by run' } }, h('thead', {}, head), body)));
}

/** "also named train_runtime" from the names the files used. */
function aliasTitle(perRun: Record<string, SummaryValue | null>): string {
  const names = new Set(Object.values(perRun).flatMap((v) => v?.aliases ?? []));
  return names.size ? `also named ${[...names].join(', ')}` : '';
}

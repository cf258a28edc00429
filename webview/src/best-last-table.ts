/**
 * Each run's best and last value of the charted metrics, one row per run, sortable by any
 * column (a header button: Enter/Space or a click; again to reverse). With 100 runs this is
 * where "which one won" is read; the curves show how.
 */
import type { RunComparison } from '../../daemon/src/protocol/domain.ts';
import { h, runSwatch } from './dom.ts';
import { formatNumber } from './format.ts';
import { bestLastRows, sortRows, type SortColumn } from './run-groups.ts';

/** Metrics (columns pairs) the table shows at most: the first charts' keys. */
export const TABLE_KEYS = 4;

export interface BestLastContext {
  comparison: RunComparison;
  keys: readonly string[];
  runIndex(runId: string): number;
  hidden: ReadonlySet<string>;
  sort: { column: SortColumn; descending: boolean } | undefined;
  onSort(sort: { column: SortColumn; descending: boolean }): void;
}

/** The table, or null with fewer than two runs or no metric. */
export function bestLastTable(ctx: BestLastContext): HTMLElement | null {
  const c = ctx.comparison;
  const goals = new Map(c.metrics.map((m) => [m.key, m.goal]));
  const keys = ctx.keys.filter((k) => goals.has(k)).slice(0, TABLE_KEYS);
  if (c.runs.length < 2 || keys.length === 0) return null;
  const sort = ctx.sort ?? { column: 'name', descending: false };
  const rows = sortRows(bestLastRows(c, keys), sort.column, sort.descending);
  const columns: { id: SortColumn; label: string; title: string }[] = [
    { id: 'name', label: 'Run', title: 'Run name' },
    { id: 'status', label: 'Status', title: 'Run status' },
    ...keys.flatMap((k) => [
      { id: `${k}:best`, label: `${k} best`, title: `Best ${k} (${goals.get(k) === 'min' ? 'lowest' : 'highest'})` },
      { id: `${k}:last`, label: `${k} last`, title: `Last ${k} logged` },
    ]),
  ];
  const head = h('tr', {}, ...columns.map((col) => {
    const active = sort.column === col.id;
    const next = { column: col.id, descending: active ? !sort.descending : false };
    const button = h('button', {
      class: 'sort-button', text: col.label, title: `${col.title}: sort ${next.descending ? 'descending' : 'ascending'}`,
      attrs: { type: 'button', 'data-key': `sort:${col.id}` }, on: { click: () => ctx.onSort(next) },
    }, active ? h('span', { class: 'sort-mark', text: sort.descending ? ' ▼' : ' ▲', attrs: { 'aria-hidden': 'true' } }) : null);
    return h('th', { attrs: { scope: 'col', 'aria-sort': active ? (sort.descending ? 'descending' : 'ascending') : 'none', 'data-column': col.id } }, button);
  }));
  const body = h('tbody', {}, ...rows.map((r) => {
    return h('tr', { class: ctx.hidden.has(r.runId) ? 'muted-row' : '', attrs: { 'data-run': r.runId } },
      h('th', { attrs: { scope: 'row' }, title: r.runId }, runSwatch(ctx.runIndex(r.runId)), r.name),
      h('td', { text: r.status }),
      ...keys.flatMap((k) => [`${k}:best`, `${k}:last`].map((col) => h('td', { class: 'num', text: formatNumber(r.values[col] ?? null) }))));
  }));
  return h('section', { class: 'best-last', attrs: { 'aria-label': 'Best and last values per run' } },
    h('h3', { text: 'Best and last values' }),
    h('div', { class: 'table-scroll' }, h('table', { class: 'grid best-last-table', attrs: { 'aria-label': 'Best and last values per run' } }, h('thead', {}, head), body)));
}

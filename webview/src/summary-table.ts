/**
 * End-of-run summary values (HF's `train_runtime`, `total_flos`, mean `train_loss` …) as a
 * table, one row per key and one column per run: a single number per run is read, not drawn.
 */
import type { RunComparison } from '../../daemon/src/protocol/domain.ts';
import { h } from './dom.ts';
import { formatDuration, formatNumber, runStyle } from './format.ts';
import { HfSummaryKeys, metricFamily } from './metric-identity.ts';

/** What a summary key means, in words; keys not listed are shown as they are. */
const MEANINGS: Readonly<Record<string, string>> = {
  train_loss: 'mean train loss',
  train_runtime: 'train time',
  train_samples_per_second: 'samples / s',
  train_steps_per_second: 'steps / s',
  train_tokens_per_second: 'tokens / s',
  total_flos: 'floating-point operations',
  train_samples: 'samples',
  train_tokens: 'tokens',
};

/** A summary value as people read it: a runtime as h:mm:ss, FLOs with an exponent, the rest with 4 digits. */
export function formatSummaryValue(key: string, v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (/runtime$/.test(key) && Number.isFinite(v)) return `${formatDuration(v)}${v < 60 ? ` (${formatNumber(v)} s)` : ''}`;
  if (/flos$/.test(key) && Number.isFinite(v) && Math.abs(v) >= 1e6) return v.toExponential(2);
  return formatNumber(v);
}

export interface SummaryRow {
  key: string;
  meaning: string | null;
  cells: { runId: string; value: number | null; text: string }[];
}

/** The rows for `keys`, each run's last (and only) value. */
export function summaryRows(c: RunComparison, keys: readonly string[]): SummaryRow[] {
  const byKey = new Map(c.metrics.map((m) => [m.key, m]));
  return keys.map((key) => ({
    key,
    meaning: MEANINGS[key] ?? null,
    cells: c.runs.map((r) => {
      const value = byKey.get(key)?.perRun[r.id]?.last ?? null;
      return { runId: r.id, value, text: formatSummaryValue(key, value) };
    }),
  }));
}

function table(c: RunComparison, keys: readonly string[], runIndex: (runId: string) => number, label: string): HTMLElement {
  const head = h('tr', {}, h('th', { text: 'Summary value', attrs: { scope: 'col' } }),
    ...c.runs.map((r) => {
      const st = runStyle(runIndex(r.id));
      return h('th', { attrs: { scope: 'col' }, title: r.id }, h('span', { class: `swatch c${st.colorIndex}${st.dotted ? ' dotted' : ''}` }), r.name);
    }));
  const body = h('tbody', {}, ...summaryRows(c, keys).map((row) => h('tr', { attrs: { 'data-key': row.key } },
    h('th', { attrs: { scope: 'row' } }, h('code', { text: row.key }), row.meaning ? h('span', { class: 'muted', text: ` ${row.meaning}` }) : null),
    ...row.cells.map((cell) => h('td', { class: 'num', text: cell.text, attrs: { 'data-run': cell.runId } })))));
  return h('div', { class: 'table-scroll' }, h('table', { class: 'grid summary-table', attrs: { 'aria-label': label } }, h('thead', {}, head), body));
}

/**
 * The table, or null when there are no summary values. Throughput and bookkeeping values
 * (memory deltas, sample counts, runtimes of eval splits) fold away under the main table,
 * except HF's own train summary.
 */
export function summaryTable(c: RunComparison, keys: readonly string[], runIndex: (runId: string) => number): HTMLElement | null {
  if (keys.length === 0) return null;
  const bookkeeping = (k: string): boolean => !HfSummaryKeys.has(k) && metricFamily(k) === 'Throughput and bookkeeping';
  const main = keys.filter((k) => !bookkeeping(k));
  const rest = keys.filter(bookkeeping);
  const more = rest.length === 0 ? null : h('details', { class: 'summary-more' },
    h('summary', { text: `${rest.length} more: throughput and bookkeeping` }), table(c, rest, runIndex, 'Throughput and bookkeeping values'));
  return h('section', { class: 'summary-values', attrs: { 'aria-label': 'End-of-run summary values' } },
    h('h3', { text: 'End of run' }), main.length ? table(c, main, runIndex, 'End-of-run summary values') : null, more);
}

/**
 * End-of-run summary values (HF's `train_runtime`, `total_flos`, mean `train_loss` …) as a
 * table, one row per key and one column per run: a single number per run is read, not drawn.
 */
import type { RunComparison, SummaryValue } from '../../daemon/src/protocol/domain.ts';
import { h, runSwatch } from './dom.ts';
import { formatDuration, formatNumber } from './format.ts';
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

/** A key without its `train/` namespace (the daemon's canonical keys are TensorBoard's: `train/train_runtime`). */
export const bareKey = (key: string): string => key.replace(/^train\//, '');

/** A summary value as a number: NaN and ±Inf from the daemon's `special`. */
function summaryNumber(v: SummaryValue | null | undefined): number | null {
  if (!v) return null;
  if (v.special === 'nan') return NaN;
  if (v.special === 'inf') return Infinity;
  if (v.special === '-inf') return -Infinity;
  return v.value;
}

/** Every summary key: the daemon's summary values first, then `keys` (one-point series judged summary values here). */
export function allSummaryKeys(c: RunComparison, keys: readonly string[]): string[] {
  return [...new Set([...(c.summary ?? []).map((r) => r.key), ...keys])];
}

/** The rows for `keys`, each run's value: the daemon's summary value, else the series' last (and only) point. */
export function summaryRows(c: RunComparison, keys: readonly string[]): SummaryRow[] {
  const byKey = new Map(c.metrics.map((m) => [m.key, m]));
  const summaries = new Map((c.summary ?? []).map((r) => [r.key, r]));
  return keys.map((key) => ({
    key,
    meaning: MEANINGS[bareKey(key)] ?? null,
    cells: c.runs.map((r) => {
      const summary = summaries.get(key);
      const value = summary ? summaryNumber(summary.perRun[r.id]) : byKey.get(key)?.perRun[r.id]?.last ?? null;
      return { runId: r.id, value, text: formatSummaryValue(bareKey(key), value) };
    }),
  }));
}

function table(c: RunComparison, keys: readonly string[], runIndex: (runId: string) => number, label: string): HTMLElement {
  const head = h('tr', {}, h('th', { text: 'Summary value', attrs: { scope: 'col' } }),
    ...c.runs.map((r) => {
      return h('th', { attrs: { scope: 'col' }, title: r.id }, runSwatch(runIndex(r.id)), r.name);
    }));
  const body = h('tbody', {}, ...summaryRows(c, keys).map((row) => h('tr', { attrs: { 'data-key': row.key } },
    h('th', { attrs: { scope: 'row' }, title: row.key }, h('code', { text: bareKey(row.key) }), row.meaning ? h('span', { class: 'muted', text: ` ${row.meaning}` }) : null),
    ...row.cells.map((cell) => h('td', { class: 'num', text: cell.text, attrs: { 'data-run': cell.runId } })))));
  return h('div', { class: 'table-scroll' }, h('table', { class: 'grid summary-table', attrs: { 'aria-label': label } }, h('thead', {}, head), body));
}

/**
 * The table, or null when there are no summary values. Throughput and bookkeeping values
 * (memory deltas, sample counts, runtimes of eval splits) fold away under the main table,
 * except HF's own train summary.
 */
export function summaryTable(c: RunComparison, detected: readonly string[], runIndex: (runId: string) => number): HTMLElement | null {
  const keys = allSummaryKeys(c, detected);
  if (keys.length === 0) return null;
  const bookkeeping = (k: string): boolean => !HfSummaryKeys.has(bareKey(k)) && metricFamily(bareKey(k)) === 'Throughput and bookkeeping';
  const main = keys.filter((k) => !bookkeeping(k));
  const rest = keys.filter(bookkeeping);
  const more = rest.length === 0 ? null : h('details', { class: 'summary-more' },
    h('summary', { text: `${rest.length} more: throughput and bookkeeping` }), table(c, rest, runIndex, 'Throughput and bookkeeping values'));
  return h('section', { class: 'summary-values', attrs: { 'aria-label': 'End-of-run summary values' } },
    h('h3', { text: 'End of run' }), main.length ? table(c, main, runIndex, 'End-of-run summary values') : null, more);
}

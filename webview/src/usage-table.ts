/**
 * Each run's GPU time and cost (`runs/compare`'s usage) as a small table in the compare panel:
 * GPU-hours, cost (GPU-hours × the host's `--cost-per-hour`), wall time and attempts, one
 * column per run. Left out when the daemon sends no usage or no run has started.
 */
import type { RunComparison, RunUsage } from '../../daemon/src/protocol/domain.ts';
import { formatGpuHours } from '../../daemon/src/protocol/format.ts';
import { h, runSwatch } from './dom.ts';
import { formatDuration } from './format.ts';

export interface UsageRow {
  key: 'gpuHours' | 'cost' | 'wall' | 'attempts';
  label: string;
  meaning: string;
  cells: { runId: string; value: number | null; text: string }[];
}

/** The rows, or [] when there is nothing to show. The cost row only when some run's host has a cost per hour. */
export function usageRows(c: RunComparison): UsageRow[] {
  const usage = c.usage;
  if (!usage || !c.runs.some((r) => usage[r.id])) return [];
  const row = (key: UsageRow['key'], label: string, meaning: string, read: (u: RunUsage) => number | null, show: (v: number) => string): UsageRow => ({
    key, label, meaning,
    cells: c.runs.map((r) => {
      const u = usage[r.id];
      const value = u ? read(u) : null;
      return { runId: r.id, value, text: value === null ? '—' : show(value) };
    }),
  });
  const rows = [row('gpuHours', 'GPU-hours', 'wall time × GPUs, all attempts', (u) => u.gpuHours, formatGpuHours)];
  if (c.runs.some((r) => usage[r.id]?.cost != null)) rows.push(row('cost', 'cost', "GPU-hours × the host's cost per hour", (u) => u.cost, (v) => v.toFixed(2)));
  rows.push(row('wall', 'wall time', 'h:mm:ss, all attempts', (u) => u.seconds, formatDuration));
  rows.push(row('attempts', 'attempts', 'that started', (u) => u.attempts, String));
  return rows;
}

/** The table, or null when there is nothing to show. */
export function usageTable(c: RunComparison, runIndex: (runId: string) => number): HTMLElement | null {
  const rows = usageRows(c);
  if (rows.length === 0) return null;
  const head = h('tr', {}, h('th', { text: 'Usage', attrs: { scope: 'col' } }),
    ...c.runs.map((r) => {
      return h('th', { attrs: { scope: 'col' }, title: r.id }, runSwatch(runIndex(r.id)), r.name);
    }));
  const body = h('tbody', {}, ...rows.map((row) => h('tr', { attrs: { 'data-key': row.key } },
    h('th', { attrs: { scope: 'row' } }, row.label, h('span', { class: 'muted', text: ` ${row.meaning}` })),
    ...row.cells.map((cell) => h('td', { class: 'num', text: cell.text, attrs: { 'data-run': cell.runId } })))));
  return h('section', { class: 'usage-values', attrs: { 'aria-label': 'GPU time and cost' } },
    h('h3', { text: 'GPU time and cost' }),
    h('div', { class: 'table-scroll' }, h('table', { class: 'grid usage-table', attrs: { 'aria-label': 'GPU time and cost per run' } }, h('thead', {}, head), body)));
}

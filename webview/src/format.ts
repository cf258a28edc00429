/** Text for numbers, params and times, the same way in every section. */
import { formatBytes as formatBytesShared } from '../../daemon/src/protocol/format.ts';
import type { RunStatus } from '../../daemon/src/protocol/domain.ts';
import { PALETTE_SIZE } from './palette.ts';

/** The badge class of a run status (a Record, so a new status cannot be forgotten). */
const STATUS_CLASSES: Readonly<Record<RunStatus, string>> = {
  queued: 'status-idle', syncing: 'status-live', starting: 'status-live', running: 'status-live',
  // Not finished and not failed: ingestion stopped short; its reason is shown beside it.
  incomplete: 'status-warn',
  succeeded: 'status-ok', failed: 'status-bad', cancelled: 'status-idle', lost: 'status-bad',
};

/** The CSS class of a run's status badge. */
export function runStatusClass(status: RunStatus): string {
  return STATUS_CLASSES[status];
}

/** A metric or eval value: 4 significant digits, integers as they are, exponents for the very small/large. */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return v.toPrecision(4);
}

/** An axis tick: as short as it can be (`2e-4`, `1.5`, `12k` stays `12000`). */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return v.toExponential(2).replace(/\.?0+e/, 'e').replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}

/** A count with thousands separators: `1,000,000`. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A signed difference, e.g. `+0.1000` / `-2.000`. */
export function formatDelta(d: number): string {
  return (d > 0 ? '+' : d < 0 ? '−' : '±') + formatNumber(Math.abs(d));
}

/** A param value as a config would show it; `—` when the run has no such param. */
export function formatParam(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v === '' ? '""' : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Seconds as `h:mm:ss` (or `m:ss`). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  const s = Math.round(Math.abs(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  const sign = seconds < 0 ? '-' : '';
  return h > 0 ? `${sign}${h}:${String(m).padStart(2, '0')}:${sec}` : `${sign}${m}:${sec}`;
}

/** A run's place in the palette (palette.ts, 100 colours); runs past the 100th reuse colours, drawn dotted. */
export function runStyle(index: number): { colorIndex: number; dotted: boolean } {
  const colorIndex = index % PALETTE_SIZE;
  return { colorIndex, dotted: index >= PALETTE_SIZE };
}

/** How a chart line is drawn: an eval curve dashed, a run past the 100th colour dotted. */
export function lineDash(role: 'train' | 'eval' | 'only', dotted: boolean): number[] | undefined {
  if (role === 'eval') return dotted ? [8, 3, 2, 3] : [6, 4];
  return dotted ? [2, 3] : undefined;
}

/** A moment for people: `Nov 22, 2026, 11:54 AM` in the viewer's locale; `—` when unknown. */
export function formatDate(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) return '—';
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ms));
}

/** 47956 → `48.0 KB` (decimal units, as file managers show them); `—` for no size. */
export function formatBytes(bytes: unknown): string {
  return formatBytesShared(bytes, '—');
}

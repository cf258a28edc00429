/** Words and numbers on the run page. Pure. */
import { ago, duration, formatBytes } from '../../../daemon/src/protocol/format.ts';

/** A metric value: 4 significant digits, exponents for the very small and large, NaN and ±Inf named. */
export function num(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

/** 47956 → "48.0 KB"; "—" for no size. */
export function bytes(n: number | null | undefined): string {
  return formatBytes(n, '—');
}

export { ago, duration };

/** A launch-spec value as text: strings as they are, lists joined, the rest as JSON. */
export function specValue(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v === '' ? '""' : v;
  if (Array.isArray(v)) return v.length === 0 ? 'none' : v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('  ');
  return JSON.stringify(v);
}

/** `effectiveConfigHash` → "effective config hash". */
export function specLabel(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/_/g, ' ').toLowerCase();
}

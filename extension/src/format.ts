/** Small, pure formatters for labels in views, pickers and messages. */

/** 47956 → "48.0 KB" (decimal units, like file managers). */
export function formatBytes(bytes: number | null): string {
  if (bytes === null || !Number.isFinite(bytes) || bytes < 0) return '?';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** A metric value: 4 significant digits, plain for ordinary sizes, exponent for tiny/huge ones. */
export function formatValue(value: number | null): string {
  if (value === null) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e6 || abs < 1e-3) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

/** How long ago `at` was, coarsely: "just now", "5 min ago", "3 h ago", "2 d ago". */
export function ago(at: number, now: number = Date.now()): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

/** A duration: "42 s", "3 min 5 s", "2 h 10 min". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** `sha256:abcdef…` → `abcdef12` (the first 8 hex digits). */
export function shortHash(hash: string | null): string {
  if (!hash) return '?';
  return hash.replace(/^\w+:/, '').slice(0, 8);
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** Terminal text: CRLF line ends, as a pseudoterminal needs (a lone CR is left alone for progress bars). */
export function toTerminalText(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

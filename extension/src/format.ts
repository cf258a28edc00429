/** Small, pure formatters for labels in views, pickers and messages. */
export { ago, duration, formatBytes, formatGpuHours, usageLine } from '../../daemon/src/protocol/format.ts';

/** A metric value: 4 significant digits, plain for ordinary sizes, exponent for tiny/huge ones. */
export function formatValue(value: number | null): string {
  if (value === null) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e6 || abs < 1e-3) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
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

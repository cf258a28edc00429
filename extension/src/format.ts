/** Small, pure formatters for labels in views, pickers and messages. */
import { plural } from '../../daemon/src/protocol/format.ts';
import { gresGpuCount } from '../../daemon/src/protocol/index.ts';

export { ago, duration, formatBytes, formatGpuHours, usageLine } from '../../daemon/src/protocol/format.ts';
export { plural };

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

/** A Slurm partition's GRES as people read it: "4 GPUs per node (gpu:4)", "no GPUs" (none, or `(null)`). */
export function gresText(gres: string): string {
  const n = gresGpuCount(gres);
  return n > 0 ? `${plural(n, 'GPU')} per node (${gres})` : 'no GPUs';
}

/** Terminal text: CRLF line ends, as a pseudoterminal needs (a lone CR is left alone for progress bars). */
export function toTerminalText(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

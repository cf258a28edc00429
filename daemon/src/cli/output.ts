/**
 * Printing for the CLI: aligned tables for people, stable JSON for programs.
 *
 * Everything printed for people goes through here, and user- or tool-supplied text (run
 * names, metric keys, paths, reasons, messages) may hold control characters: an ESC that
 * clears the screen or retitles the terminal, a BEL, a carriage return that hides what came
 * before it. Those are shown as visible escapes (`\e`, `\a`, `\x01`, `\u009b`), never sent
 * raw. JSON output is left as it is (JSON escapes C0 itself; programs read it). `keel logs`
 * is the one exception: it prints the job's own output, colours included (see logsCommand).
 */

/** C0 controls but tab and newline, DEL, C1 controls, and the bidi overrides that reorder what is shown. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** The same plus tab and newline, for one-line places (table cells, key/value values). */
const CONTROL_INLINE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\x1b': '\\e', '\x07': '\\a', '\b': '\\b', '\r': '\\r', '\n': '\\n', '\t': '\\t', '\f': '\\f', '\v': '\\v', '\0': '\\0' };

function escapeControl(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with control characters shown as escapes; newlines and tabs are kept. */
export function visible(text: string): string {
  return text.replace(CONTROL, escapeControl);
}

/** `text` for one line (a table cell, a value): newlines and tabs are shown as escapes too. */
export function visibleInline(text: string): string {
  return text.replace(CONTROL_INLINE, escapeControl);
}

/** Writes text for people to stdout, control characters made visible. */
export function print(text: string): void {
  process.stdout.write(visible(text));
}

/** Writes text for people to stderr, control characters made visible. */
export function printError(text: string): void {
  process.stderr.write(visible(text));
}

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | null | undefined;
  align?: 'left' | 'right';
}

/** Renders rows as an aligned text table (no trailing spaces); cells and headers are made visible. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => {
    const v = c.value(r);
    return v === null || v === undefined ? '-' : visibleInline(String(v));
  }));
  const headers = columns.map((c) => visibleInline(c.header));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (parts: string[]): string =>
    parts.map((p, i) => (columns[i]?.align === 'right' ? p.padStart(widths[i] ?? 0) : p.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}

/** Key/value lines, aligned; values are made visible (one line each). */
export function keyValues(pairs: readonly [string, string | number | null | undefined][]): string {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(w)}  ${v === null || v === undefined ? '-' : visibleInline(String(v))}`).join('\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h ${m % 60}m` : `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function ago(ms: number, now = Date.now()): string {
  return `${duration(Math.max(0, now - ms))} ago`;
}

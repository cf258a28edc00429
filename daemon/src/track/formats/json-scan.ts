/**
 * Finding where one JSON value ends in text that arrives in pieces, without parsing it: the
 * streaming trainer_state reader cuts each log_history entry out this way and parses only
 * that entry. The scan remembers where it stopped, so a value split across many pieces is
 * scanned once, and it never recurses (100,000 nested brackets are just a counter).
 *
 * It checks only what it needs to find the end (quotes, escapes, bracket depth); the parser
 * that reads the cut-out value reports every other mistake.
 */

/** A scan of one value, resumable when the text so far ends inside it. */
export interface ValueScan {
  /** Index in the text where the value starts. */
  start: number;
  /** Where to continue scanning. */
  pos: number;
  /** Open brackets and braces. */
  depth: number;
  inString: boolean;
}

/** A new scan of the value starting at `start`. */
export function startScan(start: number): ValueScan {
  return { start, pos: start, depth: 0, inString: false };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Continues `scan` over `text`. Returns the index just past the value, or -1 when the text
 * ends first (more may come; at the end of input pass `eof` and a bare scalar ends there).
 */
export function scanValueEnd(text: string, scan: ValueScan, eof: boolean): number {
  let i = scan.pos;
  const n = text.length;
  if (scan.depth === 0 && !scan.inString) {
    const c = text.charCodeAt(i);
    if (i >= n) return -1;
    if (c !== 0x7b && c !== 0x5b && c !== QUOTE) return scanScalar(text, scan, eof);
  }
  while (i < n) {
    if (scan.inString) {
      const close = stringEnd(text, i);
      if (close < 0) {
        // Resume where a trailing run of backslashes starts: the next piece's first quote
        // may be escaped by it, so the run must be counted again then.
        let p = n;
        while (p > i && text.charCodeAt(p - 1) === BACKSLASH) p--;
        scan.pos = p;
        return -1;
      }
      i = close + 1;
      scan.inString = false;
      if (scan.depth === 0) return i;
      continue;
    }
    const c = text.charCodeAt(i);
    if (c === QUOTE) scan.inString = true;
    else if (c === 0x7b || c === 0x5b) scan.depth++;
    else if (c === 0x7d || c === 0x5d) {
      scan.depth--;
      if (scan.depth <= 0) return i + 1;
    }
    i++;
  }
  scan.pos = i;
  return -1;
}

/** Index of the quote that closes a string whose body continues at `from` (never inside a backslash run), or -1. */
function stringEnd(text: string, from: number): number {
  let i = from;
  for (;;) {
    const q = text.indexOf('"', i);
    if (q < 0) return -1;
    let slashes = 0;
    for (let j = q - 1; j >= from && text.charCodeAt(j) === BACKSLASH; j--) slashes++;
    if (slashes % 2 === 0) return q;
    i = q + 1;
  }
}

/** A number or a literal (true, NaN, -Infinity …): it ends at the first delimiter. */
function scanScalar(text: string, scan: ValueScan, eof: boolean): number {
  let i = scan.pos;
  const n = text.length;
  while (i < n && !isDelimiter(text.charCodeAt(i))) i++;
  if (i < n || eof) return i;
  scan.pos = i;
  return -1;
}

function isDelimiter(c: number): boolean {
  return c === 0x2c || c === 0x7d || c === 0x5d || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x3a;
}

/** Index of the first character at or after `from` that is not JSON whitespace. */
export function skipSpace(text: string, from: number): number {
  let i = from;
  for (let c = text.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++i));
  return i;
}

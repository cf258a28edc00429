/**
 * JSON as Python writes it. `json.dumps` emits bare `NaN`, `Infinity` and `-Infinity`, which
 * `JSON.parse` rejects, and metric files are read while their writer is still busy. So:
 * the native parser runs first (fast, and almost every file is plain JSON); only when it
 * refuses do we re-read the text with a small parser that accepts the Python literals
 * (outside strings only) and explains failures with a line, a column and whether the text
 * merely stops early (still being written) or is broken.
 */
import { FormatError } from './types.ts';

/** Nesting deeper than this is refused instead of overflowing the stack. */
const MAX_DEPTH = 2000;

/**
 * Parses JSON text that may contain Python's `NaN`, `Infinity` and `-Infinity`.
 * Throws {@link FormatError} (`E_TRUNCATED` when the text ends early or is empty,
 * `E_MALFORMED` otherwise) naming `source` and the line/column of the problem.
 */
export function parseTolerantJson(text: string, source?: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // A throw costs more than reading a small text ourselves: when Python's literals are
  // probably there (every log_history entry of a run whose grad_norm is NaN), skip the try.
  if (body.length < 4096 && (body.includes('NaN') || body.includes('Infinity'))) return new PythonJsonReader(body, source).document();
  try {
    return JSON.parse(body) as unknown;
  } catch {
    // Not plain JSON: Python literals, an unfinished write, or real damage. Read it ourselves.
  }
  return new PythonJsonReader(body, source).document();
}

/** Recursive-descent reader; only used when `JSON.parse` refuses the text. */
class PythonJsonReader {
  private readonly text: string;
  private readonly source: string | undefined;
  private pos = 0;
  private depth = 0;
  /** Offset of the next backslash at or after the last string start; -1 when there is none. */
  private nextBackslash = 0;

  constructor(text: string, source: string | undefined) {
    this.text = text;
    this.source = source;
  }

  document(): unknown {
    this.skipSpace();
    if (this.pos >= this.text.length) throw this.fail('the file is empty');
    const value = this.value();
    this.skipSpace();
    if (this.pos < this.text.length) throw this.fail('unexpected text after the end of the JSON value', 'E_MALFORMED');
    return value;
  }

  private value(): unknown {
    const c = this.text.charCodeAt(this.pos);
    if (c === 0x7b /* { */) return this.object();
    if (c === 0x5b /* [ */) return this.array();
    if (c === 0x22 /* " */) return this.string();
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c === 0x74) return this.literal('true', true);
    if (c === 0x66) return this.literal('false', false);
    if (c === 0x6e) return this.literal('null', null);
    if (c === 0x4e) return this.literal('NaN', NaN);
    if (c === 0x49) return this.literal('Infinity', Infinity);
    throw this.fail(this.pos >= this.text.length ? 'the text ends where a value should start' : `unexpected ${this.describeHere()}`);
  }

  private object(): Record<string, unknown> {
    this.enter();
    this.pos++; // {
    const out: Record<string, unknown> = {};
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== 0x22) throw this.fail(`expected a quoted key, found ${this.describeHere()}`);
      const key = this.string();
      this.skipSpace();
      this.expect(0x3a, "':' after an object key");
      this.skipSpace();
      setOwn(out, key, this.value());
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c === 0x7d) break;
      if (c !== 0x2c) {
        this.pos--;
        throw this.fail(`expected ',' or '}' in an object, found ${this.describeHere()}`);
      }
    }
    this.depth--;
    return out;
  }

  private array(): unknown[] {
    this.enter();
    this.pos++; // [
    const out: unknown[] = [];
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      this.skipSpace();
      out.push(this.value());
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c === 0x5d) break;
      if (c !== 0x2c) {
        this.pos--;
        throw this.fail(`expected ',' or ']' in an array, found ${this.describeHere()}`);
      }
    }
    this.depth--;
    return out;
  }

  private string(): string {
    const start = this.pos;
    const close = this.text.indexOf('"', start + 1);
    if (close < 0) {
      this.pos = this.text.length;
      throw this.fail('the text ends inside a string');
    }
    // Remember where the next backslash is: searching afresh for every string is quadratic
    // on big files that have none.
    if (this.nextBackslash !== -1 && this.nextBackslash <= start) this.nextBackslash = this.text.indexOf('\\', start + 1);
    if (this.nextBackslash === -1 || this.nextBackslash > close) {
      // No escapes: the common case for keys and paths.
      this.pos = close + 1;
      return this.text.slice(start + 1, close);
    }
    let i = start + 1;
    for (; i < this.text.length; i++) {
      const c = this.text.charCodeAt(i);
      if (c === 0x5c) i++;
      else if (c === 0x22) break;
    }
    if (i >= this.text.length) {
      this.pos = this.text.length;
      throw this.fail('the text ends inside a string');
    }
    this.pos = i + 1;
    try {
      return JSON.parse(this.text.slice(start, i + 1)) as string;
    } catch {
      this.pos = start;
      throw this.fail('bad escape or control character in a string', 'E_MALFORMED');
    }
  }

  private number(): number {
    const t = this.text;
    const start = this.pos;
    if (t.charCodeAt(start) === 0x2d && t.charCodeAt(start + 1) === 0x49) {
      this.pos++;
      return -this.literal('Infinity', Infinity);
    }
    let i = t.charCodeAt(start) === 0x2d ? start + 1 : start;
    const intStart = i;
    if (t.charCodeAt(i) === 0x30) i++;
    else i = skipDigits(t, i);
    if (i === intStart) return this.badNumber(i);
    if (t.charCodeAt(i) === 0x2e) {
      const fraction = ++i;
      i = skipDigits(t, i);
      if (i === fraction) return this.badNumber(i);
    }
    const e = t.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const sign = t.charCodeAt(i);
      if (sign === 0x2b || sign === 0x2d) i++;
      const exponent = i;
      i = skipDigits(t, i);
      if (i === exponent) return this.badNumber(i);
    }
    this.pos = i;
    return Number(t.slice(start, i));
  }

  /** A number cut by the end of the text ("-", "1.", "1e+") is unfinished; anything else is wrong. */
  private badNumber(at: number): never {
    this.pos = at;
    throw this.fail(at >= this.text.length ? 'the text ends inside a number' : `bad number at ${this.describeHere()}`);
  }

  private literal<T>(word: string, value: T): T {
    if (this.text.startsWith(word, this.pos)) {
      this.pos += word.length;
      return value;
    }
    const rest = this.text.slice(this.pos);
    if (rest.length < word.length && word.startsWith(rest)) {
      this.pos = this.text.length;
      throw this.fail(`the text ends inside '${word}'`);
    }
    throw this.fail(`unexpected ${this.describeHere()}`, 'E_MALFORMED');
  }

  private expect(code: number, what: string): void {
    if (this.text.charCodeAt(this.pos) !== code) throw this.fail(`expected ${what}, found ${this.describeHere()}`);
    this.pos++;
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw this.fail(`nesting deeper than ${MAX_DEPTH} levels`, 'E_MALFORMED');
  }

  private skipSpace(): void {
    const t = this.text;
    let p = this.pos;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.pos = p;
  }

  private describeHere(): string {
    if (this.pos >= this.text.length) return 'the end of the text';
    return `'${this.text.slice(this.pos, this.pos + 12).split('\n')[0] ?? ''}'`;
  }

  /** Builds the error; reaching the end of the text means "unfinished", anything else "broken". */
  private fail(message: string, code?: 'E_TRUNCATED' | 'E_MALFORMED'): FormatError {
    const atEnd = this.pos >= this.text.length;
    const finalCode = code ?? (atEnd ? 'E_TRUNCATED' : 'E_MALFORMED');
    const { line, column } = lineAndColumn(this.text, Math.min(this.pos, this.text.length));
    const hint = finalCode === 'E_TRUNCATED' ? ' (the file may still be being written)' : '';
    return new FormatError(finalCode, `${finalCode === 'E_TRUNCATED' ? 'unfinished' : 'malformed'} JSON: ${message}${hint}`, {
      ...(this.source === undefined ? {} : { source: this.source }),
      line,
      column,
    });
  }
}

function skipDigits(text: string, from: number): number {
  let i = from;
  for (let c = text.charCodeAt(i); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++i));
  return i;
}

/** Assigns without letting a `"__proto__"` key change the object's prototype (as JSON.parse does). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** 1-based line and column of a UTF-16 offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

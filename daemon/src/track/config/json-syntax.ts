/**
 * Where a JSON text goes wrong. `JSON.parse` names a position for some mistakes but not for
 * others (`Unexpected token '}', "{"a": }" is not valid JSON`), and users need a line and
 * column, so a failed parse is re-scanned here to find the first bad character.
 */

/** The first syntax error in `text`: its 0-based offset and a short reason. */
export interface JsonSyntaxError {
  offset: number;
  reason: string;
}

class Stop extends Error {
  readonly offset: number;
  readonly reason: string;
  constructor(offset: number, reason: string) {
    super(reason);
    this.offset = offset;
    this.reason = reason;
  }
}

const MAX_DEPTH = 512;

/** Scans `text` as strict JSON; returns the first error, or undefined when it is valid. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const scanner = new JsonScanner(text);
  try {
    scanner.document();
    return undefined;
  } catch (error) {
    if (error instanceof Stop) return { offset: error.offset, reason: error.reason };
    throw error;
  }
}

/** A recursive-descent reader of the JSON grammar that stops at the first mistake. */
class JsonScanner {
  private readonly text: string;
  private i = 0;

  constructor(text: string) {
    this.text = text;
  }

  document(): void {
    this.value(0);
    this.skipSpace();
    if (this.i < this.text.length) this.fail(`unexpected ${this.what()} after the end of the JSON value`);
  }

  private fail(reason: string): never {
    throw new Stop(this.i, reason);
  }

  private what(): string {
    return this.i >= this.text.length ? 'end of file' : JSON.stringify(this.text[this.i]);
  }

  private skipSpace(): void {
    while (this.i < this.text.length && ' \t\n\r'.includes(this.text[this.i] ?? '')) this.i++;
  }

  private value(depth: number): void {
    if (depth > MAX_DEPTH) this.fail('nested too deeply');
    this.skipSpace();
    const ch = this.text[this.i];
    if (ch === '{') this.container(depth, '}', true);
    else if (ch === '[') this.container(depth, ']', false);
    else if (ch === '"') this.string();
    else if (ch === 't') this.literal('true');
    else if (ch === 'f') this.literal('false');
    else if (ch === 'n') this.literal('null');
    else if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) this.number();
    else this.fail(`unexpected ${this.what()}, expected a value`);
  }

  private container(depth: number, close: string, keyed: boolean): void {
    this.i++;
    this.skipSpace();
    if (this.text[this.i] === close) {
      this.i++;
      return;
    }
    for (;;) {
      if (keyed) this.key();
      this.value(depth + 1);
      this.skipSpace();
      if (this.text[this.i] === close) {
        this.i++;
        return;
      }
      if (this.text[this.i] !== ',') this.fail(`unexpected ${this.what()}, expected "," or "${close}"`);
      this.i++;
    }
  }

  private key(): void {
    this.skipSpace();
    if (this.text[this.i] !== '"') this.fail(`unexpected ${this.what()}, expected a double-quoted property name`);
    this.string();
    this.skipSpace();
    if (this.text[this.i] !== ':') this.fail(`unexpected ${this.what()}, expected ":"`);
    this.i++;
  }

  private literal(word: string): void {
    if (!this.text.startsWith(word, this.i)) this.fail(`unexpected ${this.what()}`);
    this.i += word.length;
  }

  private string(): void {
    const text = this.text;
    this.i++;
    while (this.i < text.length && text[this.i] !== '"') {
      if (text.charCodeAt(this.i) < 0x20) this.fail('control character in string (newlines must be written \\n)');
      if (text[this.i] === '\\') {
        this.i++;
        if (text[this.i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(this.i + 1, this.i + 5))) this.fail('bad \\u escape');
          this.i += 4;
        } else if (this.i >= text.length || !'"\\/bfnrt'.includes(text[this.i] ?? 'x')) {
          this.fail('bad escape in string');
        }
      }
      this.i++;
    }
    if (this.i >= text.length) this.fail('unterminated string');
    this.i++;
  }

  private number(): void {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.i, this.i + 400));
    if (!match || match[0] === '-') this.fail(`unexpected ${this.what()}`);
    this.i += match[0].length;
  }
}

/** 1-based line and column of a 0-based offset. */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let index = text.indexOf('\n'); index >= 0 && index < offset; index = text.indexOf('\n', index + 1)) {
    line++;
    lineStart = index + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

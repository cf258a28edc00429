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

class Stop {
  readonly offset: number;
  readonly reason: string;
  constructor(offset: number, reason: string) {
    this.offset = offset;
    this.reason = reason;
  }
}

const MAX_DEPTH = 512;

/** Scans `text` as strict JSON; returns the first error, or undefined when it is valid. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  const fail = (reason: string): never => {
    throw new Stop(i, reason);
  };
  const what = (): string => (i >= text.length ? 'end of file' : `${JSON.stringify(text[i])}`);
  const skipSpace = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] ?? '')) i++;
  };
  const literal = (word: string): void => {
    if (!text.startsWith(word, i)) fail(`unexpected ${what()}`);
    i += word.length;
  };
  const string = (): void => {
    i++;
    while (i < text.length && text[i] !== '"') {
      const ch = text.charCodeAt(i);
      if (ch < 0x20) fail('control character in string (newlines must be written \\n)');
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('bad \\u escape');
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x') || i >= text.length) fail('bad escape in string');
      }
      i++;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
  };
  const number = (): void => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!match || match[0] === '-') fail(`unexpected ${what()}`);
    i += match?.[0].length ?? 0;
  };
  const value = (depth: number): void => {
    if (depth > MAX_DEPTH) fail('nested too deeply');
    skipSpace();
    const ch = text[i];
    if (ch === '{') container(depth, '}', true);
    else if (ch === '[') container(depth, ']', false);
    else if (ch === '"') string();
    else if (ch === 't') literal('true');
    else if (ch === 'f') literal('false');
    else if (ch === 'n') literal('null');
    else if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) number();
    else fail(`unexpected ${what()}, expected a value`);
  };
  const container = (depth: number, close: string, keyed: boolean): void => {
    i++;
    skipSpace();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      if (keyed) {
        skipSpace();
        if (text[i] !== '"') fail(`unexpected ${what()}, expected a double-quoted property name`);
        string();
        skipSpace();
        if (text[i] !== ':') fail(`unexpected ${what()}, expected ":"`);
        i++;
      }
      value(depth + 1);
      skipSpace();
      if (text[i] === close) {
        i++;
        return;
      }
      if (text[i] !== ',') fail(`unexpected ${what()}, expected "," or "${close}"`);
      i++;
    }
  };
  try {
    value(0);
    skipSpace();
    if (i < text.length) fail(`unexpected ${what()} after the end of the JSON value`);
    return undefined;
  } catch (error) {
    if (error instanceof Stop) return { offset: error.offset, reason: error.reason };
    throw error;
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

/**
 * torchtune `DiskLogger` files, `<log_dir>/log_<unix seconds>.txt`. Each `log_dict` call writes
 * `Step {step} | ` then `{name}:{value} ` per metric (note the trailing space) then a newline;
 * each `log` call writes `Step {step} | {name}:{value}`. Values are Python `str()` of floats
 * (`1.5`, `1e-05`, `nan`, `inf`), ints, or tensors (`tensor(0.5000, device='cuda:0')`).
 */
import { forEachCompleteLine, readLinesFromFile } from './line-cursor.ts';
import type { ByteCursor, FileReadResult, LineParseOptions, LineParseResult, ReadOptions } from './line-cursor.ts';
import type { ParseIssue, ParsedPoint } from './types.ts';

const LINE = /^Step (\d+) \|(.*)$/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL = new Map<string, number>([
  ['nan', NaN], ['+nan', NaN], ['-nan', NaN],
  ['inf', Infinity], ['+inf', Infinity], ['infinity', Infinity], ['-inf', -Infinity], ['-infinity', -Infinity],
]);
const LOG_NAME = /^log_(\d+)\.txt$/;

/** True for a DiskLogger file name (`log_1718000000.txt`). */
export function isTorchtuneLogFile(fileName: string): boolean {
  return LOG_NAME.test(fileName.split(/[\\/]/).pop() ?? '');
}

/** The Unix time (seconds) the DiskLogger put in the file name, i.e. when logging started. */
export function torchtuneLogStartTime(fileName: string): number | undefined {
  const m = LOG_NAME.exec(fileName.split(/[\\/]/).pop() ?? '');
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/**
 * Parses the complete lines of `text` (a slice of a DiskLogger file starting at line
 * `firstLineNo`). Numeric values become points (NaN/±Infinity kept); other values and
 * lines not in the `Step N | …` form become issues. A trailing line without a newline is left
 * unconsumed (the writer emits a line in pieces) unless `options.flushTail`.
 */
export function parseTorchtuneLog(text: string, firstLineNo: number, options: LineParseOptions = {}): LineParseResult {
  const points: ParsedPoint[] = [];
  const issues: ParseIssue[] = [];
  const consumed = forEachCompleteLine(text, firstLineNo, options.flushTail === true, (line, lineNo) => {
    parseLine(line, lineNo, points, issues);
  });
  return { points, issues, ...consumed };
}

/**
 * Reads new complete lines of a growing DiskLogger file from `cursor`, in bounded chunks.
 * Call again with the returned cursor (at once while `more` is true, later when the file grows).
 */
export function readTorchtuneLogFile(path: string, cursor: ByteCursor, options?: ReadOptions): Promise<FileReadResult> {
  return readLinesFromFile(path, cursor, parseTorchtuneLog, options);
}

function parseLine(line: string, lineNo: number, points: ParsedPoint[], issues: ParseIssue[]): void {
  if (line.trim() === '') return;
  const m = LINE.exec(line);
  if (m === null || m[1] === undefined || m[2] === undefined) {
    issues.push({ line: lineNo, message: `not a "Step N | name:value …" line; skipped` });
    return;
  }
  const step = Number(m[1]);
  for (const token of splitPairs(m[2])) {
    const colon = lastTopLevelColon(token);
    if (colon <= 0) {
      issues.push({ line: lineNo, message: `"${token}" is not name:value; skipped` });
      continue;
    }
    const key = token.slice(0, colon);
    const value = parseValue(token.slice(colon + 1));
    if (value === undefined) issues.push({ line: lineNo, message: `${key} is not a number ("${token.slice(colon + 1)}"); skipped` });
    else points.push({ step, key, value });
  }
}

/** Splits on spaces outside brackets, so `tensor(0.5, device='cuda:0')` stays one token. */
function splitPairs(rest: string): string[] {
  const tokens: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= rest.length; i++) {
    const c = rest[i];
    if (c === '(' || c === '[') depth++;
    else if ((c === ')' || c === ']') && depth > 0) depth--;
    else if (i === rest.length || (c === ' ' && depth === 0)) {
      if (i > start) tokens.push(rest.slice(start, i));
      start = i + 1;
    }
  }
  return tokens;
}

/** The name/value separator: the last `:` outside brackets (a name may contain `:`; a number can't). */
function lastTopLevelColon(token: string): number {
  let depth = 0;
  let found = -1;
  for (let i = 0; i < token.length; i++) {
    const c = token[i];
    if (c === '(' || c === '[') depth++;
    else if ((c === ')' || c === ']') && depth > 0) depth--;
    else if (c === ':' && depth === 0) found = i;
  }
  return found;
}

/** A Python float/int string, `nan`/`inf`, or a scalar tensor repr; undefined otherwise. */
function parseValue(raw: string): number | undefined {
  const tensor = /^tensor\(\s*([^,()[\]\s]+)\s*(?:,.*)?\)$/.exec(raw);
  const text = tensor?.[1] ?? raw;
  if (FLOAT.test(text)) return Number(text);
  return SPECIAL.get(text.toLowerCase());
}

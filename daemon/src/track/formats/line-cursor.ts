/**
 * Incremental reading of line-oriented metric logs that only grow (`metrics.jsonl`, torchtune
 * `log_<unix>.txt`). A byte cursor remembers how far complete lines were read; a trailing line
 * without its newline is left for the next read because the writer may be mid-line. Files are
 * read in bounded chunks so a multi-GB log never sits in memory whole.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { ParseIssue, ParsedPoint } from './types.ts';

/** Where the next read of a growing file starts. Start with {@link startCursor}. */
export interface ByteCursor {
  /** Byte offset of the first unread byte; always the start of a line. */
  offset: number;
  /** Lines consumed so far, so the next line is number `line + 1`. */
  line: number;
  /** Set while skipping the rest of an over-long line whose end has not been written yet. */
  discardingLongLine?: boolean;
}

/** What a text parser made of the complete lines it was given. */
export interface LineParseResult {
  points: ParsedPoint[];
  /** UTF-8 bytes of the lines consumed: complete lines only, unless `flushTail` was set. */
  consumedBytes: number;
  consumedLines: number;
  issues: ParseIssue[];
}

/** Options shared by the line-oriented text parsers. */
export interface LineParseOptions {
  /**
   * Also take a last line that has no newline yet. Only for a file known to be finished (the
   * writer exited or it has been quiet for long): a live writer may still be mid-line.
   */
  flushTail?: boolean;
}

/** A line-oriented text parser, e.g. `parseMetricsJsonl`. */
export type LineTextParser = (text: string, firstLineNo: number, options?: LineParseOptions) => LineParseResult;

/** Limits for {@link readLinesFromFile}. */
export interface ReadOptions extends LineParseOptions {
  /** Stop after about this many bytes (the caller calls again while `more` is true). Default 16 MiB. */
  maxBytes?: number;
  /** Size of each read. Default 1 MiB. */
  chunkBytes?: number;
  /** A line longer than this is skipped with an issue. Default 16 MiB. */
  maxLineBytes?: number;
}

/** Result of one incremental read. */
export interface FileReadResult {
  points: ParsedPoint[];
  issues: ParseIssue[];
  /** Pass this to the next read. */
  cursor: ByteCursor;
  /** True when the byte budget ran out before the end of the file: call again. */
  more: boolean;
  /** True when the file had shrunk below the cursor (rewritten), so it was read again from the start. */
  restarted: boolean;
}

/** The cursor for a file not read yet. */
export function startCursor(): ByteCursor {
  return { offset: 0, line: 0 };
}

/**
 * Calls `onLine` for every complete line of `text` (line numbers start at `firstLineNo`; a
 * trailing `\r` is removed) and reports how much was consumed. An unterminated last line is
 * left alone unless `flushTail` is set.
 */
export function forEachCompleteLine(
  text: string,
  firstLineNo: number,
  flushTail: boolean,
  onLine: (line: string, lineNo: number) => void,
): { consumedBytes: number; consumedLines: number } {
  let start = 0;
  let lineNo = firstLineNo;
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
    const end = nl > start && text.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl;
    onLine(text.slice(start, end), lineNo++);
    start = nl + 1;
  }
  if (flushTail && start < text.length) {
    const tail = text.slice(start);
    onLine(tail.endsWith('\r') ? tail.slice(0, -1) : tail, lineNo++);
    start = text.length;
  }
  const consumedBytes = start === text.length ? Buffer.byteLength(text) : Buffer.byteLength(text.slice(0, start));
  return { consumedBytes, consumedLines: lineNo - firstLineNo };
}

/**
 * Reads complete lines of `path` from `cursor` with `parse`, in chunks, up to about
 * `maxBytes`. Rejects only when the file cannot be opened or read (e.g. ENOENT).
 */
export async function readLinesFromFile(path: string, cursor: ByteCursor, parse: LineTextParser, options: ReadOptions = {}): Promise<FileReadResult> {
  const file = await open(path, 'r');
  try {
    const size = (await file.stat()).size;
    const restarted = size < cursor.offset;
    const state: ReadState = restarted
      ? { offset: 0, line: 0, discarding: false }
      : { offset: cursor.offset, line: cursor.line, discarding: cursor.discardingLongLine === true };
    const out: FileReadResult = { points: [], issues: [], cursor, more: false, restarted };
    const { readPos, pending } = await consumeLines(file, size, state, out, parse, options);
    if (options.flushTail === true && readPos >= size && pending.length > 0 && !state.discarding) {
      const result = parse(pending.toString('utf8'), state.line + 1, { flushTail: true });
      take(out, state, result, result.consumedBytes);
    }
    out.more = readPos < size;
    out.cursor = { offset: state.offset, line: state.line, ...(state.discarding ? { discardingLongLine: true } : {}) };
    return out;
  } finally {
    await file.close();
  }
}

interface ReadState {
  offset: number;
  line: number;
  discarding: boolean;
}

/** The chunk loop: parses every complete line it reaches and returns how far it read and the unfinished tail. */
async function consumeLines(
  file: FileHandle,
  size: number,
  state: ReadState,
  out: FileReadResult,
  parse: LineTextParser,
  options: ReadOptions,
): Promise<{ readPos: number; pending: Buffer }> {
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  const chunkBytes = options.chunkBytes ?? 1024 * 1024;
  const maxLineBytes = options.maxLineBytes ?? 16 * 1024 * 1024;
  const startOffset = state.offset;
  let readPos = state.offset;
  let pending: Buffer = Buffer.alloc(0);
  // Keep going past the budget until at least one line is taken, so a long line cannot stall.
  while (readPos < size && (readPos - startOffset < maxBytes || state.offset === startOffset)) {
    const chunk = Buffer.allocUnsafe(Math.min(chunkBytes, size - readPos));
    const { bytesRead } = await file.read(chunk, 0, chunk.length, readPos);
    if (bytesRead === 0) break;
    readPos += bytesRead;
    const data = skipRestOfLongLine(pending.length > 0 ? Buffer.concat([pending, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead), state);
    const lastNl = data.lastIndexOf(0x0a);
    // Splitting at a newline byte never cuts a UTF-8 character in two.
    if (lastNl >= 0) take(out, state, parse(data.subarray(0, lastNl + 1).toString('utf8'), state.line + 1), lastNl + 1);
    pending = data.subarray(lastNl + 1);
    if (pending.length > maxLineBytes) {
      out.issues.push({ line: state.line + 1, message: `line longer than ${maxLineBytes} bytes; skipped` });
      state.offset += pending.length;
      state.discarding = true;
      pending = Buffer.alloc(0);
    }
  }
  return { readPos, pending };
}

/** While skipping an over-long line, drops bytes up to and including its newline. */
function skipRestOfLongLine(data: Buffer, state: ReadState): Buffer {
  if (!state.discarding) return data;
  const nl = data.indexOf(0x0a);
  if (nl < 0) {
    state.offset += data.length;
    return Buffer.alloc(0);
  }
  state.offset += nl + 1;
  state.line++;
  state.discarding = false;
  return data.subarray(nl + 1);
}

function take(out: FileReadResult, state: { offset: number; line: number }, result: LineParseResult, bytes: number): void {
  for (const p of result.points) out.points.push(p);
  for (const i of result.issues) out.issues.push(i);
  state.offset += bytes;
  state.line += result.consumedLines;
}

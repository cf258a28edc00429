/**
 * Splits a byte stream into lines without decoding it first: a line is cut at `\n` bytes, so
 * a multi-byte UTF-8 character split across two chunks stays whole. A line longer than the cap
 * is skipped (and reported) instead of being buffered, so one runaway line cannot exhaust memory.
 */

/** Lines longer than this are reported and skipped. */
export const MAX_LINE_BYTES = 32 * 1024 * 1024;

/** Receives each line (without `\n` or a trailing `\r`) and its 1-based number. */
export interface LineSink {
  line(bytes: Buffer, lineNumber: number): void;
  tooLong(lineNumber: number): void;
}

/** A push-based line splitter; call {@link push} per chunk, then {@link end}. */
export class LineSplitter {
  private readonly sink: LineSink;
  private readonly maxLineBytes: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private skipping = false;
  private lineNumber = 0;
  private first = true;

  constructor(sink: LineSink, maxLineBytes = MAX_LINE_BYTES) {
    this.sink = sink;
    this.maxLineBytes = maxLineBytes;
  }

  push(chunk: Buffer): void {
    let data = chunk;
    if (this.first) {
      this.first = false;
      // A UTF-8 byte order mark is not part of the first record.
      if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) data = data.subarray(3);
    }
    let start = 0;
    for (let newline = data.indexOf(0x0a, start); newline >= 0; newline = data.indexOf(0x0a, start)) {
      this.finishLine(data.subarray(start, newline));
      start = newline + 1;
    }
    this.keep(data.subarray(start));
  }

  /** Flushes a last line that has no trailing newline. */
  end(): void {
    if (this.pendingBytes > 0 || this.skipping) this.finishLine(Buffer.alloc(0));
  }

  private keep(part: Buffer): void {
    if (part.length === 0 || this.skipping) return;
    if (this.pendingBytes + part.length > this.maxLineBytes) {
      this.skipping = true;
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    // Copy: a small slice would otherwise keep the whole chunk alive.
    this.pending.push(Buffer.from(part));
    this.pendingBytes += part.length;
  }

  private finishLine(tail: Buffer): void {
    this.lineNumber++;
    if (this.skipping || this.pendingBytes + tail.length > this.maxLineBytes) {
      this.skipping = false;
      this.pending = [];
      this.pendingBytes = 0;
      this.sink.tooLong(this.lineNumber);
      return;
    }
    let line = this.pending.length === 0 ? tail : Buffer.concat([...this.pending, tail]);
    this.pending = [];
    this.pendingBytes = 0;
    if (line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    this.sink.line(line, this.lineNumber);
  }
}

/**
 * A streaming RFC 4180 reader for CSV and TSV: quoted fields may hold the delimiter, doubled
 * quotes (`""`) and newlines. It is lenient where real files are sloppy: a quote inside an
 * unquoted field is a literal character, and text after a closing quote joins the field.
 * A record longer than the cap (usually an unbalanced quote swallowing the file) stops being
 * stored but is still counted, so memory stays bounded.
 */

/** Records longer than this (in characters) are reported as invalid. */
export const MAX_RECORD_CHARS = 16 * 1024 * 1024;

/** One parsed record. */
export interface CsvRecord {
  fields: string[];
  /** 1-based line where the record starts. */
  line: number;
  /** The record's text as written (without the line break), for duplicate checks. */
  raw: string;
  /** True when the record was too long to keep; `fields` and `raw` are then incomplete. */
  oversized: boolean;
  /** True for an end-of-file record whose quoted field was never closed. */
  unterminated: boolean;
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Push-based CSV/TSV reader: {@link push} decoded text, then {@link end}.
 *
 * It jumps from one meaningful character to the next (a regex outside quotes, indexOf inside)
 * and takes fields and records as slices of the chunk; only a record that spans two chunks is
 * carried over as a string.
 */
export class CsvReader {
  private readonly delimiter: number;
  private readonly onRecord: (record: CsvRecord) => void;
  private readonly maxChars: number;
  /** The next delimiter or line break outside quotes. */
  private readonly special: RegExp;
  private fields: string[] = [];
  /** Text of the current record / field read in earlier chunks. */
  private recordCarry = '';
  private fieldCarry = '';
  private oversized = false;
  private inQuotes = false;
  /** Just saw a quote inside a quoted field: either `""` or the closing quote. */
  private quotePending = false;
  private afterCr = false;
  private line = 1;
  private recordLine = 1;
  // Positions in the chunk being read.
  private text = '';
  private recordStart = 0;
  private fieldStart = 0;

  constructor(delimiter: ',' | '\t', onRecord: (record: CsvRecord) => void, maxChars = MAX_RECORD_CHARS) {
    this.delimiter = delimiter.charCodeAt(0);
    this.special = delimiter === ',' ? /[,\r\n]/g : /[\t\r\n]/g;
    this.onRecord = onRecord;
    this.maxChars = maxChars;
  }

  push(text: string): void {
    this.text = text;
    this.recordStart = 0;
    this.fieldStart = 0;
    let i = 0;
    while (i < text.length) {
      if (this.afterCr) {
        this.afterCr = false;
        if (text.charCodeAt(i) === LF) {
          this.recordStart = this.fieldStart = ++i;
          continue;
        }
      }
      if (this.inQuotes) {
        i = this.scanQuoted(i);
      } else if (i === this.fieldStart && this.fieldCarry === '' && text.charCodeAt(i) === QUOTE) {
        this.inQuotes = true;
        i++;
      } else {
        this.special.lastIndex = i;
        const found = this.special.exec(text);
        if (!found) break;
        i = this.separator(found.index);
      }
    }
    this.carryOver();
  }

  /** Emits the last record when the file does not end with a line break. */
  end(): void {
    this.text = '';
    this.recordStart = this.fieldStart = 0;
    const unterminated = this.inQuotes && !this.quotePending;
    this.inQuotes = this.quotePending = false;
    if (unterminated || this.oversized || this.fields.length > 0 || this.recordCarry !== '') this.endRecord(0, unterminated);
  }

  /** A delimiter or line break outside quotes at `at`; returns where to continue. */
  private separator(at: number): number {
    const ch = this.text.charCodeAt(at);
    if (ch === this.delimiter) {
      // An oversized record keeps no fields: a gigabyte line of commas must not fill memory.
      if (!this.oversized) this.fields.push(unquote(this.fieldCarry + this.text.slice(this.fieldStart, at)));
      this.fieldCarry = '';
      this.fieldStart = at + 1;
      return at + 1;
    }
    this.endRecord(at, false);
    this.line++;
    this.afterCr = ch === CR;
    this.recordStart = this.fieldStart = at + 1;
    return at + 1;
  }

  /** Inside a quoted field from `i`: returns where to continue. */
  private scanQuoted(i: number): number {
    const text = this.text;
    if (this.quotePending) {
      this.quotePending = false;
      if (text.charCodeAt(i) === QUOTE) return i + 1; // `""`: an escaped quote, still inside
      this.inQuotes = false;
      return i; // the previous quote closed the field; read this character unquoted
    }
    const quote = text.indexOf('"', i);
    const stop = quote < 0 ? text.length : quote;
    for (let newline = text.indexOf('\n', i); newline >= 0 && newline < stop; newline = text.indexOf('\n', newline + 1)) this.line++;
    if (quote < 0) return text.length;
    this.quotePending = true;
    return quote + 1;
  }

  private endRecord(at: number, unterminated: boolean): void {
    this.fields.push(unquote(this.fieldCarry + this.text.slice(this.fieldStart, at)));
    const raw = this.recordCarry + this.text.slice(this.recordStart, at);
    this.onRecord({ fields: this.fields, line: this.recordLine, raw, oversized: this.oversized, unterminated });
    this.fields = [];
    this.recordCarry = this.fieldCarry = '';
    this.oversized = false;
    this.recordLine = this.line + 1;
  }

  /** Keeps the unfinished record for the next chunk, unless it has grown past the cap. */
  private carryOver(): void {
    if (this.oversized) return;
    const record = this.text.slice(this.recordStart);
    if (this.recordCarry.length + record.length > this.maxChars) {
      this.oversized = true;
      this.recordCarry = this.fieldCarry = '';
      this.fields = [];
      return;
    }
    this.recordCarry += record;
    this.fieldCarry += this.text.slice(this.fieldStart);
  }
}

/** `"a ""b"", c"` → `a "b", c`; text after the closing quote is kept. Unquoted text is as is. */
function unquote(field: string): string {
  if (field.charCodeAt(0) !== QUOTE) return field;
  const close = closingQuote(field);
  const inner = field.slice(1, close < 0 ? field.length : close).replaceAll('""', '"');
  return close < 0 ? inner : inner + field.slice(close + 1);
}

/** Index of the quote that closes a quoted field (skipping `""` pairs), or -1. */
function closingQuote(field: string): number {
  for (let i = field.indexOf('"', 1); i >= 0; i = field.indexOf('"', i + 2)) {
    if (field.charCodeAt(i + 1) !== QUOTE) return i;
  }
  return -1;
}

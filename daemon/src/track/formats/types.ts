/**
 * Shapes shared by the format parsers. Parsers are pure: they turn file text into these
 * values and never touch storage; the tracker decides what to upsert.
 */

/** A problem with one entry (a line, a log_history item, a task) that was skipped or repaired. */
export interface ParseIssue {
  /** 1-based line in the file, when the format has meaningful lines. */
  line?: number;
  message: string;
}

/** One scalar at one step. NaN and ±Infinity are kept: a diverging loss must stay visible. */
export interface ParsedPoint {
  step: number;
  key: string;
  value: number;
  /** Seconds since the Unix epoch, when the file records a time for the entry. */
  wallTime?: number;
}

/** Why a whole file could not be used. */
export type FormatErrorCode =
  /** Ends early (or is empty): probably still being written; retry later. */
  | 'E_TRUNCATED'
  /** Broken syntax before the end: retrying won't help until the file is rewritten. */
  | 'E_MALFORMED'
  /** Valid syntax, but not the document this parser reads (e.g. JSON without `results`). */
  | 'E_SHAPE';

/** Thrown when a whole file is unusable. Always names the file (when the caller gave one). */
export class FormatError extends Error {
  readonly code: FormatErrorCode;
  /** 1-based line of the problem, when known. */
  readonly line: number | undefined;
  /** 1-based column (in UTF-16 code units) of the problem, when known. */
  readonly column: number | undefined;
  /** The file name or path the caller passed, if any. */
  readonly source: string | undefined;
  /** The message without the file and position, so the error can be rebuilt after crossing a thread. */
  readonly detail: string;

  constructor(code: FormatErrorCode, message: string, where: { source?: string; line?: number; column?: number } = {}) {
    const place = where.line === undefined ? '' : ` (line ${where.line}, column ${where.column ?? 1})`;
    super(`${where.source ?? '<text>'}: ${message}${place}`);
    this.name = 'FormatError';
    this.code = code;
    this.line = where.line;
    this.column = where.column;
    this.source = where.source;
    this.detail = message;
  }

  /** True when the file should simply be read again later (it is probably still being written). */
  get retryLater(): boolean {
    return this.code === 'E_TRUNCATED';
  }
}

/** A plain JSON object (not an array, not null). */
export type JsonObject = Record<string, unknown>;

/** Narrows an unknown parsed JSON value to a plain object. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A number (NaN and ±Infinity included) or undefined for anything else. */
export function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/** A string or undefined for anything else. */
export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Short description of an unexpected value, for issue messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `"${value.length > 40 ? value.slice(0, 40) + '…' : value}"`;
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : typeof value;
}

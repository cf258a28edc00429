/**
 * Accumulates a dataset profile one row at a time, in memory that does not grow with the
 * file: counters, a capped list of invalid lines, a capped field table, a fixed-size sample
 * for the median and the bounded duplicate table.
 */
import { findPii } from './pii.ts';
import { RowHashes } from './row-hashes.ts';
import type { DatasetFormat, DatasetProfile, InvalidLine } from './types.ts';

const MAX_INVALID_LISTED = 100;
const MAX_FIELDS = 1000;
const SAMPLE_SIZE = 10_000;

/** One top-level field of a row, and whether it has a value. */
export interface RowField {
  name: string;
  filled: boolean;
}

/** Builds one {@link DatasetProfile}. */
export class ProfileBuilder {
  private readonly format: DatasetFormat;
  private rows = 0;
  private emptyRows = 0;
  private duplicateRows = 0;
  private readonly hashes: RowHashes;
  private readonly invalid: InvalidLine[] = [];
  private invalidCount = 0;
  private readonly fieldIndex = new Map<string, number>();
  private readonly fieldNames: string[] = [];
  private readonly fieldFilled: number[] = [];
  private fieldsTruncated = false;
  private charMin = Infinity;
  private charMax = 0;
  private charTotal = 0;
  private readonly sample: number[] = [];
  private random = 0x9e3779b9;
  private readonly pii = { emails: 0, phones: 0, apiKeys: 0 };
  private readonly notes: string[] = [];

  constructor(format: DatasetFormat, hashes = new RowHashes()) {
    this.format = format;
    this.hashes = hashes;
  }

  /** A blank line. */
  addEmpty(): void {
    this.emptyRows++;
  }

  /** A record that could not be read. */
  addInvalid(line: number, message: string): void {
    this.invalidCount++;
    if (this.invalid.length < MAX_INVALID_LISTED) this.invalid.push({ line, message });
  }

  /** Something the user should know about how the file was read. */
  addNote(note: string): void {
    if (!this.notes.includes(note)) this.notes.push(note);
  }

  /** Declares CSV/TSV columns, so they are listed even when never filled. */
  setColumns(names: readonly string[]): void {
    for (const name of names) this.fieldSlot(name);
  }

  /**
   * One record: `raw` is its bytes or text as stored (compared for duplicates), `text` the same
   * as a string (searched for PII), `chars` its content length, `fields` its top-level fields.
   */
  addRow(raw: string | Uint8Array, text: string, chars: number, fields: Iterable<RowField> = []): void {
    this.rows++;
    if (this.hashes.seen(raw)) this.duplicateRows++;
    this.charMin = Math.min(this.charMin, chars);
    this.charMax = Math.max(this.charMax, chars);
    this.charTotal += chars;
    this.sampleChars(chars);
    for (const field of fields) {
      const slot = this.fieldSlot(field.name);
      if (slot !== undefined && field.filled) this.fieldFilled[slot] = (this.fieldFilled[slot] ?? 0) + 1;
    }
    const hits = findPii(text);
    if (hits.email) this.pii.emails++;
    if (hits.phone) this.pii.phones++;
    if (hits.apiKey) this.pii.apiKeys++;
  }

  /** The finished profile. */
  build(bytes: number, tooLarge = false): DatasetProfile {
    const rows = this.rows;
    const sorted = [...this.sample].sort((a, b) => a - b);
    const p50 = sorted.length === 0 ? undefined : median(sorted);
    if (this.hashes.full) this.addNote('too many distinct rows to remember them all: duplicateRows is a lower bound');
    return {
      format: this.format,
      bytes,
      rows,
      emptyRows: this.emptyRows,
      duplicateRows: this.duplicateRows,
      duplicatesApproximate: this.hashes.full,
      invalidLines: this.invalid,
      invalidLineCount: this.invalidCount,
      fields: this.fieldNames.map((name, slot) => {
        const filled = this.fieldFilled[slot] ?? 0;
        return { name, filled, fillRate: rows === 0 ? 0 : filled / rows };
      }),
      fieldsTruncated: this.fieldsTruncated,
      chars: {
        min: rows === 0 ? 0 : this.charMin,
        max: this.charMax,
        mean: rows === 0 ? 0 : this.charTotal / rows,
        ...(p50 === undefined ? {} : { p50 }),
        total: this.charTotal,
      },
      tokensEstimate: Math.round(this.charTotal / 4),
      pii: { ...this.pii },
      tooLarge,
      notes: this.notes,
    };
  }

  private fieldSlot(name: string): number | undefined {
    const known = this.fieldIndex.get(name);
    if (known !== undefined) return known;
    if (this.fieldNames.length >= MAX_FIELDS) {
      this.fieldsTruncated = true;
      return undefined;
    }
    const slot = this.fieldNames.length;
    this.fieldIndex.set(name, slot);
    this.fieldNames.push(name);
    this.fieldFilled.push(0);
    return slot;
  }

  /** Reservoir sampling (Algorithm R) with a fixed-seed xorshift, so a profile is reproducible. */
  private sampleChars(chars: number): void {
    if (this.sample.length < SAMPLE_SIZE) {
      this.sample.push(chars);
      return;
    }
    this.random ^= this.random << 13;
    this.random ^= this.random >>> 17;
    this.random ^= this.random << 5;
    const pick = (this.random >>> 0) % this.rows;
    if (pick < SAMPLE_SIZE) this.sample[pick] = chars;
  }
}

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  const upper = sorted[mid] ?? 0;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? 0) + upper) / 2;
}

/** True when a JSON value counts as filled: not null, "", [] or {}. */
export function isFilled(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** Total length of the string values in a JSON value (keys and punctuation excluded). */
export function contentChars(value: unknown): number {
  // Iterative: JSON.parse accepts nesting deep enough to overflow a recursive walk.
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'string') total += item.length;
    else if (Array.isArray(item)) for (const child of item as unknown[]) stack.push(child);
    else if (typeof item === 'object' && item !== null) for (const child of Object.values(item)) stack.push(child);
  }
  return total;
}

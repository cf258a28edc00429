/**
 * Profiles a dataset file: row counts, blank/invalid/duplicate rows, field fill rates, text
 * lengths, a token estimate and signs of personal data or secrets.
 *
 * Line- and record-based formats (JSONL, CSV, TSV, text) are streamed in 1 MiB chunks, so a
 * 2 GB file is profiled in bounded memory. A JSON document has to be parsed whole, so it is
 * only profiled up to {@link MAX_JSON_BYTES}.
 *
 * The file is opened once, non-blocking and fstat-checked (input-file.ts), and every read
 * goes through that handle: a FIFO or device put in a file's place is refused, never waited
 * on (a blocking open of a FIFO would hold one of libuv's four threads forever).
 */
import type { FileHandle } from 'node:fs/promises';
import { createXXHash64 } from 'hash-wasm';
import { findJsonSyntaxError, lineColumnAt } from '../config/json-syntax.ts';
import { openRegularFile } from '../input-file.ts';
import { CsvReader, type CsvRecord } from './csv.ts';
import { detectFormat } from './detect.ts';
import { LineSplitter, MAX_LINE_BYTES } from './lines.ts';
import { contentChars, isFilled, ProfileBuilder, type RowField } from './profile-builder.ts';
import { RowHashes } from './row-hashes.ts';
import type { DatasetProfile, ProfileOptions } from './types.ts';

/** JSON documents larger than this are reported as too large instead of parsed. */
export const MAX_JSON_BYTES = 256 * 1024 * 1024;

const CHUNK_BYTES = 1024 * 1024;
const HEAD_BYTES = 64 * 1024;

/**
 * Profiles the dataset file at `filePath`. Rejects for anything but a regular file (a folder:
 * profile its files one by one; a FIFO or device: never read), for I/O errors, and with
 * `signal.reason` when aborted; bad records never reject.
 */
export async function profileDataset(filePath: string, options: ProfileOptions = {}): Promise<DatasetProfile> {
  options.signal?.throwIfAborted();
  const { handle, stats } = await openRegularFile(filePath, 'dataset file');
  try {
    return await profileOpenFile(handle, filePath, stats.size, options);
  } finally {
    await handle.close();
  }
}

async function profileOpenFile(handle: FileHandle, filePath: string, size: number, options: ProfileOptions): Promise<DatasetProfile> {
  const detected = detectFormat(filePath, await readHead(handle));
  const builder = new ProfileBuilder(detected.format, await rowHashes());
  if (detected.note !== undefined) builder.addNote(detected.note);
  const file: OpenFile = { handle, size };
  switch (detected.format) {
    case 'binary':
      options.onProgress?.(size, size);
      return builder.build(size);
    case 'json':
      return profileJsonDocument(file, builder, options);
    case 'csv':
    case 'tsv':
      return builder.build(await profileCsv(file, detected.format === 'csv' ? ',' : '\t', builder, options));
    default:
      return builder.build(await profileLines(file, detected.format === 'jsonl', builder, options));
  }
}

/** The open dataset file and its size when it was opened. */
interface OpenFile {
  handle: FileHandle;
  size: number;
}

/** Duplicate detection with xxHash64 (WebAssembly): about 3x faster per row than SHA-1 here. */
async function rowHashes(): Promise<RowHashes> {
  const hasher = await createXXHash64();
  return new RowHashes((row) => hasher.init().update(row).digest('binary'));
}

async function readHead(handle: FileHandle): Promise<Buffer> {
  const buffer = Buffer.alloc(HEAD_BYTES);
  const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
  return buffer.subarray(0, bytesRead);
}

/** Streams the file from its start through `onChunk` (each chunk a fresh buffer); returns the bytes read. */
async function streamFile(file: OpenFile, options: ProfileOptions, onChunk: (chunk: Buffer) => void): Promise<number> {
  let bytesRead = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    const { bytesRead: n } = await file.handle.read(chunk, 0, CHUNK_BYTES, bytesRead);
    if (n === 0) return bytesRead;
    bytesRead += n;
    onChunk(chunk.subarray(0, n));
    options.onProgress?.(bytesRead, Math.max(file.size, bytesRead));
  }
}

/** JSON Lines (one JSON value per line) or plain text (one row per line). */
function profileLines(file: OpenFile, json: boolean, builder: ProfileBuilder, options: ProfileOptions): Promise<number> {
  const splitter = new LineSplitter({
    line: (bytes, lineNumber) => (json ? addJsonLine(builder, bytes, lineNumber) : addTextLine(builder, bytes)),
    tooLong: (lineNumber) => builder.addInvalid(lineNumber, `line longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB; skipped`),
  });
  return streamFile(file, options, (chunk) => splitter.push(chunk)).then((bytes) => {
    splitter.end();
    return bytes;
  });
}

function addTextLine(builder: ProfileBuilder, bytes: Buffer): void {
  const text = bytes.toString('utf8');
  if (text.trim() === '') builder.addEmpty();
  else builder.addRow(bytes, text, text.length);
}

function addJsonLine(builder: ProfileBuilder, bytes: Buffer, lineNumber: number): void {
  const text = bytes.toString('utf8');
  if (text.trim() === '') {
    builder.addEmpty();
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    builder.addInvalid(lineNumber, jsonProblem(text, error));
    return;
  }
  builder.addRow(bytes, text, contentChars(value), topLevelFields(value));
}

/** `column 12: unexpected "}", expected a value`, from the strict scanner (V8's messages often lack a position). */
function jsonProblem(text: string, error: unknown): string {
  const found = findJsonSyntaxError(text);
  if (!found) return `invalid JSON: ${error instanceof Error ? error.message : String(error)}`;
  const at = lineColumnAt(text, found.offset);
  return `invalid JSON at column ${at.column}: ${found.reason}`;
}

function topLevelFields(value: unknown): RowField[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.entries(value).map(([name, item]) => ({ name, filled: isFilled(item) }));
}

/** A whole JSON document: an array of records, or one object as a single record. */
async function profileJsonDocument(file: OpenFile, builder: ProfileBuilder, options: ProfileOptions): Promise<DatasetProfile> {
  const size = file.size;
  if (size > MAX_JSON_BYTES) {
    builder.addNote(`too large to profile: a JSON document is parsed whole, and this one is over ${MAX_JSON_BYTES / 1024 / 1024} MiB (JSON Lines has no limit)`);
    options.onProgress?.(size, size);
    return builder.build(size, true);
  }
  const chunks: Buffer[] = [];
  const bytes = await streamFile(file, options, (chunk) => {
    chunks.push(chunk);
  });
  const text = Buffer.concat(chunks).toString('utf8').replace(/^\uFEFF/, '');
  chunks.length = 0;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const found = findJsonSyntaxError(text);
    const at = lineColumnAt(text, found?.offset ?? 0);
    builder.addInvalid(at.line, found ? `invalid JSON at column ${at.column}: ${found.reason}` : jsonProblem(text, error));
    return builder.build(bytes);
  }
  if (!Array.isArray(value)) {
    builder.addNote('the JSON document is not an array: profiled as a single record');
    value = [value];
  }
  for (const record of value as unknown[]) {
    const raw = JSON.stringify(record) ?? 'null';
    builder.addRow(raw, raw, contentChars(record), topLevelFields(record));
  }
  return builder.build(bytes);
}

/** CSV/TSV with a header row; every later record must have as many fields as the header. */
async function profileCsv(file: OpenFile, delimiter: ',' | '\t', builder: ProfileBuilder, options: ProfileOptions): Promise<number> {
  let header: string[] | undefined;
  const reader = new CsvReader(delimiter, (record) => {
    if (isBlank(record)) builder.addEmpty();
    else if (header === undefined) header = columnNames(record.fields, builder);
    else addCsvRecord(builder, header, record);
  });
  // Streaming decode keeps a UTF-8 character that straddles two chunks whole; the BOM is dropped.
  const decoder = new TextDecoder('utf-8');
  const bytes = await streamFile(file, options, (chunk) => reader.push(decoder.decode(chunk, { stream: true })));
  reader.push(decoder.decode());
  reader.end();
  return bytes;
}

function isBlank(record: CsvRecord): boolean {
  return record.fields.length === 1 && record.raw.trim() === '' && !record.oversized && !record.unterminated;
}

/** Header names, made unique (`name`, `name_2`) and never empty (`column_3`). */
function columnNames(fields: string[], builder: ProfileBuilder): string[] {
  const seen = new Map<string, number>();
  const names = fields.map((field, index) => {
    const base = field.trim() === '' ? `column_${index + 1}` : field.trim();
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return count === 1 ? base : `${base}_${count}`;
  });
  builder.setColumns(names);
  return names;
}

function addCsvRecord(builder: ProfileBuilder, header: string[], record: CsvRecord): void {
  if (record.oversized) {
    builder.addInvalid(record.line, 'record longer than 16 Mi characters (an unclosed quote?); skipped');
  } else if (record.unterminated) {
    builder.addInvalid(record.line, 'quoted field never closed before the end of the file');
  } else if (record.fields.length !== header.length) {
    builder.addInvalid(record.line, `expected ${header.length} fields, found ${record.fields.length}`);
  } else {
    const chars = record.fields.reduce((sum, field) => sum + field.length, 0);
    const fields = record.fields.map((field, index) => ({ name: header[index] ?? '', filled: field !== '' }));
    builder.addRow(record.raw, record.raw, chars, fields);
  }
}

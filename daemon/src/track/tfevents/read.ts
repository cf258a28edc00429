/**
 * Incremental reading of an event file from a cursor, in bounded chunks, so a file of any
 * size is never held in memory and a live file can be polled as it grows.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { copyPlugins, decodeRecords, FOOTER_BYTES, HEADER_BYTES } from './decode.ts';
import type { DecodeStop } from './decode.ts';
import type { CorruptRecord, ScalarPoint, TfeventsCursor } from './types.ts';

/** Default read size. */
export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;
/** Default cap on one record's data; bigger records (huge images) are skipped unread. */
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;

/** Options of `readTfeventsFile`. */
export interface ReadTfeventsOptions {
  /**
   * Stop once about this many bytes were consumed in this call (checked between chunks, and
   * at least one record is always read), so one poll of a huge file stays short. Default: no limit.
   */
  maxBytes?: number;
  /** Bytes read per chunk. Default 4 MiB. */
  chunkBytes?: number;
  /** Records with more data bytes than this are skipped unread and reported. Default 64 MiB. */
  maxRecordBytes?: number;
  /** Receives points chunk by chunk (then `points` in the result stays empty). */
  onPoints?: (batch: ScalarPoint[]) => void;
}

/** Outcome of one `readTfeventsFile` call. */
export interface ReadTfeventsResult {
  /** Points read in this call, in file order (empty when `onPoints` was given). */
  points: ScalarPoint[];
  /** Pass this to the next call; store it to resume after a restart. */
  cursor: TfeventsCursor;
  /** Records skipped or that stopped the read, with their file offsets. */
  corrupt: CorruptRecord[];
  /**
   * True when the read stopped because there is nothing more to read now: end of file, an
   * incomplete last record (a live writer; poll again later), or a halt on a corrupt header.
   * False when it stopped on `maxBytes` with more to read.
   */
  eof: boolean;
  /** Set when the file could not be opened or read (e.g. ENOENT); the cursor is unchanged. */
  error?: string;
}

/** Mutable state of one read call. */
interface ReadState {
  path: string;
  fh: FileHandle;
  size: number;
  cursor: TfeventsCursor;
  points: ScalarPoint[];
  corrupt: CorruptRecord[];
  onPoints: ((batch: ScalarPoint[]) => void) | undefined;
}

/**
 * Reads the scalars of the event file at `path` from `cursor` on. Never throws: I/O errors
 * come back in `error`, bad records in `corrupt`. Records still being written are left for
 * a later call, and are then read exactly once.
 */
export async function readTfeventsFile(
  path: string,
  cursor: TfeventsCursor,
  opts: ReadTfeventsOptions = {},
): Promise<ReadTfeventsResult> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    return failed(cursor, path, err);
  }
  try {
    const size = (await fh.stat()).size;
    const st: ReadState = {
      path, fh, size,
      cursor: { ...cursor, pluginByTag: copyPlugins(cursor.pluginByTag) },
      points: [], corrupt: [], onPoints: opts.onPoints,
    };
    const eof = await readChunks(st, opts);
    return { points: st.points, cursor: st.cursor, corrupt: st.corrupt, eof };
  } catch (err) {
    return failed(cursor, path, err);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

function failed(cursor: TfeventsCursor, path: string, err: unknown): ReadTfeventsResult {
  const what = err instanceof Error ? err.message : String(err);
  return { points: [], cursor, corrupt: [], eof: true, error: `cannot read ${path}: ${what}` };
}

/** The chunk loop; returns `eof`. */
async function readChunks(st: ReadState, opts: ReadTfeventsOptions): Promise<boolean> {
  const chunkBytes = Math.max(HEADER_BYTES, opts.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  const maxBytes = opts.maxBytes ?? Infinity;
  const maxRecord = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const startOffset = st.cursor.offset;
  if (st.size < startOffset) {
    const reason = `file is ${st.size} bytes, shorter than the cursor: it was truncated or replaced`;
    st.corrupt.push({ offset: startOffset, reason });
    return true;
  }
  // A halted cursor first re-checks just the bad header: cheap, and reported only once.
  let need = st.cursor.halted !== undefined ? HEADER_BYTES : 0;
  let buf = Buffer.allocUnsafe(0);
  for (;;) {
    const offset = st.cursor.offset;
    const available = st.size - offset;
    const consumed = offset - startOffset;
    if (available === 0 || available < need) return true;
    if (consumed >= maxBytes) return false;
    if (need > maxRecord + HEADER_BYTES + FOOTER_BYTES) {
      skipOversized(st, need);
      need = 0;
      continue;
    }
    const budget = st.cursor.halted !== undefined ? HEADER_BYTES : Math.min(chunkBytes, maxBytes - consumed);
    const want = Math.min(available, Math.max(need, budget));
    if (buf.length < want) buf = Buffer.allocUnsafe(Math.max(want, Math.min(chunkBytes, available)));
    const got = await readFully(st.fh, buf, want, offset);
    const step = decodeChunk(st, buf.subarray(0, got), offset);
    if (step.stop === 'halted' || got < want) return true; // got < want: file shrank under us
    need = step.stop === 'partial' ? step.needBytes : 0;
  }
}

/** Decodes one chunk, delivers its points and advances the cursor. */
function decodeChunk(st: ReadState, chunk: Uint8Array, offset: number): { stop: DecodeStop; needBytes: number } {
  const batch: ScalarPoint[] = st.onPoints ? [] : st.points;
  const corrupt: CorruptRecord[] = [];
  const scan = decodeRecords(chunk, 0, offset, st.cursor.pluginByTag, batch, corrupt);
  const wasHalted = st.cursor.halted;
  st.cursor.offset = offset + scan.pos;
  delete st.cursor.halted;
  if (scan.stop === 'halted') {
    const last = corrupt[corrupt.length - 1];
    st.cursor.halted = last?.reason ?? 'corrupt record header';
    // The same header as last time: already reported.
    if (wasHalted !== undefined && scan.pos === 0) corrupt.pop();
  }
  for (const c of corrupt) st.corrupt.push(c);
  if (st.onPoints && batch.length > 0) st.onPoints(batch);
  return scan;
}

/** Steps over a record too large to decode (its data CRC is not checked). */
function skipOversized(st: ReadState, total: number): void {
  const dataBytes = total - HEADER_BYTES - FOOTER_BYTES;
  st.corrupt.push({
    offset: st.cursor.offset,
    reason: `record of ${dataBytes} bytes is over the size limit; skipped unread`,
  });
  st.cursor.offset += total;
}

/** Reads `length` bytes at `position` unless the file ends first; returns the count read. */
async function readFully(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<number> {
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/**
 * The synchronous core: TFRecord framing over an in-memory slice of an event file.
 * Record layout (little-endian): u64 length, u32 masked_crc32c(length bytes), data[length],
 * u32 masked_crc32c(data).
 */
import { maskedCrc32c } from './crc32c.ts';
import { decodeEvent } from './event.ts';
import { ProtoError, ProtoReader } from './proto.ts';
import type { CorruptRecord, ScalarPoint, TfeventsCursor } from './types.ts';

/** Bytes of a record's header (length + its CRC) and footer (data CRC). */
export const HEADER_BYTES = 12;
export const FOOTER_BYTES = 4;

/**
 * Why decoding stopped:
 * - `end`: the slice ended exactly at a record boundary (or was empty);
 * - `partial`: the record at `cursor.offset` is not all in the slice (wait for more bytes);
 * - `halted`: the record at `cursor.offset` has a length header that failed its CRC, so the
 *   length cannot be trusted and nothing after it can be framed.
 */
export type DecodeStop = 'end' | 'partial' | 'halted';

/** Result of decoding one slice of an event file. */
export interface DecodeResult {
  points: ScalarPoint[];
  /** Resume here: the first record not consumed (with updated plugin memory). */
  cursor: TfeventsCursor;
  corrupt: CorruptRecord[];
  stop: DecodeStop;
  /**
   * For `partial`: total bytes (header + data + footer) the record at `cursor.offset` needs,
   * or `HEADER_BYTES` when even its header is incomplete. 0 otherwise.
   */
  needBytes: number;
}

/** A cursor for reading a file from its start. */
export function newTfeventsCursor(): TfeventsCursor {
  return { offset: 0, pluginByTag: {} };
}

/**
 * Decodes every complete record of `buf` starting at file offset `cursor.offset`, where
 * `buf[0]` is the byte at file offset `baseOffset`. Never throws on bad data: CRC failures
 * and malformed events are returned in `corrupt`. The input cursor is not modified.
 * A cursor with `halted` set re-checks that header: if it is still bad it is not reported
 * again; if it has become valid, decoding carries on.
 */
export function decodeTfeventsBuffer(buf: Uint8Array, baseOffset: number, cursor: TfeventsCursor): DecodeResult {
  const pluginByTag = copyPlugins(cursor.pluginByTag);
  const points: ScalarPoint[] = [];
  const corrupt: CorruptRecord[] = [];
  const start = cursor.offset - baseOffset;
  if (start < 0 || start > buf.length) {
    const reason = `cursor offset ${cursor.offset} is outside the buffer [${baseOffset}, ${baseOffset + buf.length}]`;
    return { points, cursor: { ...cursor, pluginByTag }, corrupt: [{ offset: cursor.offset, reason }], stop: 'halted', needBytes: 0 };
  }
  const scan = decodeRecords(buf, start, baseOffset, pluginByTag, points, corrupt);
  const next: TfeventsCursor = { offset: baseOffset + scan.pos, pluginByTag };
  if (scan.stop === 'halted') {
    next.halted = corrupt[corrupt.length - 1]?.reason ?? 'corrupt record header';
    // Still stuck on the header the cursor already halted at: it was reported then.
    if (cursor.halted !== undefined && scan.pos === start) corrupt.pop();
  }
  return { points, cursor: next, corrupt, stop: scan.stop, needBytes: scan.needBytes };
}

/** Copies plugin memory into a null-prototype object (tags such as `__proto__` stay data). */
export function copyPlugins(from: Record<string, string>): Record<string, string> {
  const to = Object.create(null) as Record<string, string>;
  for (const [tag, plugin] of Object.entries(from)) to[tag] = plugin;
  return to;
}

interface Scan {
  pos: number;
  stop: DecodeStop;
  needBytes: number;
}

/** The record loop: appends to `points` and `corrupt`, returns where and why it stopped. */
export function decodeRecords(
  buf: Uint8Array,
  start: number,
  baseOffset: number,
  pluginByTag: Record<string, string>,
  points: ScalarPoint[],
  corrupt: CorruptRecord[],
): Scan {
  const reader = new ProtoReader(buf);
  const view = reader.view;
  const len = buf.length;
  let pos = start;
  for (;;) {
    if (pos === len) return { pos, stop: 'end', needBytes: 0 };
    if (pos + HEADER_BYTES > len) return { pos, stop: 'partial', needBytes: HEADER_BYTES };
    const dataLength = view.getUint32(pos + 4, true) * 4294967296 + view.getUint32(pos, true);
    if (maskedCrc32c(buf, pos, pos + 8) !== view.getUint32(pos + 8, true)) {
      corrupt.push({ offset: baseOffset + pos, reason: 'record length failed its CRC; the rest of the file cannot be framed' });
      return { pos, stop: 'halted', needBytes: 0 };
    }
    const total = HEADER_BYTES + dataLength + FOOTER_BYTES;
    if (pos + total > len) return { pos, stop: 'partial', needBytes: total };
    const dataStart = pos + HEADER_BYTES;
    const dataEnd = dataStart + dataLength;
    if (maskedCrc32c(buf, dataStart, dataEnd) !== view.getUint32(dataEnd, true)) {
      corrupt.push({ offset: baseOffset + pos, reason: `record data (${dataLength} bytes) failed its CRC; skipped` });
    } else {
      decodeOne(reader, dataStart, dataEnd, baseOffset + pos, pluginByTag, points, corrupt);
    }
    pos += total;
  }
}

/** Decodes one CRC-valid record; a malformed event is reported and contributes no points. */
function decodeOne(
  reader: ProtoReader,
  start: number,
  end: number,
  offset: number,
  pluginByTag: Record<string, string>,
  points: ScalarPoint[],
  corrupt: CorruptRecord[],
): void {
  const before = points.length;
  try {
    decodeEvent(reader, start, end, pluginByTag, points);
  } catch (err) {
    // Only ProtoError is expected; anything else is still one bad record, not a failed file.
    points.length = before;
    const where = err instanceof ProtoError ? ` at file byte ${offset + HEADER_BYTES + err.pos - start}` : '';
    const what = err instanceof Error ? err.message : String(err);
    corrupt.push({ offset, reason: `malformed Event protobuf: ${what}${where}; skipped` });
  }
}

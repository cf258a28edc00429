/**
 * A minimal protobuf wire-format reader: just what decoding TensorBoard `Event`s needs.
 * It reads in place over a shared buffer (no copies, no per-message objects); nested messages
 * are decoded by the caller looping `while (r.pos < end)` over the sub-range.
 */

/** Wire types of the protobuf encoding. */
export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

/** Malformed protobuf input (the record's CRC matched, so the writer produced bad bytes). */
export class ProtoError extends Error {
  override name = 'ProtoError';
  /** Index in the reader's buffer where decoding failed. */
  readonly pos: number;

  constructor(message: string, pos: number) {
    super(message);
    this.pos = pos;
  }
}

const TWO_32 = 4294967296;

/** Cursor over `buf[pos, limit)`; every read is bounds-checked against `limit`. */
export class ProtoReader {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  /** Reads never go past this index (the end of the record being decoded). */
  limit = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Points the reader at `[start, end)` of its buffer. */
  reset(start: number, end: number): void {
    this.pos = start;
    this.limit = end;
  }

  private fail(what: string): never {
    throw new ProtoError(what, this.pos);
  }

  private byte(): number {
    if (this.pos >= this.limit) this.fail('truncated varint');
    return this.buf[this.pos++]!;
  }

  /** A varint as an unsigned 32-bit number (higher bits dropped): field keys, lengths, enums. */
  uint32(): number {
    let b = this.byte();
    if (b < 0x80) return b;
    let v = b & 0x7f;
    b = this.byte();
    v |= (b & 0x7f) << 7;
    if (b < 0x80) return v;
    b = this.byte();
    v |= (b & 0x7f) << 14;
    if (b < 0x80) return v;
    b = this.byte();
    v |= (b & 0x7f) << 21;
    if (b < 0x80) return v;
    b = this.byte();
    v |= (b & 0x0f) << 28;
    // Up to 5 more bytes carry the sign extension of negative int32s; they are dropped.
    for (let i = 0; b >= 0x80; i++) {
      if (i === 5) this.fail('varint longer than 10 bytes');
      b = this.byte();
    }
    return v >>> 0;
  }

  /**
   * A varint as a signed int64 converted to a JS number: exact within ±2^53, rounded beyond.
   * Negative values (10-byte two's complement) come back negative.
   */
  int64(): number {
    let lo = 0;
    let b = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      b = this.byte();
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) return lo >>> 0;
    }
    b = this.byte();
    lo |= (b & 0x0f) << 28;
    let hi = (b & 0x7f) >> 4;
    if (b < 0x80) return combine(lo, hi);
    for (let shift = 3; shift < 32; shift += 7) {
      b = this.byte();
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) return combine(lo, hi);
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** Fixed 64-bit little-endian double. */
  double(): number {
    if (this.pos + 8 > this.limit) this.fail('truncated double');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Fixed 32-bit little-endian float, widened exactly to a double. */
  float(): number {
    if (this.pos + 4 > this.limit) this.fail('truncated float');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** Reads a length prefix and returns the end index of the bytes it announces (pos = start). */
  bytesEnd(): number {
    const len = this.uint32();
    const end = this.pos + len;
    if (end > this.limit) this.fail(`length ${len} runs past the message end`);
    return end;
  }

  /** Skips one field value of the given wire type. */
  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        while (this.byte() >= 0x80) {
          /* continuation bytes */
        }
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_BYTES:
        this.pos = this.bytesEnd();
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        this.fail(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.limit) this.fail('truncated fixed-width field');
    this.pos += n;
  }
}

/** Two's-complement (lo, hi) 32-bit halves of an int64 to a number. */
function combine(lo: number, hi: number): number {
  if (hi & 0x80000000) {
    // Negate: ~x + 1 over the 64-bit pair.
    let nlo = (~lo + 1) >>> 0;
    let nhi = ~hi >>> 0;
    if (nlo === 0) nhi = (nhi + 1) >>> 0;
    nlo = nlo >>> 0;
    return -(nhi * TWO_32 + nlo);
  }
  return (hi >>> 0) * TWO_32 + (lo >>> 0);
}

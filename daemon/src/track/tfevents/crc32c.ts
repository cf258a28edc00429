/**
 * CRC32C (Castagnoli), the checksum TFRecord framing uses, and TFRecord's "masked" form.
 * Table-driven slicing-by-8: eight 256-entry tables let the inner loop consume 8 bytes per
 * step, which is several times faster than the byte-at-a-time loop on large records.
 */

/** Reflected form of the Castagnoli polynomial 0x1EDC6F41. */
const POLY = 0x82f63b78;

/** TFRecord's mask delta: masked = rotr(crc, 15) + MASK_DELTA (mod 2^32). */
const MASK_DELTA = 0xa282ead8;

/**
 * Tables 0..7 laid end to end: table k is at [k * 256, k * 256 + 256). Built on the first
 * checksum, not when the daemon bundle loads (every start would pay for it).
 */
let TABLE: Int32Array | undefined;

function buildTables(): Int32Array {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n] ?? 0;
    for (let k = 1; k < 8; k++) {
      c = (c >>> 8) ^ (t[c & 0xff] ?? 0);
      t[k * 256 + n] = c;
    }
  }
  return t;
}

/**
 * CRC32C of `buf[start, end)`. Pass a previous result as `seed` to continue a checksum over
 * data split across several buffers. Returns an unsigned 32-bit number.
 */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length, seed = 0): number {
  // Indexing typed arrays in range never yields undefined; the `| 0` coercions keep the
  // loop monomorphic (int32) without noUncheckedIndexedAccess fallbacks in the hot path.
  const t = (TABLE ??= buildTables());
  let crc = ~seed;
  let i = start;
  const end8 = end - ((end - start) & 7);
  while (i < end8) {
    const lo = crc ^ ((buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)));
    crc =
      t[1792 + (lo & 0xff)]! ^
      t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^
      t[1024 + (lo >>> 24)]! ^
      t[768 + buf[i + 4]!]! ^
      t[512 + buf[i + 5]!]! ^
      t[256 + buf[i + 6]!]! ^
      t[buf[i + 7]!]!;
    i += 8;
  }
  while (i < end) crc = (crc >>> 8) ^ t[(crc ^ buf[i++]!) & 0xff]!;
  return ~crc >>> 0;
}

/** TFRecord's masked form of a CRC (so a CRC of data that itself holds CRCs is not degenerate). */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

/** Masked CRC32C of `buf[start, end)`, as stored in TFRecord headers and footers. */
export function maskedCrc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  return maskCrc(crc32c(buf, start, end));
}

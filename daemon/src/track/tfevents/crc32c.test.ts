import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c, maskCrc, maskedCrc32c } from './crc32c.ts';

/** Bit-at-a-time reference, independent of the slicing tables. */
function referenceCrc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of data) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

void test('crc32c matches the published check value and RFC 3720 vectors', () => {
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

void test('crc32c over sub-ranges and lengths not multiple of 8 agrees with the bitwise reference', () => {
  const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 2654435761) >>> 24);
  for (let start = 0; start < 9; start++) {
    for (let end = start; end <= 300; end += 7) {
      assert.equal(crc32c(data, start, end), referenceCrc32c(data.subarray(start, end)), `range ${start}..${end}`);
    }
  }
});

void test('crc32c can be continued across buffers with a seed', () => {
  const data = new TextEncoder().encode('The quick brown fox jumps over the lazy dog');
  const whole = crc32c(data);
  assert.equal(whole, 0x22620404);
  assert.equal(crc32c(data, 13, data.length, crc32c(data, 0, 13)), whole);
});

void test('maskedCrc32c rotates right by 15 and adds 0xa282ead8', () => {
  assert.equal(maskCrc(0), 0xa282ead8);
  assert.equal(maskCrc(0xe3069283), ((((0xe3069283 >>> 15) | (0xe3069283 << 17)) >>> 0) + 0xa282ead8) % 2 ** 32);
  // Bytes copied from the tfevents-js fixture: the length header of its 24-byte first record
  // is stored with masked CRC 0x224b7fa3, and its 38-byte second record with 0x00e34f73.
  const header = new Uint8Array(8);
  header[0] = 24;
  assert.equal(maskedCrc32c(header), 0x224b7fa3);
  header[0] = 38;
  assert.equal(maskedCrc32c(header), 0x00e34f73);
});

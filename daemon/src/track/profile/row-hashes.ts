/**
 * Remembers which rows were seen, in bounded memory, to count exact duplicates.
 *
 * Each row is kept as a 64-bit hash (xxHash64 from `profileDataset`, or the first 8 bytes of
 * SHA-1 by default) in an open-addressing
 * table of two Uint32Arrays: 8 bytes per slot, no per-entry objects for the GC to walk.
 * The table doubles up to 2^22 slots (32 MiB); once that is 70% full, new rows are still
 * checked against the ones remembered but no longer added, and the count becomes a lower bound.
 * A false duplicate needs a 64-bit collision: about 1 in 10^7 at the cap.
 */
import { hash } from 'node:crypto';

const INITIAL_SLOTS = 1 << 16;
const MAX_SLOTS = 1 << 22;
const MAX_LOAD = 0.7;

/** Hashes one row to at least 8 bytes. */
export type RowDigest = (row: string | Uint8Array) => Uint8Array;

const sha1Digest: RowDigest = (row) => hash('sha1', row, 'buffer');

/** The set of row hashes seen so far. */
export class RowHashes {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private size = 0;
  private readonly maxSlots: number;
  private readonly digest: RowDigest;
  /** True once a new row could not be remembered. */
  full = false;

  /** `maxSlots` (a power of two) is lowered only by tests, to reach the cap quickly. */
  constructor(digest: RowDigest = sha1Digest, maxSlots = MAX_SLOTS) {
    this.digest = digest;
    this.maxSlots = maxSlots;
    this.hi = new Uint32Array(Math.min(INITIAL_SLOTS, maxSlots));
    this.lo = new Uint32Array(Math.min(INITIAL_SLOTS, maxSlots));
  }

  /** True when an identical row was seen before; otherwise remembers this one (if there is room). */
  seen(row: string | Uint8Array): boolean {
    const digest = this.digest(row);
    const high = ((digest[0] ?? 0) | ((digest[1] ?? 0) << 8) | ((digest[2] ?? 0) << 16) | ((digest[3] ?? 0) << 24)) >>> 0;
    const rawLow = ((digest[4] ?? 0) | ((digest[5] ?? 0) << 8) | ((digest[6] ?? 0) << 16) | ((digest[7] ?? 0) << 24)) >>> 0;
    // 0/0 marks an empty slot, so a row hashing to it is stored as 0/1.
    const low = high === 0 && rawLow === 0 ? 1 : rawLow;
    const slot = this.find(high, low);
    if (this.hi[slot] === high && this.lo[slot] === low) return true;
    if (this.size + 1 > this.hi.length * MAX_LOAD) {
      if (this.hi.length >= this.maxSlots) {
        this.full = true;
        return false;
      }
      this.grow();
      return this.insert(high, low);
    }
    return this.insert(high, low);
  }

  private insert(high: number, low: number): false {
    const slot = this.find(high, low);
    this.hi[slot] = high;
    this.lo[slot] = low;
    this.size++;
    return false;
  }

  /** The slot holding this hash, or the empty slot where it would go (linear probing). */
  private find(high: number, low: number): number {
    const mask = this.hi.length - 1;
    let slot = (high ^ low) & mask;
    while (this.hi[slot] !== 0 || this.lo[slot] !== 0) {
      if (this.hi[slot] === high && this.lo[slot] === low) return slot;
      slot = (slot + 1) & mask;
    }
    return slot;
  }

  private grow(): void {
    const oldHi = this.hi;
    const oldLo = this.lo;
    this.hi = new Uint32Array(oldHi.length * 2);
    this.lo = new Uint32Array(oldLo.length * 2);
    this.size = 0;
    for (let i = 0; i < oldHi.length; i++) {
      const high = oldHi[i] ?? 0;
      const low = oldLo[i] ?? 0;
      if (high !== 0 || low !== 0) this.insert(high, low);
    }
  }
}

/**
 * The file-hash cache contract: a file whose device, inode, size and modification time (in
 * nanoseconds) are unchanged is not read again. The daemon's store keeps the real cache in
 * SQLite; this folder only defines the interface and an in-memory version for tests.
 */
import type { BigIntStats } from 'node:fs';

/**
 * What identifies one version of a file on disk, from `fs.stat(path, { bigint: true })`.
 * Numbers that can exceed 2^53 (device ids, inodes, nanosecond times) are decimal strings.
 */
export interface FileIdentity {
  dev: string;
  ino: string;
  size: number;
  mtimeNs: string;
}

/** Where hashes of unchanged files are remembered. Both calls are synchronous (SQLite). */
export interface HashCache {
  /** The hash stored for exactly this identity, or undefined. */
  get(key: FileIdentity): string | undefined;
  /** Remembers `hash` for this identity; `path` is informational (where it was last seen). */
  put(key: FileIdentity, hash: string, path: string): void;
}

/** Reads the cache identity out of a bigint stat. */
export function fileIdentity(stats: BigIntStats): FileIdentity {
  return {
    dev: stats.dev.toString(),
    ino: stats.ino.toString(),
    size: Number(stats.size),
    mtimeNs: stats.mtimeNs.toString(),
  };
}

/** True when two identities name the same version of the same file. */
export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

/** One string per identity, for use as a map key. */
export function identityKey(key: FileIdentity): string {
  return `${key.dev}:${key.ino}:${key.size}:${key.mtimeNs}`;
}

/** An in-memory HashCache that also counts its hits and misses (for tests). */
export interface MemoryHashCache extends HashCache {
  readonly hits: number;
  readonly misses: number;
  /** Number of identities stored. */
  readonly entries: number;
}

/** Creates an empty in-memory cache. */
export function createMemoryHashCache(): MemoryHashCache {
  const map = new Map<string, string>();
  let hits = 0;
  let misses = 0;
  return {
    get(key) {
      const hash = map.get(identityKey(key));
      if (hash === undefined) misses++;
      else hits++;
      return hash;
    },
    put(key, hash) {
      map.set(identityKey(key), hash);
    },
    get hits() { return hits; },
    get misses() { return misses; },
    get entries() { return map.size; },
  };
}

/**
 * The file-hash cache in SQLite (track/hash's `HashCache`): a file whose device, inode, size
 * and modification time in nanoseconds are unchanged is never read again, across daemon
 * restarts. One row per (dev, inode): a changed file overwrites its old entry.
 */
import type { FileIdentity, HashCache } from '../track/hash/cache.ts';
import type { Db } from './db.ts';

/** A cached hash and where its file was last seen. */
export interface KnownFile {
  path: string;
  sizeBytes: number;
  seenAt: number;
}

export class FileHashStore implements HashCache {
  private readonly stmts;
  #hits = 0;
  #misses = 0;

  constructor(db: Db) {
    this.stmts = {
      get: db.prepare('SELECT hash FROM file_hashes WHERE dev = ? AND ino = ? AND size_bytes = ? AND mtime_ns = ?').pluck(),
      put: db.prepare(
        `INSERT INTO file_hashes (dev, ino, size_bytes, mtime_ns, hash, path, seen_at) VALUES (@dev, @ino, @size, @mtimeNs, @hash, @path, @now)
         ON CONFLICT (dev, ino) DO UPDATE SET size_bytes = excluded.size_bytes, mtime_ns = excluded.mtime_ns,
           hash = excluded.hash, path = excluded.path, seen_at = excluded.seen_at`,
      ),
      byHash: db.prepare('SELECT path, size_bytes, seen_at FROM file_hashes WHERE hash = ? ORDER BY seen_at DESC, path'),
      count: db.prepare('SELECT count(*) FROM file_hashes').pluck(),
    };
  }

  /** The hash stored for exactly this identity; a stale row (other size or mtime) is a miss. */
  get(key: FileIdentity): string | undefined {
    const hash: unknown = this.stmts.get.get(key.dev, key.ino, key.size, key.mtimeNs);
    if (typeof hash === 'string') {
      this.#hits++;
      return hash;
    }
    this.#misses++;
    return undefined;
  }

  put(key: FileIdentity, hash: string, path: string): void {
    this.stmts.put.run({ dev: key.dev, ino: key.ino, size: key.size, mtimeNs: key.mtimeNs, hash, path, now: Date.now() });
  }

  /**
   * Paths where a file with this content was last seen, most recent first: finds a moved or
   * copied dataset file again without reading anything. The paths may no longer exist.
   */
  findByHash(hash: string): KnownFile[] {
    return (this.stmts.byHash.all(hash) as { path: string; size_bytes: number; seen_at: number }[]).map((r) => ({
      path: r.path,
      sizeBytes: r.size_bytes,
      seenAt: r.seen_at,
    }));
  }

  /** Lookups answered from the cache since this store was opened. */
  get hits(): number {
    return this.#hits;
  }

  /** Lookups that found nothing (the file was read) since this store was opened. */
  get misses(): number {
    return this.#misses;
  }

  /** Number of files remembered. */
  get entries(): number {
    return this.stmts.count.get() as number;
  }
}

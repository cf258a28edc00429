/**
 * Blobs: bytes stored once under their content hash (dirty patches, raw config text).
 * Putting the same content twice stores it once and returns the same hash.
 */
import { hashBytes } from '../track/hash/algorithm.ts';
import type { Db } from './db.ts';

export class BlobStore {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      insert: db.prepare('INSERT OR IGNORE INTO blobs (hash, size_bytes, content, created_at) VALUES (?, ?, ?, ?)'),
      get: db.prepare('SELECT content FROM blobs WHERE hash = ?').pluck(),
      size: db.prepare('SELECT size_bytes FROM blobs WHERE hash = ?').pluck(),
    };
  }

  /** Stores `content` (text is stored as UTF-8) unless it is already there; returns its `sha256:<hex>` hash. */
  put(content: Buffer | string): string {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const hash = hashBytes(bytes);
    this.stmts.insert.run(hash, bytes.length, bytes, Date.now());
    return hash;
  }

  /** The stored bytes, or undefined when no blob has this hash. */
  get(hash: string): Buffer | undefined {
    const content: unknown = this.stmts.get.get(hash);
    return Buffer.isBuffer(content) ? content : undefined;
  }

  /** The stored bytes as UTF-8 text. */
  getText(hash: string): string | undefined {
    return this.get(hash)?.toString('utf8');
  }

  /** Size in bytes of a stored blob, without reading it; undefined when absent. */
  size(hash: string): number | undefined {
    const size: unknown = this.stmts.size.get(hash);
    return typeof size === 'number' ? size : undefined;
  }

  has(hash: string): boolean {
    return this.size(hash) !== undefined;
  }
}

/**
 * Read positions in files that only grow (metrics.jsonl, logs, TensorBoard event files), per
 * owner (e.g. `run:<id>`), so a restarted daemon resumes where it stopped: no gap, no
 * duplicate. `state` is free JSON for what a reader must remember besides the offset — the
 * tfevents plugin per tag, and the file's identity (dev/inode) so a replaced file restarts at 0.
 */
import type { Db } from './db.ts';

/** A stored read position. */
export interface FileCursor {
  byteOffset: number;
  lineCount: number;
  /** Reader-specific JSON (parsed); null when none was stored. Validate before use. */
  state: unknown;
  updatedAt: number;
}

/** What to store; `lineCount` defaults to 0 and `state` to null. */
export interface FileCursorInput {
  byteOffset: number;
  lineCount?: number;
  state?: unknown;
}

interface CursorRow {
  file: string;
  byte_offset: number;
  line_count: number;
  state_json: string | null;
  updated_at: number;
}

function toCursor(r: CursorRow): FileCursor {
  return {
    byteOffset: r.byte_offset,
    lineCount: r.line_count,
    state: r.state_json === null ? null : (JSON.parse(r.state_json) as unknown),
    updatedAt: r.updated_at,
  };
}

export class CursorStore {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      get: db.prepare('SELECT * FROM cursors WHERE owner = ? AND file = ?'),
      put: db.prepare(`INSERT INTO cursors (owner, file, byte_offset, line_count, state_json, updated_at)
        VALUES (@owner, @file, @byteOffset, @lineCount, @state, @now)
        ON CONFLICT (owner, file) DO UPDATE SET byte_offset = excluded.byte_offset, line_count = excluded.line_count,
          state_json = excluded.state_json, updated_at = excluded.updated_at`),
      list: db.prepare('SELECT * FROM cursors WHERE owner = ? ORDER BY file'),
      delete: db.prepare('DELETE FROM cursors WHERE owner = ? AND file = ?'),
      deleteOwner: db.prepare('DELETE FROM cursors WHERE owner = ?'),
    };
  }

  get(owner: string, file: string): FileCursor | undefined {
    const row = this.stmts.get.get(owner, file) as CursorRow | undefined;
    return row ? toCursor(row) : undefined;
  }

  /** Stores (or replaces) the cursor of `file` for `owner`. */
  put(owner: string, file: string, cursor: FileCursorInput): void {
    this.stmts.put.run({
      owner,
      file,
      byteOffset: Math.trunc(cursor.byteOffset),
      lineCount: Math.trunc(cursor.lineCount ?? 0),
      state: cursor.state === undefined || cursor.state === null ? null : JSON.stringify(cursor.state),
      now: Date.now(),
    });
  }

  /** Every cursor of an owner, by file. */
  list(owner: string): (FileCursor & { file: string })[] {
    return (this.stmts.list.all(owner) as CursorRow[]).map((r) => ({ file: r.file, ...toCursor(r) }));
  }

  /** Forgets one file's cursor (it will be read from the start). */
  delete(owner: string, file: string): void {
    this.stmts.delete.run(owner, file);
  }

  /** Forgets every cursor of an owner (e.g. a deleted run); returns how many. */
  deleteOwner(owner: string): number {
    return this.stmts.deleteOwner.run(owner).changes;
  }
}

/**
 * Opens keel.db: WAL, foreign keys on, a busy timeout, and every pending migration
 * applied in its own transaction. A file that is not a SQLite database, or one that
 * fails its integrity check, is reported with E_STORE_CORRUPT and never replaced.
 */
import Database from 'better-sqlite3';
import { migrations } from './migrations.ts';

export type Db = Database.Database;

/** Raised when keel.db cannot be used as it is; the file is left untouched. */
export class StoreOpenError extends Error {
  readonly code: 'E_STORE_CORRUPT' | 'E_STORE_TOO_NEW' | 'E_STORE_IO';
  constructor(code: StoreOpenError['code'], message: string) {
    super(message);
    this.name = 'StoreOpenError';
    this.code = code;
  }
}

export interface OpenOptions {
  readonly?: boolean;
  /** Run the full `PRAGMA integrity_check` at open (slow on big files; the daemon uses quick_check). */
  fullCheck?: boolean;
}

export function openDb(file: string, opts: OpenOptions = {}): Db {
  let db: Db;
  try {
    db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (err) {
    throw new StoreOpenError('E_STORE_IO', `cannot open the database ${file}: ${(err as Error).message}`);
  }
  try {
    db.pragma('busy_timeout = 5000');
    const check = db.pragma(opts.fullCheck ? 'integrity_check' : 'quick_check', { simple: true });
    if (check !== 'ok') throw new Error(String(check));
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
  } catch (err) {
    db.close();
    throw new StoreOpenError(
      'E_STORE_CORRUPT',
      `the database ${file} is damaged or is not a Keel database (${(err as Error).message}). ` +
        'Keel left it untouched: move it aside (or restore a backup) and start again to create a new one.',
    );
  }
  if (!opts.readonly) migrate(db, file);
  return db;
}

function migrate(db: Db, file: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    db.close();
    throw new StoreOpenError(
      'E_STORE_TOO_NEW',
      `the database ${file} has schema version ${current}, newer than this Keel understands (${migrations.length}); upgrade Keel.`,
    );
  }
  for (let version = current; version < migrations.length; version++) {
    const sql = migrations[version] ?? '';
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}

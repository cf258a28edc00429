/**
 * Opens keel.db: private (0600, and so its -wal and -shm, which SQLite creates with the
 * database's mode), WAL, foreign keys on, a busy timeout, and every pending migration
 * applied safely (migrate.ts) — or, for a new file, the latest schema in one script
 * (schema-latest.ts). A check reads the whole file, so it runs only when needed:
 * `quick_check` after an unclean shutdown or before a schema change, `integrity_check` when
 * asked. A file that is not a SQLite database, or fails its check, is reported with
 * E_STORE_CORRUPT and never replaced.
 */
import Database from 'better-sqlite3';
import { tightenMode, withUmask } from '../home/paths.ts';
import { migrations } from './migrations.ts';
import { LATEST_SCHEMA } from './schema-latest.ts';
import { migrate, schemaVersion, type Migration, type MigrationOutcome } from './migrate.ts';
import { StoreOpenError } from './open-error.ts';

export type Db = Database.Database;
export { StoreOpenError } from './open-error.ts';

export interface OpenOptions {
  readonly?: boolean;
  /** Run the full `PRAGMA integrity_check` at open (slow on big files; otherwise see the module comment). */
  fullCheck?: boolean;
  /** The schema to migrate to (default: migrations.ts). Tests pass their own to exercise failures. */
  migrations?: readonly Migration[];
}

/** What opening found and did, for the daemon's start log. */
export interface OpenReport {
  check: 'none' | 'quick_check' | 'integrity_check';
  /**
   * Whether the last process that opened the file for writing closed it: false after a
   * crash, a kill -9 or a power cut; null when unknown (a new file, or one from a Keel
   * that did not record it).
   */
  lastShutdownClean: boolean | null;
  migration: MigrationOutcome | null;
}

/** meta key: `open` while a process has the store open for writing, `clean` once it closed it. */
export const SHUTDOWN_STATE_KEY = 'store_shutdown_state';

/** Files SQLite keeps for one database. */
export function databaseFiles(file: string): string[] {
  return [file, `${file}-wal`, `${file}-shm`];
}

function corrupt(file: string, err: unknown): StoreOpenError {
  return new StoreOpenError(
    'E_STORE_CORRUPT',
    `the database ${file} is damaged or is not a Keel database (${(err as Error).message}). ` +
      'Keel left it untouched: move it aside (or restore a backup) and start again to create a new one.',
  );
}

function lastShutdownClean(db: Db, version: number): boolean | null {
  if (version === 0) return null;
  try {
    const state = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(SHUTDOWN_STATE_KEY) as string | undefined;
    return state === undefined ? null : state === 'clean';
  } catch {
    return null;
  }
}

function checkToRun(opts: OpenOptions, version: number, target: number, clean: boolean | null): OpenReport['check'] {
  if (opts.fullCheck) return 'integrity_check';
  if (version === 0) return 'none';
  return clean !== true || (!opts.readonly && version < target) ? 'quick_check' : 'none';
}

function connect(file: string, opts: OpenOptions): Db {
  try {
    if (!opts.readonly) for (const f of databaseFiles(file)) tightenMode(f, 0o600);
    return new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (err) {
    throw new StoreOpenError('E_STORE_IO', `cannot open the database ${file}: ${(err as Error).message}`);
  }
}

/** Opens (creating, checking and migrating as needed) the database `file`; see the module comment. */
export function openDb(file: string, opts: OpenOptions = {}): { db: Db; report: OpenReport } {
  const target = opts.migrations ?? migrations;
  // 077 while SQLite creates keel.db, -wal and -shm: never readable by others, not even briefly.
  return withUmask(0o077, () => {
    const db = connect(file, opts);
    let report: OpenReport;
    try {
      db.pragma('busy_timeout = 5000');
      const version = schemaVersion(db);
      const clean = lastShutdownClean(db, version);
      report = { check: checkToRun(opts, version, target.length, clean), lastShutdownClean: clean, migration: null };
      if (report.check !== 'none') {
        const result = db.pragma(report.check, { simple: true });
        if (result !== 'ok') throw new Error(String(result));
      }
      if (!opts.readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      }
    } catch (err) {
      db.close();
      throw corrupt(file, err);
    }
    if (opts.readonly) {
      db.pragma('foreign_keys = ON');
      return { db, report };
    }
    try {
      // A new file gets the latest schema in one script; tests that pass their own list do not.
      report.migration = migrate(db, file, target, opts.migrations ? undefined : LATEST_SCHEMA);
      db.pragma('foreign_keys = ON');
      markShutdownState(db, 'open');
    } catch (err) {
      db.close();
      throw err;
    }
    return { db, report };
  });
}

/** Records whether the store is open (`open`) or was closed properly (`clean`); see OpenReport. */
export function markShutdownState(db: Db, state: 'open' | 'clean'): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(SHUTDOWN_STATE_KEY, state);
}

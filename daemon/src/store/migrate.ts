/**
 * Applying schema migrations so keel.db is never left half-changed: a copy of the file is
 * taken first, then every pending migration runs in ONE transaction with foreign keys off
 * (set outside the transaction, where the pragma takes effect), the result must pass
 * `PRAGMA foreign_key_check`, and only then is `user_version` bumped and the transaction
 * committed. Any failure rolls everything back and refuses to open, naming the backup.
 */
import { chmodSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { withUmask } from '../home/paths.ts';
import type { Db } from './db.ts';
import { StoreOpenError } from './open-error.ts';

/** One step of a migration: SQL, or a function for what SQL alone cannot say (e.g. `rebuildTable`). */
export type MigrationStep = string | ((db: Db) => void);

/** One schema version: what it changes (for messages) and its steps, in order. */
export interface Migration {
  title: string;
  steps: readonly MigrationStep[];
}

/**
 * The latest schema as one script (schema-latest.ts, generated from the migrations): a new,
 * empty file is created with it in one transaction instead of running every migration in turn.
 */
export interface FreshSchema {
  /** The version it is: used only when it equals the number of migrations. */
  version: number;
  statements: readonly string[];
}

/** What opening did to the schema. `backup` is the copy taken before a change, if one was needed. */
export interface MigrationOutcome {
  from: number;
  to: number;
  backup: string | null;
}

/** Backups of keel.db taken before migrations: the newest this many are kept. */
export const KEPT_BACKUPS = 3;

const BACKUP_NAME = /\.backup-v(\d+)-(\d{8}T\d{9}Z)$/;

interface ForeignKeyProblem {
  table: string;
  rowid: number | null;
  parent: string;
}

/** The schema version of an open database. */
export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings `db` (the file `file`) to the latest version in `list`; see the module comment. An
 * empty file is created from `fresh` instead when it is that same version.
 */
export function migrate(db: Db, file: string, list: readonly Migration[], fresh?: FreshSchema): MigrationOutcome {
  const from = schemaVersion(db);
  if (from > list.length) {
    throw new StoreOpenError(
      'E_STORE_TOO_NEW',
      `the database ${file} has schema version ${from}, newer than this Keel understands (${list.length}); upgrade Keel.`,
    );
  }
  if (from === list.length) return { from, to: from, backup: null };
  if (from === 0 && fresh?.version === list.length && !hasTables(db)) {
    createLatest(db, file, fresh);
    return { from, to: list.length, backup: null };
  }
  const backup = hasTables(db) ? backupBeforeMigration(db, file, from) : null;
  applyPending(db, file, list, from, backup);
  return { from, to: list.length, backup };
}

function hasTables(db: Db): boolean {
  return db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' LIMIT 1").get() !== undefined;
}

/**
 * Copies keel.db to `keel.db.backup-v<N>-<time>` beside it (0600), then keeps the newest
 * KEPT_BACKUPS. `VACUUM INTO` rather than better-sqlite3's `backup()`: the store opens
 * synchronously and `backup()` only exists as a Promise; VACUUM INTO is SQLite's own
 * consistent online copy, synchronous, and leaves the copy compact.
 */
export function backupBeforeMigration(db: Db, file: string, version: number): string {
  const stamp = new Date().toISOString().replace(/[-:.]/g, '');
  const target = `${file}.backup-v${version}-${stamp}`;
  try {
    withUmask(0o077, () => db.prepare('VACUUM INTO ?').run(target));
    chmodSync(target, 0o600);
  } catch (err) {
    throw new StoreOpenError(
      'E_STORE_MIGRATION',
      `cannot back up the database ${file} to ${target} before upgrading its schema (${(err as Error).message}); ` +
        'nothing was changed. Free some disk space (or fix the folder\'s permissions) and start Keel again.',
    );
  }
  pruneBackups(file);
  return target;
}

/** Removes all but the newest KEPT_BACKUPS backups of `file` (by the time in their names). */
export function pruneBackups(file: string): void {
  const dir = dirname(file);
  const prefix = `${basename(file)}.backup-v`;
  const backups = readdirSync(dir)
    .filter((name) => name.startsWith(prefix) && BACKUP_NAME.test(name))
    .sort((a, b) => (BACKUP_NAME.exec(b)?.[2] ?? '').localeCompare(BACKUP_NAME.exec(a)?.[2] ?? ''));
  for (const name of backups.slice(KEPT_BACKUPS)) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, name + suffix), { force: true });
  }
}

function createLatest(db: Db, file: string, fresh: FreshSchema): void {
  try {
    db.transaction(() => {
      for (const sql of fresh.statements) db.exec(sql);
      db.pragma(`user_version = ${fresh.version}`);
    }).immediate();
  } catch (err) {
    throw new StoreOpenError(
      'E_STORE_MIGRATION',
      `cannot create the schema (version ${fresh.version}) in the new database ${file}: ${(err as Error).message}. ` +
        'Nothing was written (it is one transaction). Report the problem with daemon.log.',
    );
  }
}

function applyPending(db: Db, file: string, list: readonly Migration[], from: number, backup: string | null): void {
  const legacy = db.pragma('legacy_alter_table', { simple: true }) as number;
  // Outside the transaction: inside one, PRAGMA foreign_keys is a no-op. With foreign keys
  // on, DROP TABLE during a rebuild would run ON DELETE CASCADE and empty the child tables.
  db.pragma('foreign_keys = OFF');
  // Off (the default since 3.26): renaming `x__rebuild` to `x` then also rewrites references
  // in triggers and views; nothing refers to the temporary name, so no foreign key is moved.
  db.pragma('legacy_alter_table = OFF');
  let version = from;
  try {
    db.transaction(() => {
      for (; version < list.length; version++) {
        for (const step of list[version]?.steps ?? []) {
          if (typeof step === 'string') db.exec(step);
          else step(db);
        }
      }
      const broken = db.pragma('foreign_key_check') as ForeignKeyProblem[];
      if (broken.length > 0) throw new Error(`the result fails its foreign key check: ${describeProblems(broken)}`);
      db.pragma(`user_version = ${list.length}`);
    }).immediate();
  } catch (err) {
    const which = version < list.length ? `migration ${version + 1} (${list[version]?.title ?? '?'})` : 'the upgrade';
    throw new StoreOpenError(
      'E_STORE_MIGRATION',
      `cannot upgrade the database ${file} from schema version ${from} to ${list.length}: ${which} failed: ${(err as Error).message}. ` +
        'Nothing in it was changed (the upgrade is one transaction and was rolled back)' +
        `${backup ? `; a copy taken just before is at ${backup}` : ''}. ` +
        'Keep using the previous Keel version with this file, and report the problem with daemon.log.',
    );
  } finally {
    db.pragma(`legacy_alter_table = ${legacy ? 'ON' : 'OFF'}`);
    db.pragma('foreign_keys = ON');
  }
}

function describeProblems(rows: readonly ForeignKeyProblem[]): string {
  const shown = rows.slice(0, 5).map((r) => `${r.rowid === null ? `a ${r.table} row` : `${r.table} row ${r.rowid}`} points at a missing ${r.parent} record`);
  return shown.join('; ') + (rows.length > shown.length ? `; and ${rows.length - shown.length} more` : '');
}

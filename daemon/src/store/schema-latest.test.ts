/**
 * A new keel.db is created from schema-latest.ts in one transaction instead of by running
 * every migration: that script must be exactly what the migrations make. Checked against
 * the migrations as they are now (a new migration without regenerating fails here), and by
 * comparing a new file with files migrated step by step from version 1 — empty, and full of
 * rows — on everything in sqlite_schema (tables with their CHECKs and defaults, indexes,
 * triggers, views, SQLite's own objects) and user_version.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { snapshotTables, v1SchemaSql, writeV1Database } from '../../../test/support/v1-database.ts';
import { Store } from './index.ts';
import { migrate } from './migrate.ts';
import { migrations } from './migrations.ts';
import { LATEST_SCHEMA } from './schema-latest.ts';
import { latestSchemaModule } from './schema-latest-source.ts';

type SchemaRow = { type: string; name: string; tbl_name: string; sql: string | null };

function schemaOf(file: string): { rows: SchemaRow[]; userVersion: number } {
  const db = new Database(file, { readonly: true });
  try {
    return {
      rows: db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name').all() as SchemaRow[],
      userVersion: db.pragma('user_version', { simple: true }) as number,
    };
  } finally {
    db.close();
  }
}

describe('the latest schema in one script', () => {
  const root = mkdtempSync(join(tmpdir(), 'keel-schema-latest-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  const file = (): string => join(root, `${n++}.db`);

  it('is what the current migrations make (else run `node scripts/schema-latest.mjs`)', () => {
    const current = readFileSync(join(import.meta.dirname, 'schema-latest.ts'), 'utf8');
    assert.equal(current, latestSchemaModule(file()), 'daemon/src/store/schema-latest.ts is out of date: run `node scripts/schema-latest.mjs`');
    assert.equal(LATEST_SCHEMA.version, migrations.length);
  });

  it('a new keel.db has the same sqlite_schema and user_version as one migrated step by step from version 1', () => {
    const made = file();
    const store = new Store(made);
    assert.deepEqual(store.opened.migration, { from: 0, to: migrations.length, backup: null });
    store.close();

    const emptyV1 = file();
    const raw = new Database(emptyV1);
    raw.exec(v1SchemaSql());
    raw.pragma('user_version = 1');
    raw.close();
    new Store(emptyV1).close();

    const fullV1 = file();
    writeV1Database(fullV1);
    new Store(fullV1).close();

    const fresh = schemaOf(made);
    assert.equal(fresh.userVersion, migrations.length);
    // (Keel's schema has no triggers or views today; any one added would be compared the same way.)
    assert.ok(fresh.rows.some((r) => r.type === 'index' && r.sql === null) && fresh.rows.some((r) => r.type === 'index' && r.sql !== null) && fresh.rows.some((r) => /CHECK/.test(r.sql ?? '')),
      'the comparison covers automatic and declared indexes and CHECKs');
    assert.deepEqual(schemaOf(emptyV1), fresh);
    assert.deepEqual(schemaOf(fullV1), fresh);
    // And the same rows: what a new store writes at open (meta) is the same either way.
    assert.deepEqual(snapshotTables(made), snapshotTables(emptyV1));
  });

  it('is used only for an empty file at the same version; anything else migrates step by step', () => {
    const probe = { version: migrations.length, statements: ['CREATE TABLE made_by_the_script (x)'] };
    const names = (f: string): string[] => schemaOf(f).rows.map((r) => r.name);

    const empty = file();
    const a = new Database(empty);
    assert.deepEqual(migrate(a, empty, migrations, probe), { from: 0, to: migrations.length, backup: null });
    a.close();
    assert.deepEqual(names(empty), ['made_by_the_script']);
    assert.equal(schemaOf(empty).userVersion, migrations.length);

    const stale = file();
    const b = new Database(stale);
    migrate(b, stale, migrations, { ...probe, version: migrations.length - 1 });
    b.close();
    assert.ok(!names(stale).includes('made_by_the_script') && names(stale).includes('runs'), 'a script of another version is not used');

    const v1 = file();
    writeV1Database(v1);
    const c = new Database(v1);
    migrate(c, v1, migrations, probe);
    c.close();
    assert.ok(!names(v1).includes('made_by_the_script'), 'an existing database migrates step by step');
  });
});

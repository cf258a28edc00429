/**
 * Schema migrations on real files: a version-1 keel.db full of linked rows is upgraded with
 * the table-rebuild recipe (runs gains `incomplete`) and loses nothing; a failing step or a
 * failing foreign key check refuses to open and leaves the file as it was, naming the
 * backup; backups are private and only the newest three are kept.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { snapshotTables, writeV1Database } from '../../../test/support/v1-database.ts';
import { Store, StoreOpenError, type Migration } from './index.ts';
import { migrations } from './migrations.ts';
import { KEPT_BACKUPS, migrate } from './migrate.ts';
import { rebuildTable } from './table-rebuild.ts';

const backupsOf = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith('keel.db.backup-v')).sort();

describe('migrating a version-1 keel.db', () => {
  const root = mkdtempSync(join(tmpdir(), 'keel-migrate-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  const fresh = (): { dir: string; file: string } => {
    const dir = join(root, String(n++));
    const file = join(dir, 'keel.db');
    mkdirSync(dir);
    return { dir, file };
  };

  it('leaves series recorded before rollups drawable: built lazily, best step found on first use', () => {
    const { file } = fresh();
    const fixture = writeV1Database(file);
    const store = new Store(file);
    try {
      const runId = fixture.parentRunId;
      const key = store.metrics.resolveKey(runId, 'loss') ?? 'loss';
      const raw = new Database(file, { readonly: true });
      try {
        assert.deepEqual(raw.prepare('SELECT DISTINCT rollup_ready, min_step FROM metric_series').all(), [{ rollup_ready: 0, min_step: null }]);
      } finally {
        raw.close();
      }
      const drawn = store.metrics.downsample(runId, key, 2);
      assert.deepEqual(drawn.points.map((p) => p.step), [1, 3], 'drawn from its points (first and last)');
      assert.equal(store.metrics.stepOfBest(runId, key, 'min'), 3, 'loss 1/step is lowest at step 3');
      assert.equal(store.metrics.stepOfBest(runId, key, 'max'), 1);
    } finally {
      store.close();
    }
  });

  it('rebuilds runs with the new CHECK and keeps every row and every link', () => {
    const { dir, file } = fresh();
    const fixture = writeV1Database(file);
    const before = snapshotTables(file);
    assert.equal(before.runs?.length, 3);
    const store = new Store(file);
    assert.equal(store.schemaVersion(), migrations.length);
    assert.equal(store.opened.migration?.from, 1);
    assert.equal(store.opened.check, 'quick_check', 'a schema change is preceded by a check');
    const backup = store.opened.migration?.backup ?? '';
    store.close();

    const afterRows = snapshotTables(file, ['deleted_outputs', 'run_intents']);
    for (const [table, rows] of Object.entries(before)) {
      const all = table === 'meta' ? afterRows[table]?.filter((r) => (r as { key: string }).key !== 'store_shutdown_state') : afterRows[table];
      // Later migrations add columns (with defaults): the columns the table had keep their values.
      const columns = Object.keys(rows[0] ?? {});
      const got = all?.map((r) => Object.fromEntries(columns.map((c) => [c, (r as Record<string, unknown>)[c]])));
      assert.deepEqual(got, rows, `table ${table} is unchanged`);
    }
    const db = new Database(file);
    try {
      assert.deepEqual(db.pragma('foreign_key_check'), []);
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      const indexes = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'runs' AND sql IS NOT NULL ORDER BY name").pluck().all();
      // The rebuild kept the indexes runs had (later migrations add more).
      for (const name of ['runs_by_output_dir', 'runs_by_project', 'runs_by_status']) assert.ok(indexes.includes(name), `index ${name} kept: ${indexes.join(', ')}`);
      // Every table that referred to runs still does, by name, and the links resolve.
      for (const table of ['run_params', 'metric_series', 'checkpoints', 'evals', 'events', 'jobs', 'runs']) {
        const refs = (db.prepare(`PRAGMA foreign_key_list(${table})`).all() as { table: string }[]).map((r) => r.table);
        assert.ok(refs.includes('runs'), `${table} still refers to runs`);
      }
      assert.equal(db.prepare('SELECT parent_run_id FROM runs WHERE id = ?').pluck().get(fixture.childRunId), fixture.parentRunId);
      db.pragma('foreign_keys = ON');
      // The new CHECK: `incomplete` is accepted, nonsense still refused.
      db.prepare("UPDATE runs SET status = 'incomplete' WHERE id = ?").run(fixture.childRunId);
      assert.throws(() => db.prepare("UPDATE runs SET status = 'bogus' WHERE id = ?").run(fixture.childRunId), /CHECK constraint failed/);
      // ON DELETE actions still work against the rebuilt table: cascade to children, SET NULL on the child run.
      db.prepare('DELETE FROM runs WHERE id = ?').run(fixture.parentRunId);
      for (const table of ['run_params', 'metric_series', 'events', 'jobs']) {
        assert.equal(db.prepare(`SELECT count(*) FROM ${table} WHERE run_id = ?`).pluck().get(fixture.parentRunId), 0, `${table} cascaded`);
      }
      assert.equal(db.prepare('SELECT parent_run_id FROM runs WHERE id = ?').pluck().get(fixture.childRunId), null);
      assert.deepEqual(db.pragma('foreign_key_check'), []);
    } finally {
      db.close();
    }

    assert.deepEqual(backupsOf(dir), [backup.slice(dir.length + 1)]);
    assert.match(backup, /keel\.db\.backup-v1-\d{8}T\d{9}Z$/);
    assert.equal(statSync(backup).mode & 0o777, 0o600);
    const copy = new Database(backup, { readonly: true });
    assert.equal(copy.pragma('user_version', { simple: true }), 1);
    assert.equal(copy.prepare('SELECT count(*) FROM runs').pluck().get(), 3);
    copy.close();
  });

  it('a store at version 2 takes incomplete runs', () => {
    const { file } = fresh();
    writeV1Database(file);
    const store = new Store(file);
    const run = store.runs.create({ projectId: null, source: 'import', status: 'incomplete' });
    assert.equal(store.runs.get(run.id)?.status, 'incomplete');
    store.close();
  });

  it('refuses to open when the result fails its foreign key check, and changes nothing', () => {
    const { dir, file } = fresh();
    writeV1Database(file, { danglingRow: true });
    const bytes = readFileSync(file);
    assert.throws(() => new Store(file), (e: unknown) => {
      assert.ok(e instanceof StoreOpenError);
      assert.equal(e.code, 'E_STORE_MIGRATION');
      assert.match(e.message, /foreign key check: a run_params row points at a missing runs record/);
      assert.match(e.message, /Nothing in it was changed/);
      assert.ok(e.message.includes(join(dir, backupsOf(dir)[0] ?? '?')), `the message names the backup: ${e.message}`);
      return true;
    });
    assert.ok(readFileSync(file).equals(bytes), 'keel.db is byte for byte what it was');
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), 1);
    db.close();
  });

  it('refuses to open when a step throws, and rolls back the steps before it', () => {
    const { dir, file } = fresh();
    writeV1Database(file);
    const bytes = readFileSync(file);
    const failing: Migration[] = [
      ...migrations,
      { title: 'add a table, then fail', steps: ['CREATE TABLE extra (x)', () => { throw new Error('disk on fire'); }] },
    ];
    assert.throws(() => new Store(file, { migrations: failing }), (e: unknown) =>
      e instanceof StoreOpenError && e.code === 'E_STORE_MIGRATION' &&
      e.message.includes(`from schema version 1 to ${failing.length}: migration ${failing.length} (add a table, then fail) failed: disk on fire`) &&
      e.message.includes(join(dir, backupsOf(dir)[0] ?? '?')));
    assert.ok(readFileSync(file).equals(bytes), 'keel.db is byte for byte what it was: migration 2 was rolled back too');
  });

  it('keeps only the newest backups', () => {
    const { dir, file } = fresh();
    writeV1Database(file);
    const old = ['20200101T000000000Z', '20210101T000000000Z', '20220101T000000000Z', '20230101T000000000Z'].map((t) => `keel.db.backup-v1-${t}`);
    for (const name of old) copyFileSync(file, join(dir, name));
    writeFileSync(join(dir, 'keel.db.backup-notes.txt'), 'not a backup');
    new Store(file).close();
    const kept = backupsOf(dir);
    assert.equal(kept.length, KEPT_BACKUPS);
    assert.deepEqual(kept.slice(0, 2), old.slice(2), 'the two newest old ones and the new one');
    assert.ok(existsSync(join(dir, 'keel.db.backup-notes.txt')), 'other files are left alone');
  });

  it('a new file needs no backup', () => {
    const { dir, file } = fresh();
    const store = new Store(file);
    assert.equal(store.opened.migration?.backup, null);
    store.close();
    assert.deepEqual(backupsOf(dir), []);
  });
});

describe('rebuildTable', () => {
  const root = mkdtempSync(join(tmpdir(), 'keel-rebuild-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('recreates views and triggers that name the table, and fills new columns', () => {
    const file = join(root, 'views.db');
    const list: Migration[] = [
      { title: 'base', steps: [`CREATE TABLE parent (id INTEGER PRIMARY KEY, v TEXT CHECK (v IN ('a')));
        CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE);
        CREATE TABLE log (msg TEXT);
        CREATE INDEX parent_by_v ON parent(v);
        CREATE VIEW parent_view AS SELECT id, v FROM parent;
        CREATE TRIGGER child_added AFTER INSERT ON child BEGIN INSERT INTO log SELECT v FROM parent WHERE id = new.parent_id; END;
        INSERT INTO parent VALUES (1, 'a'); INSERT INTO child VALUES (10, 1);`] },
      { title: 'widen v', steps: [(db) => rebuildTable(db, {
        table: 'parent',
        create: (name) => `CREATE TABLE ${name} (id INTEGER PRIMARY KEY, v TEXT CHECK (v IN ('a', 'b')), upper_v TEXT)`,
        fill: { upper_v: 'upper(v)' },
      })] },
    ];
    const db = new Database(file);
    migrate(db, file, list);
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1, 'foreign keys are back on');
    assert.deepEqual(db.prepare('SELECT * FROM parent_view').all(), [{ id: 1, v: 'a' }]);
    assert.equal(db.prepare('SELECT upper_v FROM parent').pluck().get(), 'A');
    db.prepare("INSERT INTO parent VALUES (2, 'b', 'B')").run();
    db.prepare('INSERT INTO child VALUES (11, 2)').run();
    assert.deepEqual(db.prepare('SELECT msg FROM log').pluck().all(), ['a', 'b'], 'the trigger on another table still works');
    assert.ok(db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'parent_by_v'").get(), 'the index is back');
    db.prepare('DELETE FROM parent WHERE id = 1').run();
    assert.equal(db.prepare('SELECT count(*) FROM child WHERE parent_id = 1').pluck().get(), 0, 'the foreign key follows the rebuilt table');
    db.close();
  });

  it('refuses to run outside a migration (foreign keys on would cascade the drop)', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (x)');
    db.pragma('foreign_keys = ON');
    assert.throws(() => db.transaction(() => rebuildTable(db, { table: 't', create: (name) => `CREATE TABLE ${name} (x)` }))(), /foreign keys off/);
    db.close();
  });
});

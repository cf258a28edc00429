/**
 * Opening keel.db: the whole-file check runs only when it is needed (after an unclean
 * shutdown — here a real process killed with SIGKILL — or when asked), and the database
 * files are private to their user.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from './index.ts';

const storeModule = join(import.meta.dirname, 'index.ts');

/** Opens the store in another process that is then killed: it never closes. */
function openAndKill(file: string): void {
  const code = `import(${JSON.stringify(storeModule)}).then(({ Store }) => { const s = new Store(${JSON.stringify(file)}); s.runs.create({ projectId: null, source: 'import' }); process.kill(process.pid, 'SIGKILL'); });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(r.signal, 'SIGKILL', r.stderr);
}

describe('checks at open', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-open-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('skips the whole-file check after a clean shutdown', () => {
    const file = join(dir, 'clean.db');
    const first = new Store(file);
    assert.deepEqual({ check: first.opened.check, clean: first.opened.lastShutdownClean }, { check: 'none', clean: null }, 'a new file');
    first.close();
    const again = new Store(file);
    assert.deepEqual({ check: again.opened.check, clean: again.opened.lastShutdownClean }, { check: 'none', clean: true });
    again.close();
  });

  it('runs quick_check after a process died with the store open, then trusts the next clean close', () => {
    const file = join(dir, 'killed.db');
    new Store(file).close();
    openAndKill(file);
    const after = new Store(file);
    assert.deepEqual({ check: after.opened.check, clean: after.opened.lastShutdownClean }, { check: 'quick_check', clean: false });
    assert.equal(after.runs.list().length, 1, 'what the killed process committed is there');
    after.close();
    const next = new Store(file);
    assert.equal(next.opened.check, 'none');
    next.close();
  });

  it('checks a file whose last shutdown is unknown (from an older Keel), and always when asked', () => {
    const file = join(dir, 'older.db');
    new Store(file).close();
    const raw = new Database(file);
    raw.prepare("DELETE FROM meta WHERE key = 'store_shutdown_state'").run();
    raw.close();
    const older = new Store(file);
    assert.deepEqual({ check: older.opened.check, clean: older.opened.lastShutdownClean }, { check: 'quick_check', clean: null });
    older.close();
    const full = new Store(file, { fullCheck: true });
    assert.equal(full.opened.check, 'integrity_check');
    full.close();
  });
});

describe('private database files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-private-db-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

  it('creates keel.db, -wal and -shm 0600 whatever the umask', () => {
    const previous = process.umask(0o022);
    try {
      const file = join(dir, 'new.db');
      const store = new Store(file);
      store.runs.create({ projectId: null, source: 'import' });
      for (const f of [file, `${file}-wal`, `${file}-shm`]) {
        assert.ok(existsSync(f), `${f} exists while the store is open`);
        assert.equal(mode(f), '600', f);
      }
      store.close();
      assert.equal(process.umask(), 0o022, 'the umask is restored');
    } finally {
      process.umask(previous);
    }
  });

  it('tightens files an older Keel left 0644', () => {
    const file = join(dir, 'old.db');
    new Store(file).close();
    const raw = new Database(file);
    raw.pragma('journal_mode = WAL');
    raw.prepare('SELECT 1').get();
    for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o644);
    const store = new Store(file);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) assert.equal(mode(f), '600', f);
    store.close();
    raw.close();
  });
});

/**
 * A real daemon meeting a keel.db from an older Keel: it upgrades a sound one (a backup
 * beside it) and serves its runs; it refuses one whose upgrade fails — exit 4, keel.db
 * byte for byte as it was, the message naming the backup.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { TestHome } from './support/keel-home.ts';
import { writeV1Database } from './support/v1-database.ts';
import { migrations } from '../daemon/src/store/migrations.ts';

describe('daemon start on a version-1 keel.db', () => {
  const homes: TestHome[] = [];
  after(() => { for (const h of homes) h.cleanup(); });
  const home = (): TestHome => {
    const h = new TestHome('keel-upgrade-');
    mkdirSync(h.home, { mode: 0o700 });
    homes.push(h);
    return h;
  };

  it('upgrades it, keeps a backup, and serves the old runs', () => {
    const h = home();
    const fixture = writeV1Database(h.db);
    const { runs } = h.keelJson<{ runs: { id: string; status: string }[] }>(['runs']);
    assert.deepEqual(runs.map((r) => r.id).sort(), [...fixture.runIds].sort());
    assert.equal(readdirSync(h.home).filter((n) => n.startsWith('keel.db.backup-v1-')).length, 1);
    assert.equal(h.integrity(), 'ok');
  });

  it('refuses a file whose upgrade fails: exit 4, keel.db untouched, the backup named', async () => {
    const h = home();
    writeV1Database(h.db, { danglingRow: true });
    const bytes = readFileSync(h.db);
    const daemon = h.spawnDaemon();
    assert.equal(await daemon.exited, 4);
    const backups = readdirSync(h.home).filter((n) => n.startsWith('keel.db.backup-v1-'));
    assert.equal(backups.length, 1);
    assert.match(daemon.stderr(), new RegExp(`cannot upgrade the database .*keel\\.db from schema version 1 to ${migrations.length}`));
    assert.ok(daemon.stderr().includes(backups[0] ?? '?'), daemon.stderr());
    assert.ok(readFileSync(h.db).equals(bytes), 'keel.db is byte for byte what it was');
  });
});

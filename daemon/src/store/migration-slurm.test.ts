/**
 * The Slurm migration on a real file: a store one version behind (a version-1 keel.db full
 * of linked rows, brought to the version before) gains hosts.slurm_json and
 * jobs.scheduler_job_id — NULL for every existing host and job, nothing else changed — and
 * a Slurm host's defaults and a job's Slurm id then round-trip.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { writeV1Database } from '../../../test/support/v1-database.ts';
import { Store } from './index.ts';
import { migrations } from './migrations.ts';
import { migrate } from './migrate.ts';
import { slurmMigration } from './migration-slurm.ts';

describe('the Slurm migration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-migrate-slurm-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('adds the Slurm columns as NULL to a store one version behind, and they round-trip', () => {
    assert.equal(migrations.at(-1), slurmMigration, 'the last migration (move this test along if another comes after it)');
    const file = join(dir, 'keel.db');
    writeV1Database(file);
    const raw = new Database(file);
    migrate(raw, file, migrations.slice(0, -1));
    const hostsBefore = raw.prepare('SELECT * FROM hosts ORDER BY id').all();
    const jobsBefore = raw.prepare('SELECT * FROM jobs ORDER BY id').all();
    assert.ok(jobsBefore.length > 0);
    raw.close();

    const store = new Store(file);
    try {
      assert.equal(store.schemaVersion(), migrations.length);
      const check = new Database(file, { readonly: true });
      try {
        assert.deepEqual(check.prepare('SELECT * FROM hosts ORDER BY id').all(), hostsBefore.map((h) => ({ ...(h as object), slurm_json: null })));
        assert.deepEqual(check.prepare('SELECT * FROM jobs ORDER BY id').all(), jobsBefore.map((j) => ({ ...(j as object), scheduler_job_id: null })));
      } finally {
        check.close();
      }
      const job = store.jobs.byRun((jobsBefore[0] as { run_id: string }).run_id)[0];
      assert.ok(job);
      assert.equal(job.schedulerJobId, null);
      store.jobs.setSchedulerJobId(job.id, '4242');
      assert.equal(store.jobs.get(job.id)?.schedulerJobId, '4242');
      store.hosts.add({ name: 'cluster', backend: 'slurm', sshTarget: 'login', workdir: '/shared/keel', slurm: { partition: 'gpu', account: null, qos: 'high' } });
      assert.deepEqual(store.hosts.get('cluster')?.slurm, { partition: 'gpu', account: null, qos: 'high' });
    } finally {
      store.close();
    }
  });
});

/** A sweep's runs with their latest attempts, in one query (the Slurm job array's barrier reads it at every tick). */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from './index.ts';

describe('jobs of a sweep', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-sweep-jobs-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives every run in launch order with its latest attempt and whether a cancel is open', () => {
    const store = new Store(join(dir, 'keel.db'));
    try {
      const host = store.hosts.add({ name: 'hpc', backend: 'slurm', sshTarget: 'login', workdir: '/shared', slurm: { partition: null, account: null, qos: null } });
      const sweepId = store.sweeps.create(null, 's', {});
      const other = store.sweeps.create(null, 'other', {});
      const mk = (name: string, sweep: string): string => store.runs.create({ projectId: null, name, source: 'launch', kind: 'train', sweepId: sweep, launch: {} } as never).id;
      const [a, b, c, d] = [mk('a', sweepId), mk('b', sweepId), mk('c', sweepId), mk('x', other)];
      const job = (runId: string): string => store.jobs.create({ runId, backend: 'slurm', hostId: host.id, gpuIds: [], jobDirFor: (n) => `/shared/jobs/${runId}/${n}` }).id;
      job(a);
      const b1 = job(b);
      store.jobs.update(b1, { state: 'abandoned', ended: true });
      const b2 = job(b);
      store.jobs.setSchedulerJobId(b2, '41');
      store.intents.add(c, 'cancel', 'requested');
      job(d);
      const rows = store.jobs.latestOfSweep(sweepId);
      assert.deepEqual(rows.map((r) => [r.runId, r.job?.attempt ?? null, r.job?.state ?? null, r.job?.schedulerJobId ?? null, r.cancelOpen]), [
        [a, 1, 'preparing', null, false],
        [b, 2, 'preparing', '41', false],
        [c, null, null, null, true],
      ]);
      assert.equal(rows[1]?.job?.jobDir, `/shared/jobs/${b}/2`);
      assert.deepEqual(store.jobs.latestOfSweep('sweep_none'), []);
    } finally {
      store.close();
    }
  });
});

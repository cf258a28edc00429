/** GPU time and cost of a run, from its attempts in a real store: wall time × GPUs (leased, or asked of Slurm; Slurm's accounting once recorded) × the host's rate. */
import { after, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../store/index.ts';
import { runUsage } from './usage.ts';

describe('run usage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-usage-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('sums wall time × GPUs per started attempt, priced by each host\'s cost per hour', () => {
    const store = new Store(join(dir, 'keel.db'));
    mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    try {
      const ssh = store.hosts.add({ name: 'box', backend: 'ssh', sshTarget: 'box', workdir: '~/.keel', costPerHour: 2 });
      const slurm = store.hosts.add({ name: 'hpc', backend: 'slurm', sshTarget: 'login', workdir: '/shared', slurm: { partition: null, account: null, qos: null } });
      const run = store.runs.create({ projectId: null, name: 'r', source: 'launch', kind: 'train', gpus: 2, maxRetries: 1, launch: {} } as never);
      assert.equal(runUsage(store, run), null, 'nothing started yet');
      const first = store.jobs.create({ runId: run.id, backend: 'ssh', hostId: ssh.id, gpuIds: ['GPU-a', 'GPU-b'], jobDirFor: (n) => `/j/${n}` });
      store.jobs.update(first.id, { state: 'running', started: true });
      mock.timers.tick(1_800_000); // half an hour on 2 GPUs at 2/h
      store.jobs.update(first.id, { state: 'lost', ended: true });
      const second = store.jobs.create({ runId: run.id, backend: 'slurm', hostId: slurm.id, gpuIds: [], jobDirFor: (n) => `/j/${n}` });
      store.jobs.update(second.id, { state: 'running', started: true });
      mock.timers.tick(3_600_000); // an hour on the 2 GPUs asked of Slurm, still running, no rate
      const u = runUsage(store, store.runs.get(run.id) ?? run);
      assert.deepEqual(u, { attempts: 2, seconds: 5400, gpuHours: 3, cost: 2, slurmAccounted: 0 });
      // Once Slurm's accounting of the ended job is recorded, it counts instead of Keel's clock.
      store.jobs.update(second.id, { state: 'finished', ended: true });
      store.events.add({ kind: 'slurm_usage', severity: 'info', runId: run.id, message: 'Slurm accounted job 7: 1800 s × 4 GPUs', data: { jobId: second.id, seconds: 1800, gpus: 4 } });
      assert.deepEqual(runUsage(store, store.runs.get(run.id) ?? run), { attempts: 2, seconds: 3600, gpuHours: 3, cost: 2, slurmAccounted: 1 });
    } finally {
      mock.timers.reset();
      store.close();
    }
  });
});

/** How Slurm hosts read in the Hosts view: Slurm owns their GPUs, so the queue and partitions show instead of free GPUs. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HostCheckFacts, HostInfo } from '../../../daemon/src/protocol/index.ts';
import { checkSummary, hostDescription } from './host-labels.ts';

const base: HostInfo = {
  name: 'hpc', backend: 'slurm', sshTarget: 'login1', workdir: '/shared/keel', costPerHour: null, labels: [], reachable: true, checkedAt: 1,
  gpus: [], gpusFree: 0, gpusTotal: 0, runningRuns: 3, slurm: { partition: 'gpu', account: null, qos: null },
};

describe('Slurm hosts in the Hosts view', () => {
  it('show Slurm and the user\'s queue, not "no GPUs"', () => {
    assert.equal(hostDescription(base), 'Slurm · reachable · 3 runs');
    const queue = [{ id: '1', name: 'a', state: 'RUNNING', reason: 'None', time: '1:00' }, { id: '2', name: 'b', state: 'PENDING', reason: 'Resources', time: '0:00' }];
    assert.equal(hostDescription({ ...base, slurmQueue: queue }), 'Slurm · your queue: 1 running, 1 pending · reachable · 3 runs');
    assert.equal(hostDescription({ ...base, backend: 'ssh' }), 'no GPUs · reachable · 3 runs');
  });

  it('summarize a check by version, partitions with GRES and accounting', () => {
    const facts: HostCheckFacts = {
      os: 'Linux', python: '3.11', freeDiskBytes: null, bootId: null, gpus: null, nvidiaSmiError: null, rsync: true, flock: true,
      slurm: {
        version: 'slurm-wlm 22.05.8', partitions: [{ name: 'debug', default: true, gres: 'gpu:4', avail: 'up', nodes: 1, state: 'idle', timeLimit: 'infinite' }],
        nodes: [], sacct: { ok: false, error: 'Slurm accounting storage is disabled' }, queue: [],
      },
    };
    assert.equal(checkSummary(facts), 'slurm-wlm 22.05.8, partitions debug* (gpu:4), no sacct (slurmdbd): final states from squeue, 0 job(s) of yours queued');
  });
});

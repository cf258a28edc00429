/** How Slurm hosts read in the Hosts view: Slurm owns their GPUs, so the queue and partitions show instead of free GPUs. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HostCheckFacts, HostInfo } from '../../../daemon/src/protocol/index.ts';
import { checkSummary, hostDescription, slurmHostRows } from './host-labels.ts';

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

  it('say "no GPUs" for a partition whose GRES has none, as sinfo (22.05) prints GRES', () => {
    const partition = (name: string, gres: string): NonNullable<HostCheckFacts['slurm']>['partitions'][number] =>
      ({ name, default: name === 'cpu', gres, avail: 'up', nodes: 1, state: 'idle', timeLimit: 'infinite' });
    const facts = (partitions: NonNullable<HostCheckFacts['slurm']>['partitions']): HostCheckFacts => ({
      os: 'Linux', python: '3.11', freeDiskBytes: null, bootId: null, gpus: null, nvidiaSmiError: null, rsync: true, flock: true,
      slurm: { version: 'slurm-wlm 22.05.8', partitions, nodes: [], sacct: { ok: true, error: null }, queue: [] },
    });
    // No GRES at all, a GPU GRES of count 0, a GRES that is not a GPU: none has a GPU to offer.
    assert.equal(
      checkSummary(facts([partition('cpu', '(null)'), partition('drained', 'gpu:0'), partition('scratch', 'tmpdisk:100')])),
      'slurm-wlm 22.05.8, partitions cpu* (no GPUs), drained (no GPUs), scratch (no GPUs), sacct works, 0 job(s) of yours queued',
    );
    // Typed GPUs with their socket binding, alone or beside another GRES: shown as Slurm prints them.
    assert.equal(
      checkSummary(facts([partition('a100', 'gpu:a100:2(S:0-1)'), partition('mixed', 'gpu:a100:2(S:0-1),tmpdisk:100')])),
      'slurm-wlm 22.05.8, partitions a100 (gpu:a100:2(S:0-1)), mixed (gpu:a100:2(S:0-1),tmpdisk:100), sacct works, 0 job(s) of yours queued',
    );
    assert.equal(checkSummary(facts([])), 'slurm-wlm 22.05.8, partitions none, sacct works, 0 job(s) of yours queued');
  });

  it('expand to partitions with their GPU GRES and the user\'s queue, pending jobs with Slurm\'s reason', () => {
    const partitions = [
      { name: 'debug', default: true, gres: 'gpu:4', avail: 'up', nodes: 1, state: 'mix', timeLimit: 'infinite' },
      { name: 'cpu', default: false, gres: '(null)', avail: 'down', nodes: 2, state: 'idle', timeLimit: '1-00:00:00' },
    ];
    const queue = [
      { id: '41', name: 'keel-run_a-1', state: 'RUNNING', reason: 'None', time: '1:05' },
      { id: '42', name: 'keel-run_b-1', state: 'PENDING', reason: 'Resources', time: '0:00' },
    ];
    const rows = slurmHostRows(partitions, queue);
    assert.deepEqual(rows.map((r) => [r.label, r.description, r.icon]), [
      ['debug (default)', '4 GPUs per node (gpu:4) · limit infinite · 1 node · mix', 'layers'],
      ['cpu', 'no GPUs · limit 1-00:00:00 · 2 nodes · down', 'layers'],
      ['41 keel-run_a-1', 'running · 1:05', 'play'],
      ['42 keel-run_b-1', 'pending (Resources) · 0:00', 'clock'],
    ]);
    assert.equal(new Set(rows.map((r) => r.key)).size, rows.length, 'unique keys (tree item ids)');
    assert.deepEqual(slurmHostRows(partitions, []).at(-1)?.description, 'empty at the last check');
    assert.deepEqual(slurmHostRows(null, undefined).map((r) => r.label), ['Not checked yet']);
    assert.deepEqual(slurmHostRows(null, queue).map((r) => r.label), ['41 keel-run_a-1', '42 keel-run_b-1'], 'a daemon without slurmPartitions still shows the queue');
    const names = new Map([['run_a', 'lora · lr=0.01']]);
    const named = slurmHostRows(null, [...queue, { id: '43', name: 'keel-run_a-2', state: 'PENDING', reason: 'Priority', time: '0:00' }, { id: '44', name: 'interactive', state: 'RUNNING', reason: 'None', time: '3:00' }], (id) => names.get(id));
    assert.deepEqual(named.map((r) => r.label), ['41 lora · lr=0.01', '42 keel-run_b-1', '43 lora · lr=0.01 (attempt 2)', '44 interactive'], 'Keel jobs by their run\'s name when known');
  });
});

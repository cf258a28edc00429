/**
 * The launch wizard's Slurm steps, pure: which hosts get them, what the partition step offers
 * (from the host's last check, the default marked), which GPU counts follow from a partition,
 * the time limit checked by the daemon's own rule, and what reaches `runs/launch`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HostInfo } from '../../../daemon/src/protocol/index.ts';
import { gpuCounts, hostChoices, launchSummary, parseLaunchRequest, parseMaxParallel, partitionItems, partitionNameProblem, slurmParams, timeLimitProblem, type SlurmPartition } from './launch-input.ts';

// As `hosts/check` reports the test cluster (one node, 4 GRES GPUs) plus a CPU partition and a drained one.
const PARTITIONS: SlurmPartition[] = [
  { name: 'debug', default: true, gres: 'gpu:4', avail: 'up', nodes: 1, state: 'idle', timeLimit: 'infinite' },
  { name: 'cpu', default: false, gres: '(null)', avail: 'up', nodes: 2, state: 'mix', timeLimit: '1-00:00:00' },
  { name: 'a100', default: false, gres: 'gpu:a100:2(S:0-1)', avail: 'down', nodes: 1, state: 'drain', timeLimit: '04:00:00' },
];

function host(name: string, over: Partial<HostInfo>): HostInfo {
  return {
    name, backend: 'ssh', sshTarget: name, workdir: '~/.keel', costPerHour: null, labels: [], reachable: true, checkedAt: 0, gpus: [],
    gpusFree: 0, gpusTotal: 0, runningRuns: 0, ...over,
  };
}

describe('the launch wizard on a Slurm host', () => {
  it('gives Slurm hosts (only) their partitions and the host default; other hosts get no extra steps', () => {
    const choices = hostChoices([
      host('local', { backend: 'local', sshTarget: null }),
      host('cluster', { backend: 'slurm', gpusTotal: 4, gpusFree: 4, slurm: { partition: null, account: null, qos: null }, slurmPartitions: PARTITIONS }),
      host('gpu1', { gpusTotal: 2, gpusFree: 2 }),
      host('old', { backend: 'slurm', slurm: { partition: 'cpu', account: null, qos: null } }),
    ]);
    const by = (n: string): (typeof choices)[number] | undefined => choices.find((c) => c.target.kind === 'host' && c.target.name === n);
    assert.deepEqual(by('cluster')?.slurm, { partitions: PARTITIONS, hostDefault: null });
    assert.deepEqual(by('old')?.slurm, { partitions: null, hostDefault: 'cpu' }, 'a daemon without slurmPartitions: not known, asked at the step');
    assert.equal(by('gpu1')?.slurm, undefined);
    assert.equal(choices[0]?.slurm, undefined);
  });

  it('offers "Host default" first, naming the partition it is, then each partition with GPUs, time limit and state', () => {
    const items = partitionItems(PARTITIONS, null);
    assert.deepEqual(items.map((i) => [i.label, i.description, i.partition, i.gpus]), [
      ['$(star-full) Host default', "debug (the cluster's default) · 4 GPUs per node (gpu:4) · time limit infinite", undefined, 4],
      ['debug', '4 GPUs per node (gpu:4) · time limit infinite · 1 node · cluster default', 'debug', 4],
      ['cpu', 'no GPUs · time limit 1-00:00:00 · 2 nodes', 'cpu', 0],
      ['a100', '2 GPUs per node (gpu:a100:2(S:0-1)) · time limit 04:00:00 · 1 node · down', 'a100', 2],
    ]);
    const hostDefault = partitionItems(PARTITIONS, 'cpu')[0];
    assert.equal(hostDefault?.description, "cpu (the host's --partition) · no GPUs · time limit 1-00:00:00");
    assert.deepEqual([hostDefault?.gpus, hostDefault?.timeLimit], [0, '1-00:00:00']);
  });

  it('lets the user type a partition when the host was never checked', () => {
    const items = partitionItems(null, null);
    assert.deepEqual(items.map((i) => [i.label, i.partition, i.gpus, i.other ?? false]), [
      ['$(star-full) Host default', undefined, null, false],
      ['$(edit) Other partition…', undefined, null, true],
    ]);
    assert.equal(partitionNameProblem(' gpu-a100 '), undefined);
    assert.match(partitionNameProblem('gpu;rm -rf ~') ?? '', /One partition name/);
    assert.match(partitionNameProblem('') ?? '', /One partition name/);
  });

  it('offers as many GPUs as one node of the chosen partition has', () => {
    const [, debug, cpu] = partitionItems(PARTITIONS, null);
    assert.deepEqual(gpuCounts({ gpusTotal: debug?.gpus ?? -1 }), [0, 1, 2, 3, 4]);
    assert.deepEqual(gpuCounts({ gpusTotal: cpu?.gpus ?? -1 }), [0], 'a CPU partition: the GPU step answers itself');
  });

  it('checks the time limit with the daemon\'s rule; empty keeps the partition\'s limit', () => {
    for (const ok of ['', '  ', '30', '02:00:00', '1-12', '2-00:00:00']) assert.equal(timeLimitProblem(ok), undefined, ok);
    for (const bad of ['2h', '02:00:00:00', '1:2', 'infinite']) assert.match(timeLimitProblem(bad) ?? '', /not a Slurm time limit/, bad);
  });

  it('sends partition and time only when chosen, and says them in the summary', () => {
    assert.deepEqual(slurmParams({ partition: undefined, time: '' }), {});
    assert.deepEqual(slurmParams({ partition: 'debug', time: ' 02:00:00 ' }), { partition: 'debug', time: '02:00:00' });
    assert.equal(launchSummary({ config: 'c.yaml', target: { kind: 'host', name: 'cluster' }, gpus: 1, set: [], partition: 'debug', time: '02:00:00' }),
      'c.yaml on cluster · partition debug · time 02:00:00 · 1 GPU');
  });

  it('reads partition and time from callers, refusing bad ones', () => {
    assert.deepEqual(parseLaunchRequest({ host: 'cluster', partition: 'debug', time: '00:10:00' }),
      { ok: true, value: { target: { kind: 'host', name: 'cluster' }, partition: 'debug', time: '00:10:00' } });
    assert.equal(parseLaunchRequest({ partition: 'a b' }).ok, false);
    assert.deepEqual(parseLaunchRequest({ time: '2h' }), { ok: false, error: '"2h" is not a Slurm time limit: MM, MM:SS, HH:MM:SS or D-HH[:MM[:SS]] (e.g. 02:00:00)' });
  });

  it('a sweep\'s limit of tasks at once (--max-parallel): empty is no limit, else 1–1000, in the summary', () => {
    assert.deepEqual(parseMaxParallel(' '), { ok: true, value: undefined });
    assert.deepEqual(parseMaxParallel(' 4 '), { ok: true, value: 4 });
    for (const bad of ['0', '1001', '2.5', '-1', 'four', '1e3']) assert.match(parseMaxParallel(bad).ok ? '' : (parseMaxParallel(bad) as { error: string }).error, /not a number of runs from 1 to 1000/, bad);
    assert.deepEqual(parseLaunchRequest({ host: 'cluster', grid: ['lr=1,2'], maxParallel: 2 }), { ok: true, value: { target: { kind: 'host', name: 'cluster' }, grid: ['lr=1,2'], maxParallel: 2 } });
    assert.equal(parseLaunchRequest({ maxParallel: 0 }).ok, false);
    assert.equal(launchSummary({ config: 'c.yaml', target: { kind: 'host', name: 'cluster' }, gpus: 1, set: [], sweepRuns: 6, maxParallel: 2 }),
      'c.yaml on cluster · 1 GPU · 6 runs (at most 2 at once)');
  });
});

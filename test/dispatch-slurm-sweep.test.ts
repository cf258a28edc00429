/**
 * A sweep on a real Slurm cluster (test/support/slurm-cluster.ts) is ONE job array
 * (`sbatch --array=0-(N-1)%M`): one Keel run per task, each with its own job dir, config and
 * record; at most --max-parallel tasks run at once; cancelling the sweep is one scancel of the
 * array; a daemon killed right after the array's sbatch never submits a second one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, waitFor } from './support/keel-home.ts';
import { probeJobProcesses as jobProcesses } from './support/probe-project.ts';
import { SlurmCluster } from './support/slurm-cluster.ts';
import { slurmSuite } from './support/slurm-suite.ts';

interface RunJson { id: string; name: string; status: string; statusReason: string | null; exitCode: number | null; sweepId: string | null }
interface Info { cuda: string | null; slurmJob: string | null; arrayTask: string | null; start: number; end: number; run: string; cfg: { sleep: number } }

const ENDED = ['succeeded', 'failed', 'cancelled', 'lost'];

describe('a sweep on a real Slurm cluster is one job array', () => {
  const cluster = new SlurmCluster();
  const s = slurmSuite<RunJson>(cluster, 'keel-slurm-sweep-');
  const { h, root, jobDir, runs, wait } = s;
  const sweep = (config: string, grid: string, maxParallel: number): { sweepId: string; ids: string[] } => {
    const r = h.keelJson<{ sweepId: string; runs: RunJson[] }>(['sweep', config, '--grid', grid, '--host', 'slurm', '--gpus', '1', '--max-parallel', String(maxParallel)], { cwd: root });
    return { sweepId: r.sweepId, ids: r.runs.map((x) => x.id) };
  };
  const slurmIdOf = (id: string): string => readFileSync(join(jobDir(id), 'state', 'slurm_job_id'), 'utf8').trim();

  before(() => s.setUp({ point: { steps: 20, sleep: 0.3 }, long: { steps: 2000, sleep: 0.2 }, short: { steps: 20, sleep: 0.1 } }));
  after(() => s.tearDown());

  it('refuses --max-parallel off a Slurm host', () => {
    const r = h.keel(['sweep', 'configs/point.json', '--grid', 'sleep=0.1,0.2', '--local', '--max-parallel', '1'], { cwd: root });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--max-parallel is for a sweep on a Slurm host/);
  });

  it('a 3-point sweep is one array job with three runs: one task each, its own job dir and config, at most --max-parallel at once', async () => {
    const grid = [0.3, 0.35, 0.4];
    const { sweepId, ids } = sweep('configs/point.json', `sleep=${grid.join(',')}`, 2);
    assert.equal(ids.length, 3);
    let limited = false;
    await waitFor(() => {
      const now = runs().filter((r) => ids.includes(r.id));
      if (now.some((r) => /^queued on Slurm \(JobArrayTaskLimit\), 1st of 1 pending in debug$/.test(r.statusReason ?? ''))) limited = true;
      return now.every((r) => ENDED.includes(r.status));
    }, 240_000, 'the three runs to end');
    for (const id of ids) assert.equal(wait(id, 5).status, 'succeeded');
    assert.ok(limited, 'a task waited for the array\'s task limit (JobArrayTaskLimit)');
    // One array: task i is point i, and Slurm knows exactly those three tasks under the sweep's name.
    const slurmIds = ids.map(slurmIdOf);
    const arrayId = (slurmIds[0] ?? '').split('_')[0] ?? '';
    assert.match(arrayId, /^\d+$/);
    assert.deepEqual(slurmIds, [0, 1, 2].map((i) => `${arrayId}_${i}`));
    await waitFor(() => cluster.jobIdsNamed(`keel-sweep-${sweepId}`).length === 3, 30_000, 'the array\'s three tasks in sacct');
    assert.deepEqual(cluster.jobIdsNamed(`keel-sweep-${sweepId}`).sort(), [...slurmIds].sort());
    for (const id of ids) assert.deepEqual(cluster.jobIdsNamed(`keel-${id}-1`), [], `no job of its own for ${id}`);
    const infos = ids.map((id) => JSON.parse(readFileSync(join(jobDir(id), 'outputs', 'info.json'), 'utf8')) as Info);
    for (const [i, info] of infos.entries()) {
      assert.equal(info.run, ids[i]);
      assert.equal(info.arrayTask, String(i), 'ran as its own array task');
      assert.equal(info.cfg.sleep, grid[i], 'with its own point of the grid');
      assert.match(info.cuda ?? '', /^[0-3]$/, 'a GPU from Slurm');
      const d = h.keelJson<{ params: Record<string, unknown>; metrics: { key: string; points: number }[]; config: { id: string } | null; run: RunJson }>(['run', 'show', ids[i] as string]);
      assert.equal(d.params.sleep, grid[i]);
      assert.equal(d.metrics.find((m) => m.key === 'train/loss')?.points, 20);
      assert.equal(d.run.sweepId, sweepId);
      assert.match(h.keel(['logs', ids[i] as string]).stdout, /step 20 loss 0\.050000\ndone\n$/);
    }
    // Never more than two at once.
    for (const a of infos) {
      const now = infos.filter((b) => b.start <= a.start && a.start < b.end);
      assert.ok(now.length <= 2, `${now.length} tasks ran at once`);
    }
  });

  it('cancelling the sweep cancels its array: one scancel, every run cancelled, nothing left', async () => {
    const { sweepId, ids } = sweep('configs/long.json', 'sleep=0.2,0.21,0.22', 1);
    await waitFor(() => {
      const now = runs().filter((r) => ids.includes(r.id));
      return now.filter((r) => r.status === 'running').length === 1 && now.filter((r) => r.statusReason?.startsWith('queued on Slurm (JobArrayTaskLimit)')).length === 2;
    }, 120_000, 'one task running, two held by --max-parallel 1');
    const running = ids.find((id) => runs().find((r) => r.id === id)?.status === 'running') as string;
    await waitFor(() => jobProcesses(running).length > 0, 30_000, 'the running task\'s process');
    const arrayId = slurmIdOf(running).split('_')[0];
    const r = h.keelJson<{ runs: RunJson[]; slurmArray: string | null }>(['cancel', '--sweep', sweepId]);
    assert.equal(r.slurmArray, arrayId);
    for (const id of ids) assert.equal(wait(id, 90).status, 'cancelled');
    const log = h.daemonLogTail(5000);
    assert.equal(log.split('\n').filter((l) => l.includes('sweep cancelled')).length, 1, 'one cancel of the sweep');
    assert.equal(log.split('\n').filter((l) => l.includes('cancel sent') && ids.some((id) => l.includes(id))).length, 0, 'no cancel task by task');
    const live = (): string => cluster.slurm('squeue', ['-h', '-r', '-n', `keel-sweep-${sweepId}`, '-o', '%i|%T']).trim();
    await waitFor(() => live() === '', 30_000, 'nothing of the array left in squeue');
    for (const id of ids) assert.deepEqual(jobProcesses(id), [], `no process of ${id} left`);
  });

  it('cancelling one run of the sweep scancels just its task; the others run on', async () => {
    const { sweepId, ids } = sweep('configs/long.json', 'sleep=0.2,0.21,0.22', 3);
    await waitFor(() => runs().filter((r) => ids.includes(r.id) && r.status === 'running').length === 3, 120_000, 'the three tasks running');
    const [target, ...others] = ids as [string, ...string[]];
    h.keelJson(['cancel', target]);
    assert.equal(wait(target, 90).status, 'cancelled');
    await waitFor(() => jobProcesses(target).length === 0, 30_000, 'no process of the cancelled task left');
    for (const id of others) assert.equal(runs().find((r) => r.id === id)?.status, 'running', `${id} runs on`);
    h.keelJson(['cancel', '--sweep', sweepId]);
    for (const id of others) assert.equal(wait(id, 90).status, 'cancelled');
  });

  it('a sweep cancelled as soon as it is launched: every run cancelled, its array never submitted', async () => {
    const { sweepId, ids } = sweep('configs/long.json', 'sleep=0.2,0.21,0.22', 2);
    const r = h.keelJson<{ runs: RunJson[] }>(['cancel', '--sweep', sweepId]);
    assert.equal(r.runs.length, 3);
    for (const id of ids) assert.equal(wait(id, 90).status, 'cancelled');
    // Whatever step each run was at, nothing reaches Slurm (give a late submit time to show).
    await new Promise((res) => setTimeout(res, 3000));
    assert.deepEqual(cluster.jobIdsNamed(`keel-sweep-${sweepId}`), []);
    for (const id of ids) assert.deepEqual(jobProcesses(id), []);
  });

  it('kill -9 of the daemon right after the array\'s sbatch: exactly one array after the restart, every run ends', async () => {
    const { sweepId, ids } = sweep('configs/short.json', 'sleep=0.1,0.12,0.14', 3);
    const name = `keel-sweep-${sweepId}`;
    await waitFor(() => cluster.slurm('squeue', ['-h', '-r', '-t', 'all', '-n', name, '-o', '%i']).trim() !== '', 60_000, 'the array in squeue');
    const pid = h.daemonPid();
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !isAlive(pid), 10_000, 'the daemon gone');
    for (const id of ids) assert.equal(wait(id).status, 'succeeded'); // starts the daemon again
    const slurmIds = ids.map(slurmIdOf);
    const arrays = new Set(slurmIds.map((s) => s.split('_')[0]));
    assert.equal(arrays.size, 1, `one array (${slurmIds.join(', ')})`);
    await waitFor(() => cluster.jobIdsNamed(name).length === 3, 30_000, 'the array\'s tasks in sacct');
    assert.deepEqual(cluster.jobIdsNamed(name).sort(), [...slurmIds].sort(), 'exactly one array of three tasks');
  });
});

/**
 * Dispatch to a real Slurm cluster (Slurm 22.05, one node with 4 GRES GPUs, slurmdbd on
 * MariaDB; test/support/slurm-cluster.ts brings it up on loopback), reached the way people
 * reach one: ssh to a login node as a non-root user, sbatch/squeue/sacct/scancel there, job
 * directories on the shared filesystem. Then the same cluster without slurmdbd.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, waitFor } from './support/keel-home.ts';
import { probeJobProcesses as jobProcesses } from './support/probe-project.ts';
import { SlurmCluster } from './support/slurm-cluster.ts';
import { slurmSuite } from './support/slurm-suite.ts';

interface RunJson { id: string; name: string; status: string; statusReason: string | null; exitCode: number | null; hostName: string | null }
interface Info { cuda: string | null; slurmJob: string | null; start: number; end: number; run: string }
const CONFIGS = {
  gpu: { steps: 6, sleep: 0.05, checkpoint: true },
  exit3: { steps: 2, sleep: 0.05, exit: 3 },
  short: { steps: 20, sleep: 0.1 },
  six: { steps: 40, sleep: 0.3 },
  long: { steps: 2000, sleep: 0.2 },
};
interface SlurmCheck { version: string; partitions: { name: string; gres: string }[]; nodes: { state: string }[]; sacct: { ok: boolean; error: string | null }; queue: unknown[] }

describe('dispatch to a real Slurm cluster (with slurmdbd)', () => {
  const cluster = new SlurmCluster();
  const s = slurmSuite<RunJson>(cluster, 'keel-slurm-home-');
  const { h } = s;
  let timeLimited = '';

  before(() => s.setUp(CONFIGS));
  after(() => s.tearDown());

  it('checks the Slurm host: version, partitions with GPU GRES, node states, sacct, the queue', () => {
    const r = h.keelJson<{ facts: { slurm: SlurmCheck }; error: string | null; host: { backend: string } }>(['hosts', 'check', 'slurm']);
    assert.equal(r.error, null);
    assert.equal(r.host.backend, 'slurm');
    assert.match(r.facts.slurm.version, /^slurm(-wlm)? 22\.05\.\d+$/);
    assert.deepEqual(r.facts.slurm.partitions.map((p) => [p.name, p.gres]), [['debug', 'gpu:4']]);
    assert.match(r.facts.slurm.nodes[0]?.state ?? '', /idle|mixed|allocated/);
    assert.deepEqual(r.facts.slurm.sacct, { ok: true, error: null });
    assert.deepEqual(r.facts.slurm.queue, []);
    const text = h.keel(['hosts', 'check', 'slurm']).stdout;
    assert.match(text, /sacct works/);
    assert.match(text, /debug\*\s+gpu:4/);
  });

  it('launches with --gpus 1: the job sees SLURM_JOB_ID and a CUDA_VISIBLE_DEVICES from Slurm; metrics, logs and checkpoint come back', () => {
    const id = s.launch(['configs/gpu.json', '--gpus', '1']);
    const run = s.wait(id);
    assert.equal(run.status, 'succeeded', run.statusReason ?? '');
    const info = JSON.parse(readFileSync(join(s.jobDir(id), 'outputs', 'info.json'), 'utf8')) as Info;
    const slurmId = readFileSync(join(s.jobDir(id), 'state', 'slurm_job_id'), 'utf8').trim();
    assert.equal(info.slurmJob, slurmId);
    assert.match(info.cuda ?? '', /^[0-3]$/, 'one GPU index, set by Slurm');
    assert.deepEqual(cluster.jobIdsNamed(`keel-${id}-1`), [slurmId]);
    const d = h.keelJson<{ metrics: { key: string; points: number }[]; checkpoints: { location: string; step: number | null }[] }>(['run', 'show', id]);
    assert.equal(d.metrics.find((m) => m.key === 'train/loss')?.points, 6);
    assert.equal(d.checkpoints.find((c) => c.step === 6)?.location, `slurm:${join(s.jobDir(id), 'outputs', 'checkpoint-6')}`);
    assert.match(h.keel(['logs', id]).stdout, /step 6 loss 0\.166667\ndone\n/);
  });

  it('refuses what Slurm cannot take, with the reason: too many GPUs, a bad --time, an unknown or malformed partition, options on a non-Slurm host; sbatch\'s own refusal fails the run', () => {
    const refused = (args: string[], re: RegExp): void => {
      const r = h.keel(['launch', 'configs/gpu.json', ...args], { cwd: s.root });
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, re);
    };
    refused(['--host', 'slurm', '--gpus', '5'], /no partition with 5 GPUs per node \(GRES, at its last check: at most 4\)/);
    refused(['--host', 'slurm', '--gpus', '1', '--time', 'soon'], /--time "soon" is not a Slurm time limit/);
    refused(['--host', 'slurm', '--gpus', '1', '--partition', 'debug;id'], /--partition "debug;id" is not a partition name/);
    refused(['--local', '--time', '00:10:00'], /--time, --partition, --cpus and --mem are for Slurm hosts/);
    refused(['--host', 'slurm', '--gpus', '1', '--partition', 'debgu'], /has no partition "debgu" \(at its last check: debug\)\. Did you mean "debug"\?/);
    // Past the pre-flight, sbatch itself refuses it.
    const id = s.launch(['configs/gpu.json', '--gpus', '1', '--partition', 'nosuch', '--skip-preflight']);
    const run = s.wait(id, 60);
    assert.equal(run.status, 'failed');
    assert.match(run.statusReason ?? '', /slurm refused the job: sbatch: .*invalid partition/i);
  });

  it('an exit-3 job is failed with exit code 3', () => {
    const id = s.launch(['configs/exit3.json', '--gpus', '1']);
    const run = s.wait(id);
    assert.equal(run.status, 'failed');
    assert.equal(run.exitCode, 3);
  });

  it('six 1-GPU runs on the 4-GPU node: never more than four at once, the others queued (Resources)', async () => {
    // A time-limited CPU job rides along (asserted in the next test): it takes no GPU.
    timeLimited = s.launch(['configs/long.json', '--gpus', '0', '--time', '00:01:00']);
    const ids = Array.from({ length: 6 }, () => s.launch(['configs/six.json', '--gpus', '1']));
    const queued = new Set<string>();
    let reasons = new Set<string>();
    await waitFor(() => {
      const runs = s.runs().filter((r) => ids.includes(r.id));
      for (const r of runs) {
        // The first job Slurm holds back waits for Resources; those behind it for Priority.
        // With its place in the partition's queue: `queued on Slurm (Resources), 1st of 2 pending in debug`.
        if (r.status === 'starting' && /^queued on Slurm \((Resources|Priority)\), \d+(st|nd|rd|th) of \d+ pending in debug$/.test(r.statusReason ?? '')) {
          queued.add(r.id);
          reasons = new Set([...reasons, r.statusReason ?? '']);
        }
      }
      return runs.every((r) => ['succeeded', 'failed', 'cancelled', 'lost'].includes(r.status));
    }, 240_000, 'the six runs to end');
    assert.ok(queued.size >= 2, `two runs showed queued on Slurm (saw ${queued.size})`);
    assert.ok([...reasons].some((x) => /^queued on Slurm \(Resources\), 1st of [2-6] pending in debug$/.test(x)), `the first in line waited for Resources (saw ${[...reasons].join(', ')})`);
    assert.ok([...reasons].some((x) => /^queued on Slurm \(Priority\), [2-6](nd|rd|th) of [2-6] pending in debug$/.test(x)), `the ones behind it for Priority (saw ${[...reasons].join(', ')})`);
    const spans = ids.map((id) => {
      assert.equal(s.runs().find((r) => r.id === id)?.status, 'succeeded');
      const info = JSON.parse(readFileSync(join(s.jobDir(id), 'outputs', 'info.json'), 'utf8')) as Info;
      return { ...info, id };
    });
    // GPU time: wall time × the one GPU asked of Slurm (the runs sleep 40 × 0.3 s).
    const usage = h.keelJson<{ usage: { attempts: number; seconds: number; gpuHours: number; cost: number | null; slurmAccounted?: number } }>(['run', 'show', ids[0] as string]).usage;
    assert.equal(usage.attempts, 1);
    assert.ok(usage.seconds >= 12 && usage.seconds < 60, `ran ${usage.seconds} s`);
    assert.ok(Math.abs(usage.gpuHours - usage.seconds / 3600) < 1e-9);
    assert.equal(usage.cost, null, 'no --cost-per-hour on this host');
    // Slurm's accounting, as sacct itself reports it, is what counts.
    const sid = readFileSync(join(s.jobDir(ids[0] as string), 'state', 'slurm_job_id'), 'utf8').trim();
    const [elapsed = '', tres = ''] = cluster.slurm('sacct', ['-X', '-n', '-P', '-j', sid, '-o', 'ElapsedRaw,AllocTRES']).trim().split('|');
    assert.match(tres, /(^|,)gres\/gpu=1(,|$)/);
    assert.equal(usage.slurmAccounted, 1);
    assert.equal(usage.seconds, Number(elapsed), 'the seconds sacct accounted');
    assert.match(h.keel(['run', 'show', ids[0] as string]).stdout, /GPU time\s+0\.\d{3} GPU-hours over 1 attempt \(from Slurm's accounting\)/);
    const compared = h.keelJson<{ usage: Record<string, { gpuHours: number } | null> }>(['compare', ids[0] as string, ids[1] as string]);
    assert.ok((compared.usage[ids[1] as string]?.gpuHours ?? 0) > 0, 'compare shows each run\'s GPU-hours');
    assert.match(h.keel(['compare', ids[0] as string, ids[1] as string]).stdout, /Usage\n.*\nGPU-hours/);
    // At each run's start, the runs running then (the most at once is reached at some start).
    for (const a of spans) {
      const now = spans.filter((b) => b.start <= a.start && a.start < b.end);
      assert.ok(now.length <= 4, `${now.length} runs ran at once when ${a.id} started`);
      assert.equal(new Set(now.map((b) => b.cuda)).size, now.length, 'runs at the same time got different GPUs');
    }
  });

  it('a job past its --time is failed (time limit) with an alert', () => {
    assert.ok(timeLimited);
    const run = s.wait(timeLimited, 240);
    assert.equal(run.status, 'failed');
    assert.match(run.statusReason ?? '', /time limit reached: Slurm stopped job \d+ \(TIMEOUT, --time 00:01:00\)/);
    const { events } = h.keelJson<{ events: { kind: string }[] }>(['events', '--run', timeLimited]);
    assert.ok(events.some((e) => e.kind === 'slurm_time_limit'), 'a slurm_time_limit alert');
  });

  it('cancels a pending and a running job with scancel; no process is left', async () => {
    const running = Array.from({ length: 4 }, () => s.launch(['configs/long.json', '--gpus', '1']));
    await waitFor(() => s.runs().filter((r) => running.includes(r.id) && r.status === 'running').length === 4, 120_000, 'four running');
    const pending = s.launch(['configs/long.json', '--gpus', '1']);
    await waitFor(() => /queued on Slurm \(Resources\)/.test(s.runs().find((r) => r.id === pending)?.statusReason ?? ''), 60_000, 'the fifth queued (Resources)');
    // The user's queue, as `keel hosts check` and then `keel hosts` show it.
    const { facts } = h.keelJson<{ facts: { slurm: { queue: { name: string; state: string; reason: string }[] } } }>(['hosts', 'check', 'slurm']);
    const mine = facts.slurm.queue.filter((q) => [pending, ...running].some((id) => q.name === `keel-${id}-1`));
    assert.deepEqual(mine.map((q) => q.state).sort(), ['PENDING', 'RUNNING', 'RUNNING', 'RUNNING', 'RUNNING']);
    assert.match(h.keel(['hosts']).stdout, /slurm \(Slurm\), your queue at its last check: 4 running, 1 pending/);
    h.keelJson(['cancel', pending]);
    assert.equal(s.wait(pending, 60).status, 'cancelled');
    const target = running[0] as string;
    await waitFor(() => jobProcesses(target).length > 0, 30_000, 'the running job\'s process');
    h.keelJson(['cancel', target]);
    assert.equal(s.wait(target, 90).status, 'cancelled');
    await waitFor(() => jobProcesses(target).length === 0, 30_000, 'no process of the cancelled job left');
    for (const id of running.slice(1)) h.keelJson(['cancel', id]);
    for (const id of running.slice(1)) assert.equal(s.wait(id, 90).status, 'cancelled');
    // Slurm may still be COMPLETING a cancelled job (KillWait) for a few seconds after it reads CANCELLED.
    const live = (): string[] => cluster.slurm('squeue', ['-h', '-o', '%j']).split('\n').filter((n) => [pending, ...running].some((id) => n.includes(id)));
    await waitFor(() => live().length === 0, 30_000, 'nothing of them left in squeue');
    for (const id of running) assert.deepEqual(jobProcesses(id), [], `no process of ${id} left`);
  });

  it('scontrol requeue of a running job: Slurm runs it again in its job dir, the run continues and succeeds', async () => {
    const id = s.launch(['configs/six.json', '--gpus', '1']);
    await waitFor(() => s.runs().find((r) => r.id === id)?.status === 'running' && jobProcesses(id).length > 0, 60_000, 'the run running');
    const slurmId = readFileSync(join(s.jobDir(id), 'state', 'slurm_job_id'), 'utf8').trim();
    cluster.slurm('scontrol', ['requeue', slurmId]);
    await waitFor(() => /requeued by Slurm/.test(s.runs().find((r) => r.id === id)?.statusReason ?? ''), 60_000, 'the run shown requeued');
    assert.equal(s.runs().find((r) => r.id === id)?.status, 'running', 'a requeue is not an end');
    // Slurm holds a requeued job back (BeginTime, about 2 min): start it now.
    cluster.slurm('scontrol', ['update', `JobId=${slurmId}`, 'StartTime=now']);
    const run = s.wait(id);
    assert.equal(run.status, 'succeeded', run.statusReason ?? '');
    assert.ok(existsSync(join(s.jobDir(id), 'state', 'restart-1', 'exit_code')), 'the stopped run\'s end kept in state/restart-1/');
    assert.deepEqual(cluster.jobIdsNamed(`keel-${id}-1`), [slurmId], 'the same Slurm job');
    assert.match(h.keel(['logs', id]).stdout, /step 40 loss 0\.025000\ndone\n$/);
  });

  it('kill -9 of the daemon right after sbatch: exactly one Slurm job after the restart', async () => {
    const id = s.launch(['configs/short.json', '--gpus', '1']);
    const name = `keel-${id}-1`;
    await waitFor(() => cluster.slurm('squeue', ['-h', '-t', 'all', '-n', name, '-o', '%i']).trim() !== '', 60_000, 'the job in squeue');
    const pid = h.daemonPid();
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !isAlive(pid), 10_000, 'the daemon gone');
    const run = s.wait(id); // starts the daemon again
    assert.equal(run.status, 'succeeded', run.statusReason ?? '');
    assert.equal(cluster.jobIdsNamed(name).length, 1, 'one Slurm job');
    assert.deepEqual(cluster.jobIdsNamed(`keel-${id}-2`), [], 'no second attempt');
  });
});

describe('dispatch to a Slurm cluster without slurmdbd', () => {
  const cluster = new SlurmCluster({ noDbd: true });
  const s = slurmSuite<RunJson>(cluster, 'keel-slurm-nodbd-');
  const { h } = s;

  before(() => s.setUp(CONFIGS));
  after(() => s.tearDown());

  it('says once that sacct is unusable, and still reaches the right final states', async () => {
    const r = h.keelJson<{ facts: { slurm: SlurmCheck } }>(['hosts', 'check', 'slurm']);
    assert.equal(r.facts.slurm.sacct.ok, false);
    assert.match(r.facts.slurm.sacct.error ?? '', /accounting storage is disabled/i);
    assert.match(h.keel(['hosts', 'check', 'slurm']).stdout, /sacct unusable .*Keel reads final states from squeue/);
    const ok = s.launch(['configs/gpu.json', '--gpus', '1']);
    const bad = s.launch(['configs/exit3.json', '--gpus', '1']);
    const long = s.launch(['configs/long.json', '--gpus', '1']);
    assert.equal(s.wait(ok).status, 'succeeded');
    const failed = s.wait(bad);
    assert.deepEqual([failed.status, failed.exitCode], ['failed', 3]);
    await waitFor(() => s.runs().find((x) => x.id === long)?.status === 'running', 60_000, 'the long run running');
    h.keelJson(['cancel', long]);
    assert.equal(s.wait(long, 90).status, 'cancelled');
    assert.ok(existsSync(join(s.jobDir(ok), 'state', 'slurm_job_id')));
  });
});

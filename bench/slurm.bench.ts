/**
 * Slurm figures against a real one-node Slurm 22.05 cluster on loopback (test support's
 * slurm-up.sh; root needed), each beside its own baseline measured in the same run:
 * - launch → RUNNING through Keel (sync, job dir, idempotent sbatch, the poll that sees it
 *   run) vs a bare `ssh LOGIN sbatch --wrap true` to RUNNING (squeue read as root every 20 ms);
 * - a 20-point sweep (one job array) vs 20 single launches: command → every run's job in
 *   Slurm, and sbatch calls (1 vs 20);
 * - polling cost per tick with 200 active Slurm jobs: ssh calls per tick and ms, vs a bare
 *   `ssh LOGIN 'squeue --me; sacct -X -j <200 ids>'`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeelClient } from '../daemon/src/client/client.ts';
import { Store } from '../daemon/src/store/index.ts';
import { createLogger } from '../daemon/src/log/logger.ts';
import { HostRegistry } from '../daemon/src/dispatch/hosts.ts';
import { pollSlurm } from '../daemon/src/dispatch/slurm.ts';
import type { DispatchContext } from '../daemon/src/dispatch/context.ts';
import type { Job } from '../daemon/src/store/jobs.ts';
import { SlurmCluster } from '../test/support/slurm-cluster.ts';
import { writeProbeProject } from '../test/support/probe-project.ts';
import { fmt, keelBin, median, tempHome } from './support.ts';

const cluster = new SlurmCluster({ prefix: 'keel-slurm-bench-' });
await cluster.start();
const t = tempHome();
try {
  const { SSH_CONFIG: sshConfig, SSH_ALIAS: login, SHARED_DIR: shared } = cluster.env;
  const env = { ...t.env, KEEL_SSH_CONFIG: sshConfig, KEEL_POLL_MS: '100', KEEL_JOB_HEARTBEAT_SECONDS: '1' };
  const keel = (args: string[], cwd = t.dir): string => {
    const r = spawnSync(process.execPath, [keelBin, ...args], { env, cwd, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`keel ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const ssh = (cmd: string): string => execFileSync('ssh', ['-F', sshConfig, login, cmd], { encoding: 'utf8' });
  const squeueState = (id: string): string => cluster.slurm('squeue', ['-h', '-t', 'all', '-j', id, '-o', '%T']).trim();

  // 1. Launch → RUNNING, through Keel and bare.
  const root = join(t.dir, 'proj');
  mkdirSync(root);
  writeProbeProject(root, { quick: { steps: 3, sleep: 0.5 } });
  keel(['daemon', 'start']);
  keel(['init', root]);
  keel(['hosts', 'add', 'cluster', '--slurm', '--ssh', login, '--workdir', join(shared, 'keel')]);
  keel(['hosts', 'check', 'cluster']);
  const client = await KeelClient.connect({ socketPath: join(t.home, 'daemon.sock'), client: { name: 'bench', version: '0' } });
  await client.call('subscriptions/add', { topics: ['runs'] });
  const launchToRunning = async (): Promise<{ runId: string; ms: number }> => {
    const t0 = performance.now();
    const { run } = await client.call('runs/launch', { config: 'configs/quick.json', cwd: root, host: 'cluster', gpus: 1 });
    await new Promise<void>((resolve) => {
      const off = client.on('runs', (n) => {
        if (n.runId === run.id && ['running', 'succeeded', 'failed'].includes(n.status)) { off(); resolve(); }
      });
    });
    return { runId: run.id, ms: performance.now() - t0 };
  };
  const waitDone = async (runId: string, via: KeelClient = client): Promise<void> => {
    for (;;) {
      const { run } = await via.call('runs/get', { run: runId });
      if (['succeeded', 'failed', 'lost', 'cancelled'].includes(run.status)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const first = await launchToRunning();
  await waitDone(first.runId);
  const keelTimes: number[] = [];
  for (let i = 0; i < 3; i++) {
    const again = await launchToRunning();
    keelTimes.push(again.ms);
    await waitDone(again.runId);
  }
  const bareTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const id = ssh('sbatch --parsable --gres=gpu:1 --output=/dev/null --wrap true').trim().split('\n').at(-1)?.split(';')[0] ?? '';
    while (['PENDING', 'CONFIGURING', ''].includes(squeueState(id))) await new Promise((r) => setTimeout(r, 20));
    bareTimes.push(performance.now() - t0);
  }
  const bare = median(bareTimes);
  console.log(`launch → RUNNING on Slurm: first ${fmt(first.ms)} ms (code shipped), then ${fmt(median(keelTimes))} ms (median of 3, code cached); bare \`ssh LOGIN sbatch --wrap true\` → RUNNING ${fmt(bare)} ms (median of 5); ratio ${fmt(median(keelTimes) / bare)}x (first ${fmt(first.ms / bare)}x)`);
  client.close();

  // 2. A 20-point sweep (one job array) vs 20 single launches: command → every run's job known to
  // Slurm (its id in the job dir), and how many sbatch calls that took.
  const points = 20;
  const slurmIdOf = (runId: string): string | null => {
    try {
      return readFileSync(join(shared, 'keel', 'jobs', runId, '1', 'state', 'slurm_job_id'), 'utf8').trim() || null;
    } catch {
      return null;
    }
  };
  const allSubmitted = async (runIds: string[], t0: number): Promise<{ ms: number; sbatch: number }> => {
    for (;;) {
      const got = runIds.map(slurmIdOf);
      if (got.every((x) => x !== null)) return { ms: performance.now() - t0, sbatch: new Set(got.map((x) => (x ?? '').split('_')[0])).size };
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  // A fresh connection: the bare baseline above blocked this process (execFileSync), and the
  // daemon closes a client that does not read its notifications for that long (a slow client).
  const client2 = await KeelClient.connect({ socketPath: join(t.home, 'daemon.sock'), client: { name: 'bench', version: '0' } });
  const t1 = performance.now();
  const singles = await Promise.all(Array.from({ length: points }, () => client2.call('runs/launch', { config: 'configs/quick.json', cwd: root, host: 'cluster', gpus: 1 }).then((r) => r.run.id)));
  const one = await allSubmitted(singles, t1);
  for (const id of singles) await waitDone(id, client2);
  const t2 = performance.now();
  const { runs: swept } = await client2.call('runs/sweep', { config: 'configs/quick.json', cwd: root, host: 'cluster', gpus: 1, grid: [`sleep=${Array.from({ length: points }, (_, i) => 0.5 + i / 1000).join(',')}`], maxParallel: 4 });
  const arr = await allSubmitted(swept.map((r) => r.id), t2);
  for (const r of swept) await waitDone(r.id, client2);
  client2.close();
  console.log(`${points}-point sweep → every run's job in Slurm: ${fmt(arr.ms)} ms with ${arr.sbatch} sbatch call (one job array); ${points} single launches ${fmt(one.ms)} ms with ${one.sbatch} sbatch calls; ratio ${fmt(arr.ms / one.ms)}x`);

  // 3. Polling cost per tick with 200 active Slurm jobs (held in the queue: active, never run).
  const n = 200;
  const ids = ssh(`for i in $(seq ${n}); do sbatch --parsable --hold --output=/dev/null --job-name=keel-bench-$i --wrap true; done`).trim().split('\n').map((l) => l.split(';')[0] ?? '');
  const jobsRoot = join(shared, 'bench-jobs');
  ssh(`for i in $(seq ${n}); do mkdir -p ${jobsRoot}/$i/state ${jobsRoot}/$i/logs && echo x > ${jobsRoot}/$i/logs/output.log; done`);
  const store = new Store(join(t.dir, 'poll.db'));
  const log = createLogger(null, { stderr: false });
  const hosts = new HostRegistry({ store, log, keelHome: t.dir, controlDir: join(t.dir, 'ctl'), sshConfig });
  mkdirSync(join(t.dir, 'ctl'), { recursive: true, mode: 0o700 });
  hosts.add({ name: 'cluster', sshTarget: login, workdir: join(shared, 'keel'), slurm: {} });
  const conn = hosts.connection('cluster');
  let calls = 0;
  const exec = conn.exec.bind(conn);
  conn.exec = (...args: Parameters<typeof conn.exec>) => { calls++; return exec(...args); };
  const ctx = { store, log, hosts } as unknown as DispatchContext;
  const jobs = ids.map((id, i) => ({ id: `job_${i}`, runId: `run_${i}`, attempt: 1, jobDir: `${jobsRoot}/${i + 1}`, schedulerJobId: id }) as Job);
  await pollSlurm(ctx, 'cluster', jobs); // scripts installed, master connection up
  const tickTimes: number[] = [];
  let callsPerTick = 0;
  let seen = 0;
  for (let i = 0; i < 10; i++) {
    calls = 0;
    const t0 = performance.now();
    const poll = await pollSlurm(ctx, 'cluster', jobs);
    tickTimes.push(performance.now() - t0);
    callsPerTick = calls;
    seen = ids.filter((id) => poll.squeue?.get(id)?.state === 'PENDING' && poll.sacct?.has(id)).length;
  }
  const bareTick: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    ssh(`squeue --me -h -t all -o '%i|%T|%r' >/dev/null; sacct -X -n -P -j ${ids.join(',')} -o JobID,State,ExitCode >/dev/null`);
    bareTick.push(performance.now() - t0);
  }
  console.log(`polling ${n} active Slurm jobs: ${callsPerTick} ssh call(s) per tick, ${fmt(median(tickTimes))} ms per tick (median of 10; ${seen}/${n} seen PENDING in squeue and in sacct); bare \`ssh LOGIN 'squeue; sacct -j <${n} ids>'\` ${fmt(median(bareTick))} ms; ratio ${fmt(median(tickTimes) / median(bareTick))}x`);
  ssh(`scancel ${ids.join(' ')}`);
  await hosts.close();
  store.close();
} catch (err) {
  try {
    const logs = readdirSync(t.home).filter((f) => f.endsWith('.log'));
    for (const f of logs) console.error(`--- ${f}\n${readFileSync(join(t.home, f), 'utf8').split('\n').slice(-40).join('\n')}`);
  } catch { /* no log */ }
  throw err;
} finally {
  t.cleanup();
  await cluster.stop();
}

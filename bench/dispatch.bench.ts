/**
 * Dispatch figures against a real sshd on loopback, each beside its own baseline:
 * - launch → remote pid, vs a bare `ssh HOST true` plus a bare rsync of the same files;
 * - a second launch with unchanged code and data: bytes moved and ms to the remote pid;
 * - log line latency from the job writing it (its own timestamp) to a subscribed client.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeelClient } from '../daemon/src/client/client.ts';
import { SshHost } from '../test/support/sshd.ts';
import { writeProbeProject } from '../test/support/probe-project.ts';
import { fmt, keelBin, median, percentile, tempHome } from './support.ts';

const t = tempHome();
const host = new SshHost({ alias: 'bench-gpu', dir: join(t.dir, 'host'), gpus: 2 });
await host.start();
const env = { ...t.env, KEEL_SSH_CONFIG: host.clientConfig, KEEL_POLL_MS: '100', KEEL_JOB_HEARTBEAT_SECONDS: '1' };
const keel = (args: string[], cwd = t.dir): string => {
  const r = spawnSync(process.execPath, [keelBin, ...args], { env, cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`keel ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const root = join(t.dir, 'proj');
mkdirSync(root);
writeProbeProject(root, { quick: { steps: 3, sleep: 0.01 }, chatty: { steps: 200, sleep: 0.02 } });
keel(['daemon', 'start']);
keel(['init', root]);
keel(['hosts', 'add', 'bench-gpu', '--ssh', 'bench-gpu']);
keel(['hosts', 'check', 'bench-gpu']);
const client = await KeelClient.connect({ socketPath: join(t.home, 'daemon.sock'), client: { name: 'bench', version: '0' } });
await client.call('subscriptions/add', { topics: ['runs', 'logs'] });

async function launchToRunning(config: string): Promise<{ runId: string; ms: number }> {
  const t0 = performance.now();
  const { run } = await client.call('runs/launch', { config, cwd: root, host: 'bench-gpu' });
  await new Promise<void>((resolve) => {
    const off = client.on('runs', (n) => {
      if (n.runId === run.id && ['running', 'succeeded', 'failed'].includes(n.status)) { off(); resolve(); }
    });
  });
  return { runId: run.id, ms: performance.now() - t0 };
}

async function waitDone(runId: string): Promise<void> {
  for (;;) {
    const { run } = await client.call('runs/get', { run: runId });
    if (['succeeded', 'failed', 'lost', 'cancelled'].includes(run.status)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function shippedBytes(runId: string): { codeBytes: number; dataBytes: number } {
  const line = readFileSync(join(t.home, 'daemon.log'), 'utf8').split('\n').find((l) => l.includes('job directory ready') && l.includes(runId));
  return line ? (JSON.parse(line) as { codeBytes: number; dataBytes: number }) : { codeBytes: -1, dataBytes: -1 };
}

// 1. First launch vs bare ssh + bare rsync of the same files.
const first = await launchToRunning('configs/quick.json');
await waitDone(first.runId);
const sshTimes: number[] = [];
const rsyncTimes: number[] = [];
for (let i = 0; i < 5; i++) {
  const s0 = performance.now();
  spawnSync('ssh', ['-F', host.clientConfig, '-o', 'BatchMode=yes', 'bench-gpu', 'true']);
  sshTimes.push(performance.now() - s0);
  const dest = `/tmp/keel-bench-rsync-${process.pid}-${i}`;
  const r0 = performance.now();
  spawnSync('rsync', ['-a', '-e', `ssh -F ${host.clientConfig} -o BatchMode=yes`, `${root}/`, `bench-gpu:${dest}/`]);
  rsyncTimes.push(performance.now() - r0);
  spawnSync('rm', ['-rf', dest]);
}
const bare = median(sshTimes) + median(rsyncTimes);
const shipped1 = shippedBytes(first.runId);
console.log(`first launch → running on the host: ${fmt(first.ms)} ms (shipped ${shipped1.codeBytes} B code, ${shipped1.dataBytes} B data); bare ssh true ${fmt(median(sshTimes))} ms + bare rsync of the project ${fmt(median(rsyncTimes))} ms = ${fmt(bare)} ms; ratio ${fmt(first.ms / bare)}x`);

// 2. Second launch: same code and data.
const seconds: number[] = [];
let moved = { codeBytes: 0, dataBytes: 0 };
for (let i = 0; i < 3; i++) {
  const again = await launchToRunning('configs/quick.json');
  await waitDone(again.runId);
  seconds.push(again.ms);
  const b = shippedBytes(again.runId);
  moved = { codeBytes: moved.codeBytes + b.codeBytes, dataBytes: moved.dataBytes + b.dataBytes };
}
console.log(`second launch, unchanged code and data: ${fmt(median(seconds))} ms to running (median of 3), bytes moved: ${moved.codeBytes + moved.dataBytes}; ratio to the bare ssh+rsync ${fmt(median(seconds) / bare)}x`);

// 3. Log line latency: the job prints `step N loss …` lines; the job's metrics.jsonl has no
// timestamps, so the job prints its own clock in a second stream we compare against.
writeFileSync(join(root, 'stamp.py'), 'import time, sys\nfor i in range(200):\n    print("stamp %d %.6f" % (i, time.time()), flush=True)\n    time.sleep(0.02)\n');
spawnSync('git', ['-c', 'user.email=b@b', '-c', 'user.name=b', 'commit', '-qam', 'x'], { cwd: root });
spawnSync('git', ['-c', 'user.email=b@b', '-c', 'user.name=b', 'add', 'stamp.py'], { cwd: root });
spawnSync('git', ['-c', 'user.email=b@b', '-c', 'user.name=b', 'commit', '-qm', 'stamp'], { cwd: root });
writeFileSync(join(root, 'keel.yaml'), readFileSync(join(root, 'keel.yaml'), 'utf8').replace(/command: .*/, 'command: python3 stamp.py'));
keel(['init', root]);
const latencies: number[] = [];
const off = client.on('logs', (n) => {
  const now = Date.now() / 1000;
  for (const line of n.lines) {
    const m = /^stamp \d+ ([\d.]+)$/.exec(line);
    if (m) latencies.push((now - Number(m[1])) * 1000);
  }
});
const stamped = await launchToRunning('configs/quick.json');
await waitDone(stamped.runId);
await new Promise((r) => setTimeout(r, 500));
off();
console.log(`log line latency, job write → subscribed client (${latencies.length} lines over ssh): p50 ${fmt(percentile(latencies, 50))} ms, p99 ${fmt(percentile(latencies, 99))} ms; baseline: bare ssh round trip ${fmt(median(sshTimes))} ms (p50 is ${fmt(percentile(latencies, 50) / median(sshTimes), 3)}x it)`);

client.close();
await host.stop();
t.cleanup();

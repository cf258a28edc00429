/**
 * Clients that stop reading: a real daemon and a local job printing ~10,000 lines/s for 30 s,
 * followed by 5 `keel logs -f` processes that are suspended (SIGSTOP) for the whole run.
 * Figures, each against a baseline measured in this same script:
 * - the daemon's RSS growth with the 5 paused subscribers vs the same job with none;
 * - `daemon/status` p99 during the paused run vs idle p99;
 * - after SIGCONT, whether every subscriber printed the job's whole log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeelClient } from '../daemon/src/client/client.ts';
import { localJobLog, rssMiB, writeChattyProject } from '../test/support/chatty-project.ts';
import { fmt, keelBin, percentile, tempHome } from './support.ts';

const RATE = 10_000;
const SECONDS = 30;
const SUBSCRIBERS = 5;

interface Outcome {
  rssGrowthMiB: number;
  statusP99Ms: number;
  idleP99Ms: number;
  wholeLogs: number;
}

async function statusSamples(client: KeelClient, untilMs: number, onSample: () => void): Promise<number[]> {
  const lat: number[] = [];
  while (Date.now() < untilMs) {
    const t0 = performance.now();
    await client.call('daemon/status', {});
    lat.push(performance.now() - t0);
    onSample();
    await new Promise((r) => setTimeout(r, 20));
  }
  return lat;
}

async function scenario(subscribers: number): Promise<Outcome> {
  const t = tempHome();
  try {
    const root = join(t.dir, 'chatty');
    mkdirSync(root);
    writeChattyProject(root, { flood: { rate: RATE, seconds: SECONDS } });
    t.keel(['init', root]);
    const client = await KeelClient.connect({ socketPath: join(t.home, 'daemon.sock'), client: { name: 'bench', version: '0' } });
    const pid = (await client.call('daemon/status', {})).pid;
    const idle = await statusSamples(client, Date.now() + 2_000, () => undefined);
    const baseline = rssMiB(pid);
    const launched = JSON.parse(t.keel(['launch', join(root, 'configs', 'flood.json'), '--local', '--json'])) as { run: { id: string } };
    const runId = launched.run.id;
    const followers: { child: ChildProcess; out: Buffer[] }[] = [];
    for (let i = 0; i < subscribers; i++) {
      const child = spawn(process.execPath, [keelBin, 'logs', runId, '-f'], { env: t.env, stdio: ['ignore', 'pipe', 'ignore'] });
      const out: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      followers.push({ child, out });
    }
    await new Promise((r) => setTimeout(r, 1_500));
    for (const f of followers) f.child.kill('SIGSTOP');
    let peak = baseline;
    const busy = await statusSamples(client, Date.now() + (SECONDS + 2) * 1000, () => { peak = Math.max(peak, rssMiB(pid)); });
    const done = await client.call('runs/get', { run: runId });
    for (const f of followers) f.child.kill('SIGCONT');
    const exits = await Promise.all(followers.map((f) => new Promise<number | null>((r) => f.child.once('exit', r))));
    const log = readFileSync(localJobLog(t.home, runId));
    const whole = followers.filter((f, i) => exits[i] === 0 && Buffer.concat(f.out).equals(log)).length;
    client.close();
    if (done.run.status !== 'succeeded') throw new Error(`the chatty run ended ${done.run.status}`);
    return { rssGrowthMiB: peak - baseline, statusP99Ms: percentile(busy, 99), idleP99Ms: percentile(idle, 99), wholeLogs: whole };
  } finally {
    t.cleanup();
  }
}

const alone = await scenario(0);
const paused = await scenario(SUBSCRIBERS);
console.log(`job printing ${fmt(RATE, 0)} lines/s for ${SECONDS} s:`);
console.log(`  daemon RSS growth: ${fmt(paused.rssGrowthMiB, 1)} MiB with ${SUBSCRIBERS} paused \`keel logs -f\` vs ${fmt(alone.rssGrowthMiB, 1)} MiB with none ` +
  `(+${fmt(paused.rssGrowthMiB - alone.rssGrowthMiB, 1)} MiB for the paused clients)`);
console.log(`  daemon/status p99: ${fmt(paused.statusP99Ms, 1)} ms with the paused clients vs ${fmt(paused.idleP99Ms, 1)} ms idle (${fmt(paused.statusP99Ms / paused.idleP99Ms, 1)}×)`);
console.log(`  after SIGCONT: ${paused.wholeLogs} of ${SUBSCRIBERS} subscribers printed the whole log byte for byte`);

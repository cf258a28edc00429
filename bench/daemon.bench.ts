/**
 * Daemon figures: cold start to ready (vs. a bare `node -e` start, the floor) with an
 * empty home and with a keel.db of realistic size (1 M metric points) — measured two ways:
 * the way the extension starts it (spawn `dist/keel.js daemon --background` directly, wait
 * for the first answered request; the user's wait, and the figure issue 12 holds to ≤ 3×;
 * then the first `runs/list`, which needs the features the daemon loads after it listens)
 * and as `keel daemon start` (a CLI process that spawns the daemon: two Node starts), and
 * `daemon/status` round trips over the socket with 1 and 50 concurrent clients
 * (vs. a bare ws echo server on a Unix socket, the floor under any design).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { KeelClient } from '../daemon/src/client/client.ts';
import { startDaemon } from '../daemon/src/client/ensure.ts';
import { Store } from '../daemon/src/store/index.ts';
import { fmt, keelBin, median, percentile, repoRoot, tempHome } from './support.ts';

/** A keel.db with 1 M metric points (4 series of 250 k steps over 10 finished runs), closed cleanly. */
function bigDatabase(): { file: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-db-'));
  const file = join(dir, 'keel.db');
  const store = new Store(file);
  for (let r = 0; r < 10; r++) {
    const run = store.runs.create({ projectId: null, source: 'import' });
    for (let start = 0; start < 100_000; start += 10_000) {
      const batch = [];
      for (let i = start; i < start + 10_000; i++) batch.push({ key: ['loss', 'learning_rate', 'grad_norm', 'eval_loss'][i % 4] as string, step: Math.floor(i / 4), value: Math.sin(i), wallTime: 1.7e9 + i });
      store.metrics.record(run.id, batch);
    }
    // Finished, as an imported run is: a queued one would be placed (and failed) at every start.
    store.runs.setStatus(run.id, 'running');
    store.runs.setStatus(run.id, 'succeeded');
  }
  store.close();
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh KEEL_HOME, holding a copy of `seed` as its keel.db when given. */
function seededHome(seed: string | undefined): ReturnType<typeof tempHome> {
  const t = tempHome();
  if (seed) {
    mkdirSync(t.home, { recursive: true, mode: 0o700 });
    copyFileSync(seed, join(t.home, 'keel.db'));
  }
  return t;
}

function bareNode(): number {
  const n0 = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  return performance.now() - n0;
}

/**
 * Medians of 5 starts each, interleaved with bare `node -e 0` starts:
 * `direct` spawns the daemon as the extension does (extension/src/connection/launcher.ts:
 * `dist/keel.js daemon --background`, through the same startDaemon) and stops the clock at
 * the first answered `daemon/status`; `cli` times `keel daemon start` to its exit.
 */
type Steps = { node: number; loaded: number; store: number; listening: number; cpu: number };

/** The daemon's own start steps, from its `daemon ready` log line (ms since its process began). */
function readySteps(home: string): Steps {
  const line = readFileSync(join(home, 'daemon.log'), 'utf8').split('\n').find((l) => l.includes('"daemon ready"'));
  if (!line) throw new Error(`no "daemon ready" line in ${home}/daemon.log`);
  const ready = JSON.parse(line) as { startMs: Omit<Steps, 'cpu'>; startCpuMs: number };
  return { ...ready.startMs, cpu: ready.startCpuMs };
}

/** CPU time (user + system) a bare `node -e` has used when its script runs: the floor under the daemon's startCpuMs. */
function bareNodeCpu(): number {
  const r = spawnSync(process.execPath, ['-e', 'const u = process.cpuUsage(); process.stdout.write(String((u.user + u.system) / 1000))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

async function coldStart(seed?: string): Promise<{ direct: number; features: number; cli: number; node: number; nodeCpu: number; steps: Steps }> {
  const steps: Steps[] = [];
  const nodeCpu: number[] = [];
  const direct: number[] = [];
  const features: number[] = [];
  const cli: number[] = [];
  const node: number[] = [];
  for (let i = 0; i < 5; i++) {
    let t = seededHome(seed);
    const paths = { socketPath: join(t.home, 'daemon.sock'), client: { name: 'bench', version: '0' }, lockPath: join(t.home, 'daemon.lock') };
    const d0 = performance.now();
    const client = await startDaemon({ execPath: process.execPath, args: [join(repoRoot, 'dist', 'keel.js'), 'daemon', '--background'], env: t.env, logPath: join(t.home, 'daemon.log') }, paths);
    await client.call('daemon/status', {});
    direct.push(performance.now() - d0);
    await client.call('runs/list', { limit: 100 });
    features.push(performance.now() - d0);
    client.close();
    steps.push(readySteps(t.home));
    t.cleanup();
    node.push(bareNode());
    nodeCpu.push(bareNodeCpu());

    t = seededHome(seed);
    const c0 = performance.now();
    const r = spawnSync(process.execPath, [keelBin, 'daemon', 'start'], { env: t.env });
    cli.push(performance.now() - c0);
    if (r.status !== 0) throw new Error(String(r.stderr));
    t.cleanup();
    node.push(bareNode());
  }
  const step = (k: keyof Steps): number => median(steps.map((x) => x[k]));
  return {
    direct: median(direct), features: median(features), cli: median(cli), node: median(node), nodeCpu: median(nodeCpu),
    steps: { node: step('node'), loaded: step('loaded'), store: step('store'), listening: step('listening'), cpu: step('cpu') },
  };
}

function coldLine(label: string, s: { direct: number; features: number; cli: number; node: number; nodeCpu: number; steps: Steps }): string {
  return `${label}: daemon spawned directly (as the extension does) to first answer ${fmt(s.direct)} ms, ratio ${fmt(s.direct / s.node)}x ` +
    `(then its first runs/list, which needs the daemon's features, at ${fmt(s.features)} ms, ${fmt(s.features / s.node)}x); ` +
    `\`keel daemon start\` (CLI + daemon, two Node starts) ${fmt(s.cli)} ms, ratio ${fmt(s.cli / s.node)}x; bare \`node -e 0\` ${fmt(s.node)} ms\n` +
    `  inside the directly spawned daemon (median ms since its process began): Node ready ${fmt(s.steps.node)}, bundle loaded ${fmt(s.steps.loaded)}, ` +
    `store open ${fmt(s.steps.store)}, listening ${fmt(s.steps.listening)}; CPU time to listening ${fmt(s.steps.cpu)} ms vs a bare \`node -e\`'s ` +
    `${fmt(s.nodeCpu)} ms, ratio ${fmt(s.steps.cpu / s.nodeCpu)}x (steadier than wall time on a busy machine)`;
}

async function roundTrips(call: () => Promise<unknown>, clients: number, perClient: number): Promise<number[]> {
  const lat: number[] = [];
  await Promise.all(Array.from({ length: clients }, async () => {
    for (let i = 0; i < perClient; i++) {
      const t0 = performance.now();
      await call();
      lat.push(performance.now() - t0);
    }
  }));
  return lat;
}

async function echoBaseline(dir: string, clients: number, perClient: number): Promise<number[]> {
  const sock = join(dir, 'echo.sock');
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (ws) => ws.on('message', (d: Buffer) => ws.send(d.toString())));
  await new Promise<void>((r) => http.listen(sock, r));
  const { default: WebSocket } = await import('ws');
  const conns = await Promise.all(Array.from({ length: clients }, () => new Promise<InstanceType<typeof WebSocket>>((res) => {
    const ws = new WebSocket(`ws+unix://${sock}:/`);
    ws.once('open', () => res(ws));
  })));
  const lat: number[] = [];
  await Promise.all(conns.map(async (ws) => {
    for (let i = 0; i < perClient; i++) {
      const t0 = performance.now();
      await new Promise<void>((res) => { ws.once('message', () => res()); ws.send('{"id":1,"method":"daemon/status","params":{}}'); });
      lat.push(performance.now() - t0);
    }
  }));
  conns.forEach((c) => c.terminate());
  wss.close();
  http.close();
  return lat;
}

console.log(coldLine('cold start to ready, empty home (median of 5)', await coldStart()));
const big = bigDatabase();
console.log(coldLine(`cold start to ready with a ${fmt(statSync(big.file).size / 1e6, 0)} MB keel.db (1 M metric points, last shutdown clean; median of 5)`, await coldStart(big.file)));
const opens: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  new Store(big.file).close();
  opens.push(performance.now() - t0);
}
console.log(`opening that keel.db in-process (new Store + close, median of 5): ${fmt(median(opens))} ms`);
big.cleanup();

const t = tempHome();
t.keel(['daemon', 'start']);
for (const n of [1, 50]) {
  const perClient = n === 1 ? 2000 : 100;
  const clients = await Promise.all(Array.from({ length: n }, () => KeelClient.connect({ socketPath: join(t.home, 'daemon.sock'), client: { name: 'bench', version: '0' } })));
  let next = 0;
  await roundTrips(() => (clients[next++ % n] as KeelClient).call('daemon/status', {}), n, 20); // warm-up
  const idx = { i: 0 };
  const lat = await roundTrips(() => (clients[idx.i++ % n] as KeelClient).call('daemon/status', {}), n, perClient);
  const base = await echoBaseline(t.dir, n, perClient);
  console.log(
    `daemon/status round trip, ${n} client(s): p50 ${fmt(percentile(lat, 50), 3)} ms, p99 ${fmt(percentile(lat, 99), 3)} ms; ` +
    `bare ws echo p50 ${fmt(percentile(base, 50), 3)} ms, p99 ${fmt(percentile(base, 99), 3)} ms; ratio p50 ${fmt(percentile(lat, 50) / percentile(base, 50))}x`,
  );
  clients.forEach((c) => c.close());
}
t.cleanup();

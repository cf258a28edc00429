/**
 * Daemon figures: cold start to ready (vs. a bare `node -e` start, the floor) with an
 * empty home and with a keel.db of realistic size (1 M metric points), and
 * `daemon/status` round trips over the socket with 1 and 50 concurrent clients
 * (vs. a bare ws echo server on a Unix socket, the floor under any design).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { KeelClient } from '../daemon/src/client/client.ts';
import { Store } from '../daemon/src/store/index.ts';
import { fmt, keelBin, median, percentile, tempHome } from './support.ts';

/** A keel.db with 1 M metric points (4 series of 250 k steps over 10 runs), closed cleanly. */
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
  }
  store.close();
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function coldStart(seed?: string): { keel: number; node: number } {
  const keelRuns: number[] = [];
  const nodeRuns: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = tempHome();
    if (seed) {
      mkdirSync(t.home, { recursive: true, mode: 0o700 });
      copyFileSync(seed, join(t.home, 'keel.db'));
    }
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [keelBin, 'daemon', 'start'], { env: t.env });
    keelRuns.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(String(r.stderr));
    t.cleanup();
    const n0 = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    nodeRuns.push(performance.now() - n0);
  }
  return { keel: median(keelRuns), node: median(nodeRuns) };
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

const start = coldStart();
console.log(`cold start to ready (median of 5): keel daemon start ${fmt(start.keel)} ms; bare \`node -e 0\` ${fmt(start.node)} ms; ratio ${fmt(start.keel / start.node)}x`);
const big = bigDatabase();
const bigStart = coldStart(big.file);
console.log(
  `cold start to ready with a ${fmt(statSync(big.file).size / 1e6, 0)} MB keel.db (1 M metric points, last shutdown clean; median of 5): ` +
  `keel daemon start ${fmt(bigStart.keel)} ms; bare \`node -e 0\` ${fmt(bigStart.node)} ms; ratio ${fmt(bigStart.keel / bigStart.node)}x`,
);
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

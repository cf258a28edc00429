/**
 * Tracking figures, each as a ratio to a baseline measured in the same run:
 * - hash throughput on a 1 GiB file vs `sha256sum` and `b3sum` on the same file;
 * - re-scan of an unchanged 10,000-file dataset vs its first full hash and vs a bare stat walk;
 * - ingest rate of a 100,000-step × 8-key trainer_state.json and of a 1M-scalar event file
 *   vs a bare better-sqlite3 insert of the same points;
 * - `runs/compare` over 20 runs × 100,000 steps × 5 keys, and `metrics/get --max-points 1000`;
 * - `daemon/status` p99 while a real daemon imports a 2M-entry trainer_state.json through the
 *   protocol, as a ratio to its idle p99, and the daemon's peak RSS meanwhile.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createHashPool, createMemoryHashCache, hashTree } from '../daemon/src/track/hash/index.ts';
import { Store } from '../daemon/src/store/index.ts';
import { RunIngester } from '../daemon/src/track/ingest/index.ts';
import { fileVersionRecord, simpleValueRecord, tfeventsFile } from '../test/support/write-tfevents.ts';
import { compareRuns } from '../daemon/src/runs/compare.ts';
import { fmt, median, percentile, tempHome } from './support.ts';
import { KeelClient } from '../daemon/src/client/client.ts';
import { statusLatencies } from '../test/support/latency.ts';
import { writeTrainerState } from '../test/support/trainer-state.ts';

const dir = mkdtempSync(join(tmpdir(), 'keel-bench-track-'));
const ms = (t0: number): number => performance.now() - t0;

function timeCommand(cmd: string, args: string[]): number | null {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.status === 0 ? ms(t0) : null;
}

async function hashThroughput(): Promise<void> {
  const file = join(dir, 'one-gib.bin');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(16 * 1024 * 1024);
  for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
  for (let i = 0; i < 64; i++) writeSync(fd, chunk);
  closeSync(fd);
  const pool = createHashPool();
  const keel: number[] = [];
  const sha: number[] = [];
  const b3: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await pool.hashFile(file);
    keel.push(ms(t0));
    const s = timeCommand('sha256sum', [file]);
    if (s !== null) sha.push(s);
    const b = timeCommand('b3sum', [file]);
    if (b !== null) b3.push(b);
  }
  await pool.close();
  rmSync(file);
  const gib = 1024;
  const k = median(keel);
  let line = `hash 1 GiB (median of 3): keel ${fmt(gib / (k / 1000), 0)} MiB/s`;
  if (sha.length) line += `; sha256sum ${fmt(gib / (median(sha) / 1000), 0)} MiB/s (keel is ${fmt(median(sha) / k)}x its speed)`;
  if (b3.length) line += `; b3sum ${fmt(gib / (median(b3) / 1000), 0)} MiB/s (keel is ${fmt(median(b3) / k)}x its speed)`;
  else line += '; b3sum not installed (apt-get install b3sum)';
  console.log(line);
}

function statWalk(root: string): number {
  let n = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else { statSync(p, { bigint: true }); n++; }
    }
  };
  walk(root);
  return n;
}

async function rescan(): Promise<void> {
  const root = join(dir, 'ten-thousand');
  for (let d = 0; d < 100; d++) {
    mkdirSync(join(root, `shard-${d}`), { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(join(root, `shard-${d}`, `row-${f}.jsonl`), `{"d":${d},"f":${f},"text":"${'x'.repeat(200 + f)}"}\n`);
  }
  // Backdate the files: hashes of files written in the last 2 s are not cached (racy-write guard).
  const old = new Date(Date.now() - 60_000);
  execFileSync('find', [root, '-type', 'f', '-exec', 'touch', '-d', old.toISOString(), '{}', '+']);
  const pool = createHashPool();
  const cache = createMemoryHashCache();
  const t0 = performance.now();
  await hashTree(root, { pool, cache });
  const first = ms(t0);
  const again: number[] = [];
  const walks: number[] = [];
  for (let i = 0; i < 3; i++) {
    const before = pool.bytesRead;
    const t1 = performance.now();
    await hashTree(root, { pool, cache });
    again.push(ms(t1));
    if (pool.bytesRead !== before) console.log('  (warning: the re-scan read bytes)');
    const t2 = performance.now();
    statWalk(root);
    walks.push(ms(t2));
  }
  await pool.close();
  const r = median(again);
  console.log(`re-scan of an unchanged 10,000-file dataset: ${fmt(r)} ms (0 bytes read) vs first full hash ${fmt(first)} ms (${fmt(first / r)}x faster) vs bare stat walk ${fmt(median(walks))} ms (${fmt(r / median(walks))}x the floor)`);
}

function bareInsert(points: number): number {
  const file = join(dir, `bare-${points}.db`);
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE m (series INTEGER, step INTEGER, value REAL, PRIMARY KEY (series, step)) WITHOUT ROWID');
  const ins = db.prepare('INSERT INTO m VALUES (?, ?, ?)');
  const t0 = performance.now();
  db.transaction(() => { for (let i = 0; i < points; i++) ins.run(i % 8, Math.floor(i / 8), i * 0.5); })();
  const t = ms(t0);
  db.close();
  return points / (t / 1000);
}

async function ingestRates(): Promise<void> {
  const keys = ['loss', 'learning_rate', 'grad_norm', 'epoch', 'eval_loss', 'eval_accuracy', 'eval_runtime', 'tokens'];
  const hfDir = join(dir, 'hf-run');
  mkdirSync(hfDir, { recursive: true });
  const history: string[] = [];
  for (let s = 1; s <= 100_000; s++) history.push(`{${keys.map((k, i) => `"${k}": ${(s * (i + 1)) % 997 / 97}`).join(', ')}, "step": ${s}}`);
  writeFileSync(join(hfDir, 'trainer_state.json'), `{"global_step": 100000, "max_steps": 100000, "log_history": [${history.join(',\n')}]}`);
  const tbDir = join(dir, 'tb-run', 'runs', 'x');
  mkdirSync(tbDir, { recursive: true });
  const recs = [fileVersionRecord(1.7e9)];
  for (let i = 0; i < 1_000_000; i++) recs.push(simpleValueRecord(`train/k${i % 5}`, Math.floor(i / 5), i * 0.001, 1.7e9 + i));
  writeFileSync(join(tbDir, 'events.out.tfevents.1700000000.host.1.0'), tfeventsFile(recs));

  // Each import into a fresh database, each paired with a bare insert measured right after
  // it; the median of the paired ratios. The first import also starts the parse worker (a
  // daemon does that once): it is printed apart.
  const hf: { points: number; rate: number }[] = [];
  const tb: { points: number; rate: number }[] = [];
  const bares: number[] = [];
  const pool = createHashPool();
  for (let rep = 0; rep < 3; rep++) {
    const store = new Store(join(dir, `ingest-${rep}.db`));
    const ingester = new RunIngester({ store, hasher: pool, hashCache: createMemoryHashCache() });
    const t0 = performance.now();
    const a = await ingester.ingestRunDir(hfDir, { projectId: null, source: 'import' });
    hf.push({ points: a.points, rate: a.points / (ms(t0) / 1000) });
    const t1 = performance.now();
    const b = await ingester.ingestRunDir(join(dir, 'tb-run'), { projectId: null, source: 'import' });
    tb.push({ points: b.points, rate: b.points / (ms(t1) / 1000) });
    store.close();
    bares.push(bareInsert(800_000));
  }
  await pool.close();
  /** The median of the paired ratios, the ratios themselves, and the points recorded (each import the same, or the line says so). */
  const figures = (runs: { points: number; rate: number }[]): { ratio: number; ratios: string; points: string; rate: number } => {
    const ratios = runs.map((r, i) => r.rate / (bares[i] as number));
    const counts = [...new Set(runs.map((r) => r.points))];
    return { ratio: median(ratios), ratios: ratios.map((x) => fmt(x)).join(', '), points: counts.map((n) => fmt(n, 0)).join(' / '), rate: median(runs.map((r) => r.rate)) };
  };
  const h = figures(hf);
  const t = figures(tb);
  console.log(`ingest trainer_state.json 100,000 steps x 8 keys: ${h.points} points at ${fmt(h.rate, 0)} points/s (${fmt(h.ratio)}x a bare insert of 800,000 points, ${fmt(median(bares), 0)}/s; median of 3 paired ratios: ${h.ratios}, the first with the parse worker's start)`);
  console.log(`ingest TensorBoard file with 1M scalars: ${t.points} points at ${fmt(t.rate, 0)} points/s (${fmt(t.ratio)}x the bare insert; median of 3 paired: ${t.ratios})`);
}

function compareBench(): void {
  const store = new Store(join(dir, 'compare.db'));
  const runs = [];
  for (let r = 0; r < 20; r++) {
    const run = store.runs.create({ projectId: null, source: 'import', name: `run-${r}` });
    store.runLinks.setParams(run.id, { learning_rate: 1e-4 * (r + 1), seed: 42, model: 'x' });
    for (const key of ['loss', 'eval_loss', 'learning_rate', 'grad_norm', 'accuracy']) {
      const pts = [];
      for (let s = 0; s < 100_000; s++) pts.push({ key, step: s, value: Math.exp(-s / 20_000) + r * 0.01 + ((s * 7919) % 100) / 1e4 });
      store.metrics.record(run.id, pts);
    }
    runs.push(run);
  }
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    compareRuns(store, runs);
    times.push(ms(t0));
  }
  const ds: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    store.metrics.downsample(runs[0]!.id, 'loss', 1000);
    ds.push(ms(t0));
  }
  const full: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    store.metrics.points(runs[0]!.id, 'loss');
    full.push(ms(t0));
  }
  store.close();
  console.log(`compare 20 runs x 100,000 steps x 5 keys: ${fmt(median(times))} ms (median of 3)`);
  console.log(`metrics --max-points 1000 on one 100,000-point series: ${fmt(median(ds))} ms vs reading every point ${fmt(median(full))} ms (${fmt(median(full) / median(ds))}x faster)`);
}

/** Resident memory of a process in MB (Linux /proc): now and its peak so far. */
function memoryOf(pid: number): { nowMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { nowMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

async function statusWhileImporting(): Promise<void> {
  const entries = 2_000_000;
  const run = join(dir, 'import-run');
  mkdirSync(run, { recursive: true });
  const bytes = writeTrainerState(join(run, 'trainer_state.json'), { entries, keys: ['grad_norm', 'learning_rate', 'loss'], nanEvery: 1000, finished: true });
  const t = tempHome();
  try {
    t.keel(['daemon', 'start']);
    const pid = Number((JSON.parse(t.keel(['status', '--json'])) as { daemon: { pid: number } }).daemon.pid);
    const client = await KeelClient.connect({ socketPath: join(t.home, 'daemon.sock'), client: { name: 'bench', version: '0' }, requestTimeoutMs: 0 });
    const idleUntil = Date.now() + 10_000;
    const idle = await statusLatencies(client, () => Date.now() > idleUntil, { timeoutMs: 60_000, what: 'idle samples' });
    const before = memoryOf(pid);
    let done = false;
    const t0 = performance.now();
    const importing = client.call('runs/import', { dir: run }, { timeoutMs: 0 }).finally(() => (done = true));
    const busy = await statusLatencies(client, () => done, { timeoutMs: 1_800_000, what: 'the import' });
    const report = await importing;
    const seconds = (performance.now() - t0) / 1000;
    const mem = memoryOf(pid);
    client.close();
    const idleP99 = percentile(idle, 99);
    const busyP99 = percentile(busy, 99);
    console.log(`status p99 while importing a 2M-entry trainer_state.json (${fmt(bytes / 1e6, 0)} MB, ${fmt(report.points, 0)} points in ${fmt(seconds, 1)} s): ` +
      `${fmt(busyP99)} ms vs idle ${fmt(idleP99)} ms (${fmt(busyP99 / idleP99, 1)}x idle; max ${fmt(Math.max(...busy), 0)} ms over ${busy.length} calls, one every 10 ms)`);
    console.log(`daemon RSS during that import: peak ${fmt(mem.peakMb, 0)} MB (${fmt(before.nowMb, 0)} MB before; file ${fmt(bytes / 1e6, 0)} MB)`);
  } finally {
    t.cleanup();
  }
}

// KEEL_BENCH_ONLY=hash|rescan|ingest|compare|status: that part alone.
const parts: [string, () => unknown][] = [['hash', hashThroughput], ['rescan', rescan], ['ingest', ingestRates], ['compare', compareBench], ['status', statusWhileImporting]];
try {
  for (const [name, part] of parts) if (!process.env.KEEL_BENCH_ONLY || process.env.KEEL_BENCH_ONLY === name) await part();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

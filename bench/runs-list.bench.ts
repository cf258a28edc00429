/**
 * `runs/list --limit 100` over the protocol against a real daemon, with 10,000 runs in the
 * database vs with 100 (the same first page either way): a view must cost what it shows,
 * not what is stored. Each run has the series and alerts a real one has (train/loss,
 * eval/loss, learning_rate; an unacknowledged warning on one run in ten); every tenth is a
 * launched run with overrides. Both daemons run at once and are asked in turn, so load on
 * this shared machine hits both sides alike. Also the walk through all 10,000 a page of 100
 * at a time (each page read once, so colder than the repeated first page), per page,
 * against the first page. Prints figures, asserts none. Needs `npm run build`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KeelClient } from '../daemon/src/client/client.ts';
import { Store } from '../daemon/src/store/index.ts';
import { fmt, median, tempHome } from './support.ts';

const REPEAT = 60;

function seed(home: string, runs: number): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const store = new Store(join(home, 'keel.db'));
  for (let r = 0; r < runs; r++) {
    const launched = r % 10 === 0;
    const run = store.runs.create({
      projectId: null, source: launched ? 'launch' : 'import', name: `bench-${r}`, status: 'succeeded',
      ...(launched ? { launch: { kind: 'train', overrides: [`learning_rate=${r}e-5`] } } : {}),
    });
    const points = [];
    for (let s = 0; s < 20; s++) {
      points.push({ key: 'train/loss', step: s * 10, value: 1 / (s + 1) }, { key: 'eval/loss', step: s * 10, value: 1.1 / (s + 1) }, { key: 'learning_rate', step: s * 10, value: 1e-4 });
    }
    store.metrics.record(run.id, points);
    if (r % 10 === 5) store.events.add({ kind: 'loss_spike', severity: 'warning', runId: run.id, message: 'loss spiked' });
  }
  store.close();
}

interface Daemon {
  client: KeelClient;
  runs: number;
  cleanup: () => void;
}

async function startWith(runs: number): Promise<Daemon> {
  const t = tempHome();
  seed(t.home, runs);
  t.keel(['daemon', 'start']);
  const client = await KeelClient.connect({ socketPath: join(t.home, 'daemon.sock'), client: { name: 'bench', version: '0' } });
  for (let i = 0; i < 10; i++) await client.call('runs/list', { limit: 100 }); // warm-up
  return { client, runs, cleanup: () => { client.close(); t.cleanup(); } };
}

async function firstPage(d: Daemon): Promise<number> {
  const t0 = performance.now();
  const r = await d.client.call('runs/list', { limit: 100 });
  const ms = performance.now() - t0;
  if (r.runs.length !== Math.min(100, d.runs)) throw new Error(`runs/list returned ${r.runs.length} runs`);
  return ms;
}

/** Every page, following the cursor: ms a page, and how many. */
async function walk(d: Daemon): Promise<{ perPage: number; pages: number }> {
  let pages = 0;
  let cursor: string | null | undefined;
  const t0 = performance.now();
  do {
    const r = await d.client.call('runs/list', { limit: 100, ...(cursor ? { cursor } : {}) });
    cursor = r.nextCursor;
    pages++;
  } while (cursor);
  return { perPage: (performance.now() - t0) / pages, pages };
}

const small = await startWith(100);
const big = await startWith(10_000);
try {
  for (let round = 0; round < 3; round++) {
    // Interleaved, so a burst of load on this shared machine hits both sides alike.
    const s: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < REPEAT; i++) {
      s.push(await firstPage(small));
      b.push(await firstPage(big));
    }
    const ratio = median(b) / median(s);
    console.log(`runs/list --limit 100 (median of ${REPEAT}, interleaved): 10,000 runs ${fmt(median(b), 3)} ms; 100 runs ${fmt(median(s), 3)} ms; ratio ${fmt(ratio)}x (target <= 2x)`);
  }
  const w = await walk(big);
  const s: number[] = [];
  for (let i = 0; i < REPEAT; i++) s.push(await firstPage(small));
  console.log(`  paging through 10,000 runs: ${w.pages} page(s), ${fmt(w.perPage, 3)} ms a page; ratio to the first page with 100 runs ${fmt(w.perPage / median(s))}x`);
} finally {
  small.cleanup();
  big.cleanup();
}

/**
 * Runs with very many metric keys, through the real daemon and CLI. A run recorded before
 * the key cap with 200,000 keys made a 25 MB `runs/get` answer (over the 16 MiB frame
 * limit: `keel run show` lost its connection, `keel compare` timed out); now answers show at
 * most 500 series and say how to list the rest. Importing a folder with 200,000 keys keeps
 * the run's first 10,000 and says so.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../daemon/src/store/index.ts';
import type { MetricInput } from '../../daemon/src/store/index.ts';
import { RawClient, TestHome } from '../support/keel-home.ts';

const KEYS = 200_000;

interface Detail { run: { id: string }; metrics: { key: string }[]; metricsTotal?: number }

describe('runs with very many metric keys', () => {
  const h = new TestHome('keel-keys-');
  let wide = '';
  let narrow = '';

  before(() => {
    // A run as an older daemon recorded it: 200,000 keys (written into keel.db before the daemon starts).
    mkdirSync(h.home, { recursive: true });
    const store = new Store(h.db);
    try {
      const a = store.runs.create({ projectId: null, source: 'import', name: 'wide' });
      const b = store.runs.create({ projectId: null, source: 'import', name: 'narrow' });
      const points: MetricInput[] = [];
      for (let i = 0; i < KEYS; i++) points.push({ key: `layer_${String(i).padStart(6, '0')}/grad_norm`, step: 1, value: i });
      points.push({ key: 'loss', step: 1, value: 2.5 }, { key: 'eval_loss', step: 1, value: 2.7 }, { key: 'eval_accuracy', step: 1, value: 0.5 });
      store.metrics.record(a.id, points);
      store.metrics.record(b.id, [{ key: 'loss', step: 1, value: 2.0 }, { key: 'eval_loss', step: 1, value: 2.1 }]);
      [wide, narrow] = [a.id, b.id];
    } finally {
      store.close();
    }
  });

  after(() => {
    assert.equal(h.integrity(), 'ok');
    h.cleanup();
  });

  it('`keel run show` answers with 500 series, losses and eval metrics first, and says how to list the rest', async () => {
    const r = h.keel(['run', 'show', wide]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\(500 of 200,003 metrics shown, losses and eval metrics first; 199,503 not shown: list them with `keel metrics run_\w+`, or by prefix with `keel metrics run_\w+ --prefix eval_`\)/);
    const d = h.keelJson<Detail>(['run', 'show', wide]);
    assert.equal(d.metrics.length, 500);
    assert.equal(d.metricsTotal, KEYS + 3);
    assert.deepEqual(d.metrics.slice(0, 3).map((m) => m.key), ['eval_loss', 'loss', 'eval_accuracy']);
    // The whole answer, as the wire carries it.
    const raw = await RawClient.open(h.socket);
    try {
      await raw.initialize();
      raw.request(1, 'runs/get', { run: wide });
      const frame = JSON.stringify(await raw.next(30_000));
      assert.ok(frame.length < 1024 * 1024, `runs/get answer of ${frame.length} bytes`);
    } finally {
      raw.close();
    }
  });

  it('`keel metrics RUN` pages through every series, by prefix too', () => {
    const page = h.keel(['metrics', wide, '--prefix', 'layer_1999', '--limit', '5']);
    assert.equal(page.code, 0, page.stderr);
    assert.match(page.stdout, /layer_199900\/grad_norm/);
    assert.match(page.stdout, /\(1–5 of 100 metrics starting with "layer_1999"; next: `keel metrics run_\w+ --prefix layer_1999 --offset 5`\)/);
    const json = h.keelJson<{ total: number; offset: number; series: { key: string }[] }>(['metrics', wide, '--offset', '199999', '--limit', '10']);
    assert.deepEqual([json.total, json.offset, json.series.map((s) => s.key)], [KEYS + 3, 199_999, ['layer_199997/grad_norm', 'layer_199998/grad_norm', 'layer_199999/grad_norm', 'loss']]);
  });

  it('`keel compare` answers with at most 500 metric rows and the total', () => {
    const c = h.keelJson<{ metrics: { key: string; perRun: Record<string, unknown> }[]; metricsTotal: number }>(['compare', wide, narrow]);
    assert.equal(c.metrics.length, 500);
    assert.equal(c.metricsTotal, KEYS + 3);
    const loss = c.metrics.find((m) => m.key === 'loss');
    assert.ok(loss?.perRun[wide] && loss.perRun[narrow]);
    assert.match(h.keel(['compare', wide, narrow]).stdout, /Metrics \(last \/ best @ step\): 500 of 200003, losses and eval metrics first/);
  });

  it('an import with 200,000 keys keeps the run\'s first 10,000 and says what it dropped', () => {
    const dir = join(h.dir, 'many-keys');
    mkdirSync(dir);
    const entries: string[] = [];
    for (let e = 0; e < 200; e++) {
      const fields = Array.from({ length: 1_000 }, (_, i) => `"k${String(e * 1000 + i).padStart(6, '0')}": ${i}`);
      entries.push(`{${fields.join(', ')}, "loss": ${1 / (e + 1)}, "step": ${e + 1}}`);
    }
    writeFileSync(join(dir, 'trainer_state.json'), `{"global_step": 200, "log_history": [${entries.join(',\n')}]}\n`);
    const r = h.keelJson<{ runId: string; points: number; issues: string[] }>(['import', dir]);
    // The first 10 entries' 10,000 k-keys and loss are 10,001 keys: k009999 is the first one dropped, then 1,000 per entry.
    assert.deepEqual(r.issues, ['trainer_state.json: 190,001 points of 10,000+ more keys (first: "k009999") were not recorded: a run keeps at most 10,000 metric keys']);
    const d = h.keelJson<Detail>(['run', 'show', r.runId]);
    assert.equal(d.metricsTotal, 10_000);
    // trainer_state.json's `loss` under its canonical key (the name TensorBoard and W&B show).
    assert.equal(d.metrics[0]?.key, 'train/loss');
  });
});

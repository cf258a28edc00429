/**
 * `keel import` of a 500,000-entry trainer_state.json through the real daemon: the daemon
 * keeps answering `daemon/status` within 100 ms (p99) while it imports, its memory stays
 * bounded (the file is streamed in a parse worker, never held whole), and every point lands
 * with the value the file holds (Python's NaN included).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeelClient } from '../../daemon/src/client/client.ts';
import { TestHome } from '../support/keel-home.ts';
import { connectClient, percentile, statusLatencies } from '../support/latency.ts';
import { valueAt, writeTrainerState } from '../support/trainer-state.ts';

const ENTRIES = 500_000;
/** Peak resident memory the daemon may reach during the import (the file is 54 MB; parsing it whole on the daemon thread peaked near 500 MB). */
const RSS_BOUND_MB = 250;

/** Peak and current resident memory of a process, in MB (Linux /proc). */
function memoryOf(pid: number): { peakMb: number; nowMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakMb: kb('VmHWM') / 1024, nowMb: kb('VmRSS') / 1024 };
}

describe('importing a 500,000-entry trainer_state.json', () => {
  const h = new TestHome('keel-ts-import-');
  const dir = join(h.dir, 'big-run');
  let client: KeelClient;
  let pid = 0;

  before(async () => {
    mkdirSync(dir, { recursive: true });
    writeTrainerState(join(dir, 'trainer_state.json'), { entries: ENTRIES, keys: ['grad_norm', 'loss'], nanEvery: 1000, finished: true });
    h.keelJson(['status']);
    pid = h.daemonPid() ?? 0;
    client = await connectClient(h.socket);
  });

  after(() => {
    client.close();
    assert.equal(h.integrity(), 'ok');
    h.cleanup();
  });

  it('answers status within 100 ms (p99) during the import, stays under the memory bound, and records every point', async (t) => {
    const before = memoryOf(pid);
    let report: { runId: string; points: number; issues: string[] } | undefined;
    let failed: unknown;
    const importing = client.call('runs/import', { dir }, { timeoutMs: 0 }).then((r) => (report = r), (err: unknown) => (failed = err));
    const lat = await statusLatencies(client, () => report !== undefined || failed !== undefined, { timeoutMs: 600_000, what: 'the import', minSamples: 200 });
    await importing;
    assert.equal(failed, undefined);
    const mem = memoryOf(pid);
    const p99 = percentile(lat, 99);
    t.diagnostic(`status during import: p50 ${percentile(lat, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(...lat).toFixed(0)} ms over ${lat.length} calls; daemon RSS ${before.nowMb.toFixed(0)} MB before, peak ${mem.peakMb.toFixed(0)} MB`);
    assert.ok(p99 < 100, `status p99 ${p99.toFixed(1)} ms over ${lat.length} calls`);
    assert.ok(mem.peakMb < RSS_BOUND_MB, `daemon peak RSS ${mem.peakMb.toFixed(0)} MB`);

    assert.ok(report);
    assert.deepEqual(report.issues, []);
    // 2 keys per entry, plus the 4 values of the final entry: its epoch a point, total_flos, train_loss and train_runtime summary values.
    assert.equal(report.points, ENTRIES * 2 + 4);
    const detail = await client.call('runs/get', { run: report.runId });
    assert.equal(detail.run.status, 'succeeded');
    const byKey = new Map(detail.metrics.map((m) => [m.key, m]));
    assert.deepEqual([byKey.get('train/loss')?.points, byKey.get('train/grad_norm')?.points], [ENTRIES, ENTRIES]);
    assert.equal(byKey.get('train/loss')?.lastValue, valueAt('loss', ENTRIES));
    assert.equal(detail.summary?.find((v) => v.key === 'train/train_runtime')?.value, 3600.5);
    const at = async (key: string, step: number): Promise<{ value: number | null; special?: string } | undefined> =>
      (await client.call('metrics/get', { run: report?.runId ?? '', key, fromStep: step, toStep: step })).points[0];
    assert.equal((await at('loss', 123_457))?.value, valueAt('loss', 123_457));
    assert.equal((await at('grad_norm', 123_456))?.value, valueAt('grad_norm', 123_456, 1000));
    assert.equal((await at('grad_norm', 123_000))?.special, 'nan');
  });
});

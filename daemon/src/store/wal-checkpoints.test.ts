import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from './index.ts';
import { CHECK_EVERY_MS, FALLBACK_PAGES } from './wal-checkpoints.ts';

const dir = mkdtempSync(join(tmpdir(), 'keel-walcp-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `n` metric points to a new run (enough for a few hundred WAL pages at 20,000). */
function write(store: Store, n: number): void {
  const run = store.runs.create({ projectId: null, source: 'import' });
  for (let start = 0; start < n; start += 5_000) store.metrics.record(run.id, Array.from({ length: 5_000 }, (_, i) => ({ key: 'loss', step: start + i, value: Math.sin(start + i) })));
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One PRAGMA of the store's own connection, as a plain value. */
function walPragma(store: Store, name: string): unknown {
  return (store as unknown as { db: { pragma(s: string, o?: object): unknown } }).db.pragma(name, { simple: true });
}

describe('WAL checkpoints on a thread of their own', () => {
  it('copies what the daemon wrote into the main file off its loop, and the connection only checkpoints itself far past that', async () => {
    const errors: string[] = [];
    const store = new Store(join(dir, 'thread.db'), { checkpointThread: true, onCheckpointError: (m) => errors.push(m) });
    assert.equal(walPragma(store, 'wal_autocheckpoint'), FALLBACK_PAGES);
    const stats = store.walCheckpoints?.stats;
    assert.ok(stats);
    write(store, 60_000);
    await until(() => stats.runs > 0 && stats.frames > 0, 'a checkpoint on the thread');
    // Nothing written since: the next tick asks nothing (a thread checkpoint per write, not per tick).
    await new Promise((r) => setTimeout(r, CHECK_EVERY_MS * 3));
    const runs = stats.runs;
    await new Promise((r) => setTimeout(r, CHECK_EVERY_MS * 3));
    assert.equal(stats.runs, runs, 'no checkpoints while nothing is written');
    assert.equal(stats.failed, null);
    assert.deepEqual(errors, []);
    store.close();
    // The thread's connection closed first: the last close checkpointed and removed the WAL.
    assert.equal(existsSync(join(dir, 'thread.db-wal')), false);
    const again = new Store(join(dir, 'thread.db'));
    assert.equal(again.integrityCheck(), 'ok');
    assert.equal(again.metrics.points(again.runs.list({ limit: 1 })[0]!.id, 'loss').length, 60_000);
    again.close();
  });

  it('goes back to checkpointing in the connection when the thread dies, and says so', async () => {
    const errors: string[] = [];
    const store = new Store(join(dir, 'dies.db'), { checkpointThread: true, onCheckpointError: (m) => errors.push(m) });
    write(store, 10_000);
    const cp = store.walCheckpoints as unknown as { worker: { terminate(): Promise<number> } | null; stats: { runs: number; failed: string | null } };
    await until(() => cp.stats.runs > 0, 'the thread to start');
    await cp.worker?.terminate();
    await until(() => cp.stats.failed !== null, 'the failure to be noticed');
    assert.match(errors.join('\n'), /checkpoint thread exited .*checkpoints its WAL itself/);
    assert.equal(walPragma(store, 'wal_autocheckpoint'), 1_000);
    write(store, 10_000);
    store.close();
    assert.equal(existsSync(join(dir, 'dies.db-wal')), false);
  });

  it('is not started for a store that does not ask for it (tests, tools, a read-only open)', () => {
    const store = new Store(join(dir, 'plain.db'));
    assert.equal(store.walCheckpoints, null);
    assert.equal(walPragma(store, 'wal_autocheckpoint'), 1_000);
    store.close();
  });
});

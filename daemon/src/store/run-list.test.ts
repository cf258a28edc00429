/**
 * The run list in one query (run-list.ts) on a real SQLite store: each summary field as the
 * views read it (the training loss by key priority, the last step of any series, open
 * alerts, a launch's kind and overrides, the parent), keyset pages that walk every run once
 * in a stable order even when runs share a creation time and new runs arrive between pages.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parseRunCursor } from './index.ts';
import { useTempStore } from '../../../test/support/temp-store.ts';

describe('run list in one query', () => {
  const { dir, store } = useTempStore('keel-run-list-');

  it('summarises each run: training loss by key priority, last step of any series, open alerts, kind, overrides, parent', () => {
    const plain = store.runs.create({ projectId: null, source: 'import', name: 'plain' });
    // `loss` and `train_loss` lose to `train/loss`; the last step is the longest series' (eval/acc at 300).
    store.metrics.record(plain.id, [
      { key: 'train_loss', step: 100, value: 9 }, { key: 'loss', step: 150, value: 8 }, { key: 'train/loss', step: 200, value: 0.5 },
      { key: 'eval/acc', step: 300, value: 0.9 },
    ]);
    store.events.add({ kind: 'loss_spike', severity: 'warning', runId: plain.id, message: 'spike' });
    store.events.add({ kind: 'note', severity: 'info', runId: plain.id, message: 'info does not count' });
    const custom = store.runs.create({ projectId: null, source: 'import', name: 'custom' });
    // No canonical key: the first key by name that contains "loss" (case matters: `Loss` is not one).
    store.metrics.record(custom.id, [{ key: 'my_loss_b', step: 7, value: 2 }, { key: 'my_loss_a', step: 5, value: 3 }, { key: 'Loss', step: 9, value: 1 }]);
    const evalRun = store.runs.create({ projectId: null, source: 'launch', name: 'ev', parentRunId: plain.id, launch: { kind: 'eval', overrides: ['lr=1', 3, 'seed=2'] } });
    const arrayLaunch = store.runs.create({ projectId: null, source: 'launch', name: 'odd', launch: ['not', 'an', 'object'] });

    const byId = new Map(store.runs.summaries().runs.map((r) => [r.id, r]));
    const p = byId.get(plain.id);
    assert.deepEqual([p?.lastLoss, p?.lastLossStep, p?.lastStep, p?.alerts, p?.kind, p?.parentRunId, p?.overrides], [0.5, 200, 300, 1, 'train', null, []]);
    const c = byId.get(custom.id);
    assert.deepEqual([c?.lastLoss, c?.lastLossStep, c?.lastStep], [3, 5, 9]);
    const e = byId.get(evalRun.id);
    assert.deepEqual([e?.lastLoss, e?.lastStep, e?.alerts, e?.kind, e?.parentRunId, e?.overrides], [null, null, 0, 'eval', plain.id, ['lr=1', 'seed=2']]);
    assert.deepEqual([byId.get(arrayLaunch.id)?.kind, byId.get(arrayLaunch.id)?.overrides], ['train', []]);
    // The Run fields are the ones runs/get gives.
    const { lastLoss: _l, lastStep: _s, alerts: _a, lastLossStep: _ls, kind: _k, parentRunId: _p, overrides: _o, ...run } = p as NonNullable<typeof p>;
    assert.deepEqual(run, store.runs.get(plain.id));
    assert.deepEqual(store.runs.summary(evalRun.id), e);
    assert.equal(store.runs.summary('run_gone'), undefined);
  });

  it('pages through every run once, newest first, ties by id, while new runs arrive', () => {
    const db = new Database(join(dir, 'keel.db'));
    // 25 runs in 5 groups sharing a creation time: the order within a group is by id alone.
    const made = Array.from({ length: 25 }, (_, i) => store.runs.create({ projectId: null, source: 'import', name: `tie-${i}` }));
    const setCreated = db.prepare('UPDATE runs SET created_at = ? WHERE id = ?');
    made.forEach((r, i) => setCreated.run(1_000 + Math.floor(i / 5), r.id));
    db.close();
    const all = store.runs.summaries({ limit: 10_000 }).runs.map((r) => r.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = store.runs.summaries({ limit: 4, ...(cursor ? { after: parseRunCursor(cursor) } : {}) });
      assert.ok(page.runs.length <= 4);
      seen.push(...page.runs.map((r) => r.id));
      cursor = page.nextCursor;
      // A run created mid-walk is newer than every page's cursor: it never shifts a later page.
      if (pages === 2) store.runs.create({ projectId: null, source: 'import', name: 'late' });
      pages++;
    } while (cursor !== null);
    assert.deepEqual(seen, all, 'every run once, in the order of one whole listing');
    assert.equal(pages, Math.ceil(all.length / 4));
    const sorted = [...store.runs.summaries({ limit: 10_000 }).runs].filter((r) => all.includes(r.id));
    for (let i = 1; i < sorted.length; i++) {
      const [a, b] = [sorted[i - 1], sorted[i]] as [typeof sorted[number], typeof sorted[number]];
      assert.ok(a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id), `${a.id} before ${b.id}`);
    }
    assert.equal(store.runs.summaries({ limit: all.length + 1 }).nextCursor, null, 'no cursor past the last page');
  });

  it('filters by status and project with the cursor', () => {
    const proj = store.projects.upsert(join(dir, 'p'), 'p', {}, []).project;
    const mine = Array.from({ length: 5 }, (_, i) => store.runs.create({ projectId: proj.id, source: 'import', name: `mine-${i}`, status: 'running' }));
    const first = store.runs.summaries({ projectId: proj.id, statuses: ['running'], limit: 3 });
    const second = store.runs.summaries({ projectId: proj.id, statuses: ['running'], limit: 3, after: parseRunCursor(first.nextCursor ?? '') });
    assert.deepEqual(new Set([...first.runs, ...second.runs].map((r) => r.id)), new Set(mine.map((r) => r.id)));
    assert.equal(second.nextCursor, null);
  });

  it('rejects a cursor it did not make', () => {
    for (const bad of ['', 'abc', '12', '12:', ':run_a', "12:run_a' OR 1=1", '-1:run_a']) assert.equal(parseRunCursor(bad), undefined, bad);
    assert.deepEqual(parseRunCursor('1700000000000:run_abc'), { createdAt: 1_700_000_000_000, id: 'run_abc' });
  });
});

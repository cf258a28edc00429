/**
 * Whether a code snapshot is still in use, as the dispatcher asks when a run ends (a snapshot
 * nothing active uses is dropped): one indexed look, right past the first 1,000 active runs
 * (the list it replaced stopped there, so a busy sweep's oldest run could lose its snapshot),
 * blind to ended runs and to a launch spec that is not JSON.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useTempStore } from '../../../test/support/temp-store.ts';

describe('code snapshots in use', () => {
  const { store } = useTempStore('keel-snapshot-use-');

  const launch = (snapshotId: string, status: 'queued' | 'succeeded'): string =>
    store.runs.create({ projectId: null, source: 'launch', status, launch: { kind: 'train', frozen: { code: { snapshotId, rebuildable: true } } } }).id;

  it('finds the oldest of 1,001 queued runs, and only runs that have not ended', () => {
    launch('snap-old', 'queued');
    for (let i = 0; i < 1000; i++) launch('snap-busy', 'queued');
    launch('snap-done', 'succeeded');
    assert.equal(store.runs.usesSnapshot('snap-old'), true, 'the 1,001st newest active run counts');
    assert.equal(store.runs.usesSnapshot('snap-busy'), true);
    assert.equal(store.runs.usesSnapshot('snap-done'), false, 'an ended run holds nothing');
    assert.equal(store.runs.usesSnapshot('snap-none'), false);
  });

  it('reads a launch spec that is not JSON as naming no snapshot', () => {
    const id = launch('snap-bad', 'queued');
    (store as unknown as { db: { prepare(sql: string): { run(...a: unknown[]): void } } }).db.prepare('UPDATE runs SET launch_json = ? WHERE id = ?').run('{not json', id);
    assert.equal(store.runs.usesSnapshot('snap-bad'), false);
  });
});

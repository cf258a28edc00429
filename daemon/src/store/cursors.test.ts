import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from './index.ts';

describe('CursorStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-cursors-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'keel.db');
  const events = '/out/runs/Jan28_15-12-11_gpu07/events.out.tfevents.1674944078.gpu07.cyverse.org.12415.0';

  it('stores offset, line count and JSON state per (owner, file), and survives a reopen', () => {
    const store = new Store(file);
    assert.equal(store.cursors.get('run:a', events), undefined);
    store.cursors.put('run:a', events, { byteOffset: 4912, state: { dev: '2049', ino: '1234', pluginByTag: { 'train/loss': 'scalars' } } });
    store.cursors.put('run:a', '/out/metrics.jsonl', { byteOffset: 120, lineCount: 3 });
    store.cursors.put('run:b', events, { byteOffset: 10 });
    store.close();
    const again = new Store(file);
    const c = again.cursors.get('run:a', events);
    assert.deepEqual([c?.byteOffset, c?.lineCount, c?.state], [4912, 0, { dev: '2049', ino: '1234', pluginByTag: { 'train/loss': 'scalars' } }]);
    assert.equal(again.cursors.get('run:a', '/out/metrics.jsonl')?.lineCount, 3);
    assert.equal(again.cursors.get('run:a', '/out/metrics.jsonl')?.state, null);
    assert.deepEqual(again.cursors.list('run:a').map((x) => x.file), ['/out/metrics.jsonl', events]);
    again.close();
  });

  it('replaces a cursor, forgets one file, or every file of an owner', () => {
    const store = new Store(file);
    store.cursors.put('run:a', events, { byteOffset: 9000, state: null });
    assert.deepEqual([store.cursors.get('run:a', events)?.byteOffset, store.cursors.get('run:a', events)?.state], [9000, null]);
    store.cursors.delete('run:a', events);
    assert.equal(store.cursors.get('run:a', events), undefined);
    assert.equal(store.cursors.deleteOwner('run:a'), 1);
    assert.equal(store.cursors.get('run:b', events)?.byteOffset, 10);
    store.close();
  });
});

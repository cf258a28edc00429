import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../log/logger.ts';
import { createHashPool, type HashPool } from './hash/index.ts';
import { storeProjectFile } from '../projects/record-project.ts';
import { Tracker } from './tracker.ts';
import { useTempStore } from '../../../test/support/temp-store.ts';

describe('the tracker', () => {
  const { dir, store } = useTempStore('keel-tracker-', {
    closeFirst: async () => {
      await tracker.close();
      await pool.close();
    },
  });
  let pool: HashPool;
  let tracker: Tracker;
  before(() => {
    pool = createHashPool({ size: 2 });
    tracker = new Tracker({
      store, pool, hashCache: store.fileHashes, log: createLogger(null, { stderr: false }), publish: () => {}, exclude: [], quietMs: 20,
    });
  });

  it('keeps exactly one watcher per project under 20 concurrent (re)registrations, and none after close', async () => {
    const root = join(dir, 'project');
    mkdirSync(join(root, 'configs'), { recursive: true });
    writeFileSync(join(root, 'keel.yaml'), 'name: racy\nconfigs:\n  - configs/*.yaml\n');
    const { project } = await storeProjectFile(store, root);
    await Promise.all(Array.from({ length: 20 }, () => tracker.watchProject(project)));
    assert.equal(tracker.watcherCount, 1);
    // Watching still works after the race: a new config is tracked.
    const config = join(root, 'configs', 'lr.yaml');
    writeFileSync(config, 'learning_rate: 0.0001\n');
    for (let i = 0; i < 400 && store.configs.byPath(config) === undefined; i++) await new Promise((r) => setTimeout(r, 25));
    assert.notEqual(store.configs.byPath(config), undefined, 'the new config was tracked');
    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'keel.yaml'), 'name: other\n');
    const second = (await storeProjectFile(store, other)).project;
    await Promise.all([tracker.watchProject(second), tracker.unwatchProject(second.id), tracker.watchProject(second)]);
    assert.equal(tracker.watcherCount, 2);
    await tracker.unwatchProject(second.id);
    assert.equal(tracker.watcherCount, 1);
    await tracker.close();
    assert.equal(tracker.watcherCount, 0);
    await tracker.watchProject(project);
    assert.equal(tracker.watcherCount, 0, 'a closed tracker starts no watcher');
  });
});

/**
 * A launch freezes the data keel.yaml names even when the tracker has not walked the project
 * yet (a launch right after `keel init`, or on a loaded machine): found by the dataset globs,
 * hashed and recorded then, never frozen as "no data". Real store, hash pool, files and git.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../store/index.ts';
import { createHashPool, type HashPool } from '../track/hash/index.ts';
import { parseProjectFile } from '../track/project/keel-yaml.ts';
import { CodeSnapshots } from './code-snapshots.ts';
import { freezeSources } from './freeze.ts';
import { useTempStore } from '../../../test/support/temp-store.ts';

describe('freezing a launch', () => {
  const { dir, store } = useTempStore('keel-freeze-', { closeFirst: () => pool.close() });
  let pool: HashPool;
  before(() => {
    pool = createHashPool();
  });

  it('freezes every dataset keel.yaml names, though the tracker has recorded none yet', async () => {
    const root = join(dir, 'project');
    mkdirSync(join(root, 'data', 'shards'), { recursive: true });
    mkdirSync(join(root, 'data', 'scratch'), { recursive: true });
    writeFileSync(join(root, 'train.py'), 'print("hi")\n');
    writeFileSync(join(root, 'data', 'train.jsonl'), '{"text": "a"}\n');
    writeFileSync(join(root, 'data', 'shards', 'part-0.jsonl'), '{"text": "b"}\n');
    writeFileSync(join(root, 'data', 'scratch', 'x.jsonl'), '{"text": "c"}\n');
    const yaml = 'name: p\ndatasets:\n  - data/*.jsonl\n  - data/shards\n  - data/scratch\nignore:\n  - data/scratch\ntrain:\n  command: python3 train.py\n';
    writeFileSync(join(root, 'keel.yaml'), yaml);
    execFileSync('git', ['init', '-q'], { cwd: root });
    const keel = parseProjectFile(yaml, 'keel.yaml');
    assert.deepEqual(keel.errors, []);
    const { project } = store.projects.upsert(root, 'p', keel.project, []);
    assert.equal(store.datasets.list({ projectId: project.id }).length, 0, 'the tracker has recorded nothing');

    const deps = { store, hasher: pool, hashCache: store.fileHashes, snapshots: new CodeSnapshots(join(dir, 'home'), { store, hasher: pool, hashCache: store.fileHashes }) };
    const frozen = await freezeSources(deps, { id: project.id, root }, keel.project);
    assert.deepEqual(frozen.datasets.map((d) => d.path).sort(), ['data/shards', 'data/train.jsonl'], 'both datasets, and not the ignored folder');
    for (const d of frozen.datasets) assert.match(d.hash, /^sha256:[0-9a-f]{64}$/);
    assert.equal(store.datasets.list({ projectId: project.id }).length, 2, 'and recorded');

    // A burst of launches of the same code at once (20 `keel launch` in parallel) shares one copy:
    // two copies sealed side by side raced for the same folder (ENOTEMPTY on rename).
    const fresh = new CodeSnapshots(join(dir, 'home2'), { store, hasher: pool, hashCache: store.fileHashes });
    const burst = await Promise.all(Array.from({ length: 8 }, () => freezeSources({ ...deps, snapshots: fresh }, { id: project.id, root }, keel.project)));
    assert.equal(new Set(burst.map((f) => f.code.snapshotId)).size, 1);
    assert.deepEqual(readdirSync(join(dir, 'home2', 'snapshots')).filter((f) => !f.startsWith('.')).sort(), [`${burst[0]?.code.snapshotId}`, `${burst[0]?.code.snapshotId}.json`], 'one snapshot, no copies left behind');

    // A snapshot still on disk whose manifest blob is gone (reclaimed with the last run that named
    // it): the launch that reuses it records the manifest again, so a later rebuild can check it.
    const other = new Store(join(dir, 'other.db'));
    try {
      const { project: again } = other.projects.upsert(root, 'p', keel.project, []);
      const reused = await freezeSources({ store: other, hasher: pool, hashCache: other.fileHashes, snapshots: new CodeSnapshots(join(dir, 'home2'), { store: other, hasher: pool, hashCache: other.fileHashes }) }, { id: again.id, root }, keel.project);
      assert.equal(reused.code.snapshotId, burst[0]?.code.snapshotId, 'the snapshot on disk is reused');
      assert.ok(other.blobs.getText(reused.code.snapshotHash)?.includes('train.py'), 'and its manifest is recorded again');
    } finally {
      other.close();
    }
  });
});

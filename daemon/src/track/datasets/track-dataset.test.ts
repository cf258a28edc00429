import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHashPool, hashTree, type FileHasher, type HashPool } from '../hash/index.ts';
import type { DatasetProfile } from '../profile/types.ts';
import type { FolderProfile } from './profile-folder.ts';
import { trackDataset, type DatasetProgress } from './track-dataset.ts';
import { useTempStore } from '../../../../test/support/temp-store.ts';

const sha256 = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;
/** Files modified within 2 s are not cached (hashTree's racy window), so tests age them. */
const age = (path: string): void => utimesSync(path, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));

const V1 = '{"prompt": "2+2?", "completion": "4"}\n{"prompt": "capital of France?", "completion": "Paris"}\n';
const V2 = `${V1}{"prompt": "3*3?", "completion": "9"}\nnot json\n`;

describe('trackDataset', () => {
  const temp = useTempStore('keel-datasets-', { closeFirst: () => pool.close() });
  const { dir } = temp;
  let { store } = temp;
  let root: string;
  let pool: HashPool;
  let projectId: string;
  const deps = (): Parameters<typeof trackDataset>[0] => ({ store, hasher: pool, hashCache: store.fileHashes });

  before(() => {
    root = join(dir, 'my project');
    mkdirSync(join(root, 'data'), { recursive: true });
    pool = createHashPool();
    projectId = store.projects.upsert(root, 'p', { name: 'p' }, []).project.id;
  });

  it('records a file dataset once per content, and a change back makes the old version latest again', async () => {
    const file = join(root, 'data', 'train.jsonl');
    writeFileSync(file, V1);
    const first = await trackDataset(deps(), { id: projectId, root }, file);
    assert.equal(first.created, true);
    assert.equal(first.dataset.path, 'data/train.jsonl');
    assert.equal(first.dataset.kind, 'file');
    assert.equal(first.version?.hash, sha256(V1));
    assert.equal(first.version?.hash, 'sha256:e38f0ab1e1596f696bd2e7a0ba0f8e764869e62efc1209a9d330eacccbbe3246');
    assert.equal(first.version?.sizeBytes, 94);
    assert.equal(first.version?.fileCount, 1);
    const profile = first.version?.profile as DatasetProfile & { kind: string };
    assert.equal(profile.kind, 'file');
    assert.equal(profile.format, 'jsonl');
    assert.equal(profile.rows, 2);
    assert.deepEqual(profile.fields.map((f) => f.name), ['prompt', 'completion']);

    const same = await trackDataset(deps(), { id: projectId, root }, file);
    assert.equal(same.created, false);
    assert.equal(same.version?.id, first.version?.id);

    writeFileSync(file, V2);
    const second = await trackDataset(deps(), { id: projectId, root }, file);
    assert.equal(second.created, true);
    assert.notEqual(second.version?.id, first.version?.id);
    assert.equal(second.dataset.versions, 2);
    assert.equal(second.dataset.latestVersionId, second.version?.id);
    assert.equal((second.version?.profile as DatasetProfile).rows, 3);
    assert.equal((second.version?.profile as DatasetProfile).invalidLineCount, 1);

    writeFileSync(file, V1);
    const back = await trackDataset(deps(), { id: projectId, root }, file);
    assert.equal(back.created, false);
    assert.equal(back.reactivated, true);
    assert.equal(back.version?.id, first.version?.id);
    assert.equal(back.dataset.versions, 2);
    assert.equal(back.dataset.latestVersionId, first.version?.id);
    assert.deepEqual(store.datasets.versions(first.dataset.id).map((v) => v.id), [first.version?.id, second.version?.id]);
    assert.equal(store.datasets.versionsByHash(sha256(V2))[0]?.id, second.version?.id);
  });

  it('hashes a nested folder without tool litter, profiles its text files and finds files again', async () => {
    const folder = join(root, 'data', 'sft mix ü');
    mkdirSync(join(folder, 'part 1', 'deep'), { recursive: true });
    for (const junk of ['.git', 'node_modules/pkg', '__pycache__', 'part 1/__pycache__']) mkdirSync(join(folder, junk), { recursive: true });
    writeFileSync(join(folder, 'a.jsonl'), '{"text": "hello"}\n{"text": "hello"}\n');
    writeFileSync(join(folder, 'part 1', 'b.csv'), 'q,a\nwho,me\nwhat,"it, is"\n');
    writeFileSync(join(folder, 'part 1', 'deep', 'c $(x).txt'), 'one\ntwo\n');
    writeFileSync(join(folder, 'part 1', 'deep', 'weights.bin'), Buffer.from([0, 1, 2, 3]));
    for (const junk of ['.git/HEAD', 'node_modules/pkg/index.js', '__pycache__/x.pyc', 'part 1/__pycache__/y.pyc', '.DS_Store', 'part 1/.DS_Store']) {
      writeFileSync(join(folder, junk), 'junk');
    }
    const progress: DatasetProgress[] = [];
    const tracked = await trackDataset({ ...deps(), onProgress: (p) => progress.push(p) }, { id: projectId, root }, folder);
    assert.equal(tracked.dataset.kind, 'folder');
    assert.equal(tracked.dataset.path, 'data/sft mix ü');
    assert.equal(tracked.version?.fileCount, 4);
    assert.equal(tracked.version?.sizeBytes, 36 + 25 + 8 + 4);
    const files = store.datasets.files(tracked.version?.id ?? '');
    assert.deepEqual(files.map((f) => f.path), ['a.jsonl', 'part 1/b.csv', 'part 1/deep/c $(x).txt', 'part 1/deep/weights.bin']);
    assert.equal(files[2]?.hash, sha256('one\ntwo\n'));
    const profile = tracked.version?.profile as FolderProfile;
    assert.equal(profile.kind, 'folder');
    assert.equal(profile.profilableFiles, 3);
    assert.equal(profile.profiledFiles, 3);
    assert.equal(profile.truncated, false);
    assert.equal(profile.files['a.jsonl']?.duplicateRows, 1);
    assert.equal(profile.files['part 1/b.csv']?.rows, 2);
    assert.equal(profile.totals.rows, 2 + 2 + 2);
    assert.deepEqual(profile.totals.formats, { jsonl: 1, csv: 1, text: 1 });
    // Progress: the last hashing report covers every byte, then profiling follows.
    const lastHash = progress.filter((p) => p.phase === 'hashing').at(-1);
    assert.deepEqual([lastHash?.filesDone, lastHash?.bytesDone], [4, 73]);
    assert.equal(progress.at(-1)?.phase, 'profiling');
    assert.equal(progress.at(-1)?.bytesDone, 36 + 25 + 8);

    const inside = join(folder, 'part 1', 'b.csv');
    assert.equal(store.datasets.findContaining(inside)?.relPath, 'part 1/b.csv');
    assert.equal(store.datasets.versionsWithFile(inside)[0]?.version.id, tracked.version?.id);
    const byHash = store.datasets.versionsWithFileHash(sha256('one\ntwo\n'));
    assert.deepEqual(byHash.map((m) => [m.dataset.id, m.file.path]), [[tracked.dataset.id, 'part 1/deep/c $(x).txt']]);
    assert.equal(store.datasets.byAbsPath(folder)?.id, tracked.dataset.id);
    assert.equal(store.datasets.list({ projectId }).length, 2);
  });

  it('records no version when a file vanishes while being hashed, and records it on retry', async () => {
    const folder = join(root, 'data', 'flaky');
    mkdirSync(folder);
    writeFileSync(join(folder, 'keep.jsonl'), '{"a": 1}\n');
    writeFileSync(join(folder, 'tmp.jsonl'), '{"a": 2}\n');
    const vanishing: FileHasher = {
      hashFile(path, opts) {
        if (path.endsWith('tmp.jsonl')) unlinkSync(path);
        return pool.hashFile(path, opts);
      },
    };
    const flaky = await trackDataset({ ...deps(), hasher: vanishing }, { id: projectId, root }, folder);
    assert.equal(flaky.retry, true);
    assert.equal(flaky.version, null);
    assert.deepEqual(flaky.skipped.map((s) => [s.path, s.kind]), [['tmp.jsonl', 'deleted']]);
    assert.equal(store.datasets.versions(flaky.dataset.id).length, 0);
    const retried = await trackDataset(deps(), { id: projectId, root }, folder);
    assert.equal(retried.retry, false);
    assert.equal(retried.version?.fileCount, 1);
  });

  it('records what a version left out (a FIFO, a link out of the folder, a dangling link) and raises one warning event', { timeout: 20_000 }, async () => {
    const folder = join(root, 'data', 'holey');
    mkdirSync(folder);
    writeFileSync(join(folder, 'ok.jsonl'), '{"a": 1}\n');
    execFileSync('mkfifo', [join(folder, 'pipe.jsonl')]);
    symlinkSync('/', join(folder, 'everything'));
    symlinkSync('nowhere', join(folder, 'dangling'));
    const tracked = await trackDataset(deps(), { id: projectId, root }, folder);
    assert.equal(tracked.created, true);
    assert.equal(tracked.version?.fileCount, 1);
    const profile = tracked.version?.profile as FolderProfile;
    assert.deepEqual(profile.skipped, {
      count: 3,
      paths: [
        { path: 'dangling', kind: 'broken-symlink', reason: 'symlink target does not exist' },
        { path: 'everything', kind: 'outside-link', reason: 'link leaves the dataset folder: -> /' },
        { path: 'pipe.jsonl', kind: 'not-regular-file', reason: 'a FIFO (named pipe), not a regular file' },
      ],
    });
    const events = store.events.list().filter((e) => e.kind === 'dataset_incomplete');
    assert.equal(events.length, 1);
    assert.equal(events[0]?.severity, 'warning');
    assert.match(events[0]?.message ?? '', /^dataset data\/holey: version sha256:[0-9a-f]{12}… leaves out 3 paths: dangling \(symlink target does not exist\); everything \(link leaves the dataset folder: -> \/\); pipe\.jsonl \(a FIFO \(named pipe\), not a regular file\)\. Replace them with regular files inside the folder or remove them; `keel dataset show .*holey` lists them\.$/);
    // The same content again is no new version and no second event.
    await trackDataset(deps(), { id: projectId, root }, folder);
    assert.equal(store.events.list().filter((e) => e.kind === 'dataset_incomplete').length, 1);
  });

  it('reports a missing dataset with E_NOT_FOUND', async () => {
    await assert.rejects(trackDataset(deps(), { id: projectId, root }, join(root, 'nope.jsonl')), { code: 'E_NOT_FOUND' });
  });

  it('keeps hashes across a daemon restart: an unchanged or moved folder is not read again', async () => {
    const folder = join(root, 'cached');
    mkdirSync(join(folder, 'sub'), { recursive: true });
    for (let i = 0; i < 5; i++) writeFileSync(join(folder, 'sub', `f${i}.jsonl`), `{"i": ${i}}\n`.repeat(1000));
    for (let i = 0; i < 5; i++) age(join(folder, 'sub', `f${i}.jsonl`));
    const first = await trackDataset(deps(), { id: projectId, root }, folder);
    assert.equal(first.created, true);
    await pool.close();

    store = temp.reopen();
    pool = createHashPool();
    const tree = await hashTree(folder, { cache: store.fileHashes, pool });
    assert.equal(tree.hash, first.version?.hash);
    assert.equal(pool.bytesRead, 0);
    assert.equal(store.fileHashes.hits, 5);
    const again = await trackDataset(deps(), { id: projectId, root }, folder);
    assert.equal(again.created, false);
    assert.equal(pool.bytesRead, 0);

    // A rename keeps the inode: the moved file is a cache hit, and its hash finds the old path.
    const moved = join(root, 'cached-moved');
    renameSync(folder, moved);
    const fileHash = store.datasets.files(first.version?.id ?? '')[0]?.hash ?? '';
    assert.equal(store.fileHashes.findByHash(fileHash)[0]?.path, join(folder, 'sub', 'f0.jsonl'));
    const relocated = await trackDataset(deps(), { id: projectId, root }, moved);
    assert.equal(relocated.version?.hash, first.version?.hash);
    assert.notEqual(relocated.dataset.id, first.dataset.id);
    assert.equal(pool.bytesRead, 0);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { useTempStore } from '../../../test/support/temp-store.ts';

const H = (c: string): string => `sha256:${c.repeat(64)}`;

describe('tracking records in the store', () => {
  const { dir, store } = useTempStore('keel-store-tracking-');

  it('stores a blob once by hash, empty and non-UTF-8 content included', () => {
    const a = store.blobs.put('héllo');
    assert.equal(a, 'sha256:3c48591d8d098a4538f5e013dfcf406e948eac4d3277b10bf614e295d6068179');
    assert.equal(store.blobs.put(Buffer.from('héllo', 'utf8')), a);
    assert.equal(store.blobs.getText(a), 'héllo');
    assert.equal(store.blobs.size(a), 6);
    const empty = store.blobs.put(Buffer.alloc(0));
    assert.equal(empty, 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.deepEqual(store.blobs.get(empty), Buffer.alloc(0));
    const latin1 = store.blobs.put(Buffer.from([0xe9, 0x00, 0xff]));
    assert.deepEqual(store.blobs.get(latin1), Buffer.from([0xe9, 0x00, 0xff]));
    assert.equal(store.blobs.get(H('0')), undefined);
  });

  it('answers the hash cache only for the exact identity, and replaces a changed file', () => {
    const id = { dev: '2049', ino: '18446744073709551615', size: 10, mtimeNs: '1700000000123456789' };
    store.fileHashes.put(id, H('a'), '/data/a.jsonl');
    assert.equal(store.fileHashes.get(id), H('a'));
    assert.equal(store.fileHashes.get({ ...id, mtimeNs: '1700000000123456790' }), undefined);
    assert.equal(store.fileHashes.get({ ...id, size: 11 }), undefined);
    store.fileHashes.put({ ...id, size: 11 }, H('b'), '/data/a.jsonl');
    assert.equal(store.fileHashes.get(id), undefined);
    assert.equal(store.fileHashes.entries, 1);
    assert.deepEqual(store.fileHashes.findByHash(H('b')).map((k) => k.path), ['/data/a.jsonl']);
    assert.deepEqual(store.fileHashes.findByHash(H('a')), []);
  });

  it('orders dataset versions by when they became current, even within one millisecond', () => {
    const project = store.projects.upsert(join(dir, 'p'), 'p', {}, []).project;
    const ds = store.datasets.ensure({ projectId: project.id, path: 'data/x', absPath: join(dir, 'p', 'data', 'x'), kind: 'folder' });
    assert.equal(store.datasets.ensure({ projectId: project.id, path: 'data/x', absPath: join(dir, 'p', 'data', 'x'), kind: 'folder' }).id, ds.id);
    const files = [{ path: 'a.jsonl', size: 3, hash: H('1') }, { path: 'sub/b.jsonl', size: 4, hash: H('2') }];
    const a = store.datasets.addVersion(ds.id, { hash: H('a'), sizeBytes: 7, fileCount: 2, profile: { kind: 'folder' }, files });
    const b = store.datasets.addVersion(ds.id, { hash: H('b'), sizeBytes: 1, fileCount: 0, profile: null, files: [] });
    const sameAsB = store.datasets.addVersion(ds.id, { hash: H('b'), sizeBytes: 1, fileCount: 0, profile: null, files: [] });
    const backToA = store.datasets.addVersion(ds.id, { hash: H('a'), sizeBytes: 7, fileCount: 2, profile: null, files: [] });
    assert.deepEqual([a.created, b.created, sameAsB.created, backToA.created, backToA.reactivated], [true, true, false, false, true]);
    assert.equal(sameAsB.version.id, b.version.id);
    assert.equal(backToA.version.id, a.version.id);
    assert.ok(backToA.version.createdAt > b.version.createdAt);
    assert.deepEqual(store.datasets.version(a.version.id)?.profile, { kind: 'folder' });
    const listed = store.datasets.list({ projectId: project.id });
    assert.deepEqual(listed.map((d) => [d.path, d.latestVersionId, d.versions]), [['data/x', a.version.id, 2]]);
    assert.deepEqual(store.datasets.files(a.version.id).map((f) => f.path), ['a.jsonl', 'sub/b.jsonl']);
    const found = store.datasets.versionsWithFile(join(dir, 'p', 'data', 'x', 'sub', 'b.jsonl'));
    assert.deepEqual(found.map((m) => [m.version.id, m.file.hash]), [[a.version.id, H('2')]]);
    assert.equal(store.datasets.findContaining(join(dir, 'p', 'data')), undefined);
  });

  it('keeps one code version per (project, commit, patch) even when commit or patch is null', () => {
    const project = store.projects.upsert(join(dir, 'code'), 'code', {}, []).project;
    const clean = { projectId: project.id, commit: 'a'.repeat(40), branch: 'main', remote: null, dirty: false, patch: null };
    const first = store.codeVersions.record(clean);
    assert.equal(store.codeVersions.record({ ...clean, branch: 'other' }).codeVersion.id, first.codeVersion.id);
    const unborn = { ...clean, commit: null };
    assert.equal(store.codeVersions.record(unborn).codeVersion.id, store.codeVersions.record(unborn).codeVersion.id);
    const patch = Buffer.from('diff --git a/x b/x\n');
    const dirty = store.codeVersions.record({ ...clean, dirty: true, patch });
    assert.equal(dirty.created, true);
    assert.equal(dirty.codeVersion.patchHash, store.blobs.put(patch));
    assert.deepEqual(store.codeVersions.patch(dirty.codeVersion.id), patch);
    assert.equal(store.codeVersions.list(project.id).length, 3);
  });

  it('keeps non-finite config params distinct from null', () => {
    const { config } = store.configs.record({
      hash: H('c'), format: 'yaml', flavor: 'unknown', text: 'a: .nan\nb: null\n',
      params: { a: Number.NaN, b: null, c: -Infinity }, projectId: null, absPath: join(dir, 'c.yaml'),
    });
    assert.deepEqual(store.configs.params(config.id), { a: 'NaN', b: null, c: '-Infinity' });
    assert.equal(store.configs.content(config.id), 'a: .nan\nb: null\n');
  });
});

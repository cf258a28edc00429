import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalConnection } from './local.ts';

describe('the local backend copies without rsync', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-copy-'));
  const src = join(dir, "src 'q' $(x)");
  after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(src, 'sub', 'empty'), { recursive: true });
  writeFileSync(join(src, 'train.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  writeFileSync(join(src, 'sub', '-rf notes.txt'), 'notes\n', { mode: 0o644 });
  writeFileSync(join(src, 'sub', 'weights.safetensors'), Buffer.alloc(64, 1));
  symlinkSync('../train.sh', join(src, 'sub', 'link.sh'));
  utimesSync(join(src, 'train.sh'), new Date('2024-01-02T03:04:05Z'), new Date('2024-01-02T03:04:05Z'));
  const conn = new LocalConnection();

  it('push copies everything, private: folders 0700, files 0600 or 0700, links as links, times kept', async () => {
    const dest = join(dir, 'dest');
    const r = await conn.push(src, dest);
    assert.equal(r.via, 'copy');
    assert.equal(r.bytes, '#!/bin/sh\necho hi\n'.length + 'notes\n'.length + 64);
    assert.equal(statSync(dest).mode & 0o777, 0o700);
    assert.equal(statSync(join(dest, 'sub', 'empty')).mode & 0o777, 0o700, 'empty folders too');
    assert.equal(statSync(join(dest, 'train.sh')).mode & 0o777, 0o700, 'executable stays executable, for its owner');
    assert.equal(statSync(join(dest, 'sub', '-rf notes.txt')).mode & 0o777, 0o600);
    assert.equal(readlinkSync(join(dest, 'sub', 'link.sh')), '../train.sh');
    assert.ok(lstatSync(join(dest, 'sub', 'link.sh')).isSymbolicLink());
    assert.equal(statSync(join(dest, 'train.sh')).mtime.toISOString(), '2024-01-02T03:04:05.000Z');
  });

  it('pushFiles copies only the listed files, and a pushed-again read-only file is overwritten', async () => {
    const dest = join(dir, 'listed');
    await conn.pushFiles(src, ['sub/-rf notes.txt'], dest);
    chmodSync(join(dest, 'sub', '-rf notes.txt'), 0o400);
    writeFileSync(join(src, 'sub', '-rf notes.txt'), 'changed\n');
    await conn.pushFiles(src, ['sub/-rf notes.txt'], dest);
    assert.equal(readFileSync(join(dest, 'sub', '-rf notes.txt'), 'utf8'), 'changed\n');
    assert.throws(() => statSync(join(dest, 'train.sh')));
  });

  it('pull follows the slash rule and skips excluded names', async () => {
    const contents = join(dir, 'pulled-contents');
    await conn.pull(`${join(src, 'sub')}/`, contents, { excludes: ['*.safetensors'] });
    assert.ok(statSync(join(contents, '-rf notes.txt')).isFile());
    assert.throws(() => statSync(join(contents, 'weights.safetensors')), 'excluded');
    const itself = join(dir, 'pulled-itself');
    await conn.pull(join(src, 'sub'), itself);
    assert.ok(statSync(join(itself, 'sub', 'weights.safetensors')).isFile());
  });

  it('a file that vanished is an error that names it', async () => {
    await assert.rejects(conn.pushFiles(src, ['gone.txt'], join(dir, 'x')), /cannot copy .*gone\.txt: it was removed while Keel copied it/);
  });

  it('commands run under umask 077', async () => {
    const r = await conn.exec(['sh', '-c', 'umask']);
    assert.equal(r.stdout.trim(), '0077');
  });
});

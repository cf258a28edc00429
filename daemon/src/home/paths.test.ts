/** Private folders under KEEL_HOME, on a real filesystem with the usual umask 022. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePrivateDir, withUmask } from './paths.ts';

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('ensurePrivateDir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-paths-'));
  const previous = process.umask(0o022);
  after(() => {
    process.umask(previous);
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates every missing level 0700', () => {
    const deep = join(dir, 'logs', 'run_a', 'x');
    assert.equal(ensurePrivateDir(deep), deep);
    for (const p of [join(dir, 'logs'), join(dir, 'logs', 'run_a'), deep]) assert.equal(mode(p), 0o700, p);
  });

  it('tightens a folder an older Keel made 0755, and leaves a private one alone', () => {
    const old = join(dir, 'staging');
    mkdirSync(old, { mode: 0o755 });
    assert.equal(mode(old), 0o755);
    ensurePrivateDir(old);
    assert.equal(mode(old), 0o700);
    ensurePrivateDir(old);
    assert.equal(mode(old), 0o700);
  });

  it('withUmask restores the umask, even when the function throws', () => {
    assert.throws(() => withUmask(0o077, () => { throw new Error('boom'); }), /boom/);
    assert.equal(process.umask(), 0o022);
    assert.equal(withUmask(0o077, () => process.umask()), 0o077);
  });
});

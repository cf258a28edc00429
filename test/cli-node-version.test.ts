/**
 * A newcomer on an old Node (the machine's real Node 20, whose better-sqlite3 crashes):
 * `keel` and `npm start` say which Node is needed and how to get it before anything native
 * loads, and a daemon that dies of a signal is reported as a crash, with the Node hint.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonStartError, startDaemon } from '../daemon/src/client/ensure.ts';
import { keelBin, repoRoot, TestHome } from './support/keel-home.ts';

const NODE_20 = '/usr/bin/node';

describe('an old Node', () => {
  const h = new TestHome('keel-node20-');
  after(() => h.cleanup());

  it('the machine has the Node 20 these tests need', () => {
    const v = spawnSync(NODE_20, ['--version'], { encoding: 'utf8' });
    assert.match(v.stdout, /^v20\./, `${NODE_20} is Node 20 (TESTING.md: the machine ships it)`);
  });

  it('bin/keel.js on Node 20 says which Node is needed and how to get it, before loading anything', () => {
    const r = spawnSync(NODE_20, [keelBin, 'status'], { env: h.env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^keel: Keel needs Node\.js 22 or newer; this is Node 20\.\d+\.\d+ \(\/usr\/bin\/node\)\./);
    assert.match(r.stderr, /nvm install 22/);
    assert.equal(existsSync(h.home), false, 'no daemon was started');
  });

  it('npm start (scripts/demo.mjs) on Node 20 says the same first', () => {
    const r = spawnSync(NODE_20, [join(repoRoot, 'scripts', 'demo.mjs')], { env: h.env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^npm start needs Node\.js 22 or newer; this is Node 20\./);
    assert.equal(r.stdout, '', 'nothing else ran');
  });

  it('a daemon that crashes on it is reported as a crash by signal, with the Node hint', async () => {
    const launcher = { execPath: NODE_20, args: [join(repoRoot, 'dist', 'keel.js'), 'daemon', '--background'], env: h.env, logPath: join(h.home, 'daemon.log') };
    const failure = await startDaemon(launcher, { socketPath: h.socket, client: { name: 't', version: '0' } }).then(() => null, (e: unknown) => e);
    assert.ok(failure instanceof DaemonStartError, String(failure));
    assert.match(failure.message, /^the daemon crashed with SIGSEGV\. It ran on Node 20 \(\/usr\/bin\/node\); Keel needs Node 22 or newer/);
    assert.doesNotMatch(failure.message, /code null/);
  });
});

/**
 * dist/keel.js turns on Node's compile cache before it loads the CLI and daemon bundles
 * (daemon/src/cli/entry.ts): the cache lands in a per-user 0700 folder and is reused, and a
 * cache folder that cannot be made never stops the CLI or the daemon from starting. To run
 * the daemon it loads the daemon bundle alone; every other form goes through the CLI.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon } from '../daemon/src/client/ensure.ts';
import { runsTheDaemon } from '../daemon/src/cli/start.ts';
import { repoRoot, TestHome } from './support/keel-home.ts';

const entry = join(repoRoot, 'dist', 'keel.js');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name));
}

/** Starts the daemon as the extension does (`dist/keel.js daemon --background`), asks its status, and stops it. */
async function daemonAnswers(h: TestHome, env: NodeJS.ProcessEnv): Promise<number> {
  const client = await startDaemon(
    { execPath: process.execPath, args: [entry, 'daemon', '--background'], env, logPath: join(h.home, 'daemon.log') },
    { socketPath: h.socket, client: { name: 'test', version: '0' }, lockPath: join(h.home, 'daemon.lock') },
  );
  try {
    return (await client.call('daemon/status', {})).pid;
  } finally {
    await client.call('daemon/shutdown', {}).catch(() => undefined);
    client.close();
    // Gone only once its lock is: the next test starts a daemon in the same home.
    const deadline = Date.now() + 15_000;
    while (existsSync(join(h.home, 'daemon.lock')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }
}

describe('compile cache', () => {
  const h = new TestHome('keel-cc-');
  after(() => h.cleanup());

  it('is written to $XDG_CACHE_HOME/keel/compile-cache (mode 0700) and used on the next start', () => {
    const cacheHome = join(h.dir, 'cache');
    const env = { ...h.env, XDG_CACHE_HOME: cacheHome, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' };
    const first = spawnSync(process.execPath, [entry, '--version'], { env, encoding: 'utf8' });
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /^keel \d/);
    const dir = join(cacheHome, 'keel', 'compile-cache');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.ok(filesUnder(dir).length > 0, 'the first start leaves compiled code behind');
    // The second start reads the CLI bundle's code from the cache instead of compiling it.
    const second = spawnSync(process.execPath, [entry, '--version'], { env, encoding: 'utf8' });
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stderr, /keel-cli\.js[^\n]*(cache hit|was accepted)/i);
  });

  it('a cache folder that cannot be made leaves the CLI and the daemon working', async () => {
    // A regular file where the cache's parent folder should be: mkdir fails (even for root).
    const blocker = join(h.dir, 'not-a-folder');
    writeFileSync(blocker, '');
    const env = { ...h.env, XDG_CACHE_HOME: blocker };
    const cli = spawnSync(process.execPath, [entry, '--version'], { env, encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /^keel \d/);
    assert.equal(cli.stderr, '');
    assert.ok((await daemonAnswers(h, env)) > 0);
  });

  it('runs the daemon without the CLI bundle only for `daemon` and `daemon --background`', () => {
    assert.deepEqual(runsTheDaemon(['daemon']), { foreground: true });
    assert.deepEqual(runsTheDaemon(['daemon', '--background']), { foreground: false });
    for (const other of [['daemon', 'start'], ['daemon', 'stop'], ['daemon', '--help'], ['daemon', '--bogus'], ['daemon', '--background', '--json'], ['status'], []]) {
      assert.equal(runsTheDaemon(other), null, other.join(' '));
    }
    // Those other forms still get the CLI's answers.
    const bogus = spawnSync(process.execPath, [entry, 'daemon', '--bogus'], { env: h.env, encoding: 'utf8' });
    assert.equal(bogus.status, 2, bogus.stderr);
    assert.match(bogus.stderr, /bogus/);
  });

  it('a second daemon started the direct way exits 3 and says which one runs', async () => {
    const pid = await (async () => {
      const client = await startDaemon(
        { execPath: process.execPath, args: [entry, 'daemon', '--background'], env: h.env, logPath: join(h.home, 'daemon.log') },
        { socketPath: h.socket, client: { name: 'test', version: '0' }, lockPath: join(h.home, 'daemon.lock') },
      );
      const status = await client.call('daemon/status', {});
      client.close();
      return status.pid;
    })();
    const second = spawnSync(process.execPath, [entry, 'daemon'], { env: h.env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(second.status, 3, second.stderr);
    assert.match(second.stderr, new RegExp(`already running \\(pid ${pid}`));
  });
});

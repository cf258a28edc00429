/**
 * The daemon's crash handler, in a real daemon process (the handler is process-level): an
 * unhandled rejection is logged with its stack and survived; an uncaught exception is logged
 * with its stack, then the daemon shuts down cleanly (socket and lock removed, database
 * intact) with exit code 70, and the next command starts a fresh daemon. The triggers come
 * from a test-only preload (test/support/daemon-preload.ts).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KeelClient } from '../daemon/src/client/client.ts';
import { keelBin, repoRoot, TestHome, waitFor } from './support/keel-home.ts';
import { endAllStarted, startNode, type Proc } from './support/processes.ts';

const preload = join(repoRoot, 'test', 'support', 'daemon-preload.ts');

type LogLine = Record<string, unknown> & { msg: string };
const logLines = (h: TestHome): LogLine[] => h.daemonLogLines<LogLine>();

async function statusPid(h: TestHome): Promise<number> {
  const c = await KeelClient.connect({ socketPath: h.socket, client: { name: 't', version: '0' } });
  try {
    return (await c.call('daemon/status', {})).pid;
  } finally {
    c.close();
  }
}

describe('the daemon crash handler', () => {
  const homes: TestHome[] = [];
  after(() => {
    endAllStarted();
    homes.forEach((h) => h.cleanup());
  });

  const startDaemon = async (onSigusr2: 'reject' | 'throw'): Promise<{ h: TestHome; d: Proc }> => {
    const h = new TestHome('keel-crash-');
    homes.push(h);
    const d = startNode(['--import', preload, keelBin, 'daemon'], { ...h.env, KEEL_TEST_ON_SIGUSR2: onSigusr2 });
    await waitFor(() => logLines(h).some((l) => l.msg === 'daemon ready') || d.child.exitCode !== null, 15_000, 'the daemon to be ready');
    assert.equal(await statusPid(h), d.pid);
    return { h, d };
  };

  it('logs an unhandled rejection with its stack and keeps serving', async () => {
    const { h, d } = await startDaemon('reject');
    for (let i = 1; i <= 3; i++) {
      process.kill(d.pid, 'SIGUSR2');
      await waitFor(() => logLines(h).filter((l) => l.msg.startsWith('unhandled promise rejection')).length === i, 10_000, `rejection ${i} in daemon.log`);
      assert.equal(await statusPid(h), d.pid, `still the same daemon after rejection ${i}`);
    }
    const line = logLines(h).find((l) => l.msg.startsWith('unhandled promise rejection'));
    assert.equal(line?.level, 'error');
    assert.equal(line?.error, 'test preload: a rejection nobody handles');
    assert.match(String(line?.stack), /Error: test preload: a rejection nobody handles\n\s+at .*daemon-preload\.ts/);
    process.kill(d.pid, 'SIGTERM');
    assert.equal(await d.exited, 0, 'and it still stops cleanly');
  });

  it('logs an uncaught exception with its stack, shuts down cleanly with exit 70, and the next command starts afresh', async () => {
    const { h, d } = await startDaemon('throw');
    process.kill(d.pid, 'SIGUSR2');
    assert.equal(await d.exited, 70, d.stderr());
    const lines = logLines(h);
    const crash = lines.find((l) => l.msg.startsWith('uncaught exception'));
    assert.ok(crash, 'the exception is in daemon.log');
    assert.equal(crash.origin, 'uncaughtException');
    assert.match(String(crash.stack), /Error: test preload: an exception nobody catches\n\s+at .*daemon-preload\.ts/);
    const after = lines.slice(lines.indexOf(crash)).map((l) => l.msg);
    assert.ok(after.includes('shutting down') && after.includes('stopped'), `a clean shutdown followed: ${after.join(' | ')}`);
    assert.equal(existsSync(h.socket), false, 'the socket is removed');
    assert.equal(existsSync(join(h.home, 'daemon.lock')), false, 'the lock is released');
    assert.equal(h.integrity(), 'ok');
    const fresh = h.keelJson<{ daemon: { pid: number } }>(['status']);
    assert.notEqual(fresh.daemon.pid, d.pid);
  });
});

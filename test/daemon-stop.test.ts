/**
 * A stop that tells the truth, and a CLI that never hangs on a daemon that does not answer.
 * Real daemons with real leaks and real hangs: 20 concurrent registers (which leak file
 * watchers on this branch), a watcher held by a preload, an in-flight `hosts/check` against a
 * host that accepts TCP and never speaks SSH, and a daemon suspended with SIGSTOP.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { KeelClient } from '../daemon/src/client/client.ts';
import { isAlive } from '../daemon/src/home/lock.ts';
import { keelBin, repoRoot, TestHome, waitFor } from './support/keel-home.ts';
import { endAllStarted, exitWithin, killHard, sleep, startNode } from './support/processes.ts';

const preload = join(repoRoot, 'test', 'support', 'daemon-preload.ts');
const daemonLog = (h: TestHome): string => readFileSync(join(h.home, 'daemon.log'), 'utf8');

describe('keel daemon stop', () => {
  const homes: TestHome[] = [];
  const home = (env: NodeJS.ProcessEnv = {}): TestHome => {
    const h = new TestHome('keel-stop-', env);
    homes.push(h);
    return h;
  };
  after(() => {
    endAllStarted();
    for (const h of homes) {
      killHard(h.daemonPid());
      h.cleanup();
    }
  });

  /** `keel daemon stop`, asserting that "Stopped" is printed only once the process is gone. */
  async function stopTruthfully(h: TestHome, pid: number): Promise<void> {
    const stop = startNode([keelBin, 'daemon', 'stop'], h.env);
    const code = await exitWithin(stop, 60_000, 'keel daemon stop');
    const alive = isAlive(pid);
    assert.equal(code, 0, stop.stderr());
    assert.match(stop.stdout().toString(), new RegExp(`^Stopped keel daemon pid ${pid}\\n$`));
    assert.equal(alive, false, `stop printed Stopped while pid ${pid} still ran`);
  }

  it('says Stopped only when the process is gone, though 20 concurrent registers leaked watchers; the next command starts afresh', async (t) => {
    const h = home();
    const root = join(h.dir, 'project');
    mkdirSync(join(root, 'data'), { recursive: true });
    writeFileSync(join(root, 'keel.yaml'), 'name: raced\ndatasets: [data/*.jsonl]\noutputs: [outputs/*]\n');
    writeFileSync(join(root, 'data', 'a.jsonl'), '{"text": "a"}\n');
    const pid = h.keelJson<{ daemon: { pid: number } }>(['daemon', 'start']).daemon.pid;
    const client = await KeelClient.connect({ socketPath: h.socket, client: { name: 't', version: '0' } });
    await Promise.all(Array.from({ length: 20 }, () => client.call('projects/register', { root })));
    client.close();
    await stopTruthfully(h, pid);
    const leaked = daemonLog(h).split('\n').find((l) => l.includes('handles still open'));
    t.diagnostic(leaked ? `the daemon exited explicitly: ${leaked}` : 'no handle leaked this time: the daemon exited by itself');
    const fresh = h.keelJson<{ daemon: { pid: number } }>(['status']).daemon.pid;
    assert.notEqual(fresh, pid);
  });

  it('a handle left open after the shutdown is logged and the daemon exits anyway, with its exit code', async () => {
    const h = home();
    const d = startNode(['--import', preload, keelBin, 'daemon'], { ...h.env, KEEL_TEST_LEAK_HANDLE: '1' });
    await waitFor(() => h.daemonPid() === d.pid, 15_000, 'the daemon to start');
    await stopTruthfully(h, d.pid);
    assert.equal(await d.exited, 0);
    const line = daemonLog(h).split('\n').find((l) => l.includes('exiting with handles still open after shutdown'));
    assert.match(line ?? '', /"handles":\{[^}]*"FSEventWrap":1/);
    assert.match(line ?? '', /"exitCode":0/);
  });

  it('that cannot finish in time says what the daemon waits for and how to end it; a second SIGTERM ends it', async () => {
    // A "host" that accepts TCP and never says a word: `hosts/check` hangs in ssh's banner wait.
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => { sockets.push(s); s.on('error', () => {}); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    try {
      const h = home({ KEEL_STOP_TIMEOUT_MS: '2500' });
      h.keelJson(['hosts', 'add', 'silent', '--ssh', `root@127.0.0.1:${port}`]);
      const pid = h.daemonPid();
      assert.ok(pid);
      const check = startNode([keelBin, 'hosts', 'check', 'silent'], h.env);
      await waitFor(() => sockets.length > 0, 15_000, 'ssh to connect to the silent host');
      const stop = startNode([keelBin, 'daemon', 'stop'], h.env);
      assert.equal(await exitWithin(stop, 30_000, 'keel daemon stop'), 1, stop.stderr());
      assert.ok(isAlive(pid), 'the daemon still runs (it waits for hosts/check)');
      assert.equal(stop.stdout().length, 0, 'no "Stopped"');
      const said = stop.stderr();
      assert.match(said, new RegExp(`the keel daemon \\(pid ${pid}\\) is still running`));
      assert.match(said, /shutdown step "closing the socket and finishing in-flight requests" \(1 in-flight request: hosts\/check\)/);
      assert.match(said, new RegExp(`kill -9 ${pid}`));
      process.kill(pid, 'SIGTERM');
      await waitFor(() => !isAlive(pid), 5_000, 'the second signal to end the daemon');
      assert.match(daemonLog(h), /second signal during the shutdown: exiting now.*"signal":"SIGTERM","step":"closing the socket/);
      await check.exited;
      const fresh = h.keelJson<{ daemon: { pid: number } }>(['status']).daemon.pid;
      assert.notEqual(fresh, pid);
      assert.equal(h.integrity(), 'ok');
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('a suspended daemon: commands time out naming its pid and the next step; stop says it is stopped; SIGCONT lets it finish', async () => {
    const h = home({ KEEL_CONNECT_TIMEOUT_MS: '1500', KEEL_STOP_TIMEOUT_MS: '3000' });
    const pid = h.keelJson<{ daemon: { pid: number } }>(['daemon', 'start']).daemon.pid;
    process.kill(pid, 'SIGSTOP');
    const started = Date.now();
    const status = startNode([keelBin, 'status'], h.env);
    assert.equal(await exitWithin(status, 20_000, 'keel status'), 1);
    assert.ok(Date.now() - started < 10_000, `gave up after ${Date.now() - started} ms`);
    assert.match(status.stderr(), new RegExp(`The Keel daemon \\(pid ${pid}\\) is not answering on .*daemon\\.sock: no reply within 1\\.5 s`));
    assert.match(status.stderr(), new RegExp(`\`keel daemon stop\`; if it is still there, \`kill -9 ${pid}\``));
    const stop = startNode([keelBin, 'daemon', 'stop'], h.env);
    assert.equal(await exitWithin(stop, 30_000, 'keel daemon stop'), 1);
    assert.match(stop.stderr(), new RegExp(`pid ${pid}\\) is still running — it did not answer on its socket, so it was sent SIGTERM`));
    assert.match(stop.stderr(), new RegExp(`stopped \\(SIGSTOP or Ctrl-Z\\): \`kill -CONT ${pid}\``));
    assert.ok(isAlive(pid));
    // Continued, it takes the SIGTERM that waited for it, and stops cleanly.
    process.kill(pid, 'SIGCONT');
    await waitFor(() => !isAlive(pid), 10_000, 'the continued daemon to stop');
    assert.match(daemonLog(h), /"msg":"shutting down","reason":"SIGTERM"/);
    await sleep(50);
    const fresh = h.keelJson<{ daemon: { pid: number } }>(['status']).daemon.pid;
    assert.notEqual(fresh, pid);
  });
});

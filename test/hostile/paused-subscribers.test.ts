/**
 * Clients that stop reading, against a real daemon and a real chatty job: suspended
 * (SIGSTOP) `keel logs -f` processes must not grow the daemon's memory or slow its answers,
 * and after SIGCONT each prints the job's whole log byte for byte. A suspended subscriber gets
 * one `notify/resync` naming what was dropped, state notifications coalesced, and — stalled
 * too long — is cut off with a clear close code. `keel logs` without -f prints a log of many
 * MiB whole.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KeelClient } from '../../daemon/src/client/client.ts';
import { CLOSE_SLOW_CLIENT } from '../../daemon/src/protocol/index.ts';
import { keelBin, repoRoot, TestHome, waitFor } from '../support/keel-home.ts';
import { localJobLog, rssMiB, writeChattyProject } from '../support/chatty-project.ts';
import { endAllStarted, sleep, startNode as start, type Proc } from '../support/processes.ts';

const recorderPath = join(repoRoot, 'test', 'support', 'notification-recorder.ts');
const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
const events = (p: Proc): Record<string, unknown>[] => p.stdout().toString('utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

/** The daemon's memory may grow at most this much over its baseline while clients are suspended (old main: 150+ MiB). */
const RSS_BOUND_MIB = 64;
const PAUSE_MS = 14_000;

describe('clients that stop reading', () => {
  const h = new TestHome('keel-bp-', { KEEL_POLL_MS: '300' });
  const root = join(h.dir, 'chatty');
  let runId = '';

  before(() => {
    mkdirSync(root);
    writeChattyProject(root, { flood: { rate: 25_000, seconds: 20 } });
    h.keelJson(['init', root]);
  });
  after(() => {
    endAllStarted();
    assert.equal(h.integrity(), 'ok');
    h.cleanup();
  });

  it('suspended `keel logs -f` clients neither grow the daemon nor slow it, and each then prints the whole log', async (t) => {
    runId = h.keelJson<{ run: { id: string } }>(['launch', 'configs/flood.json', '--local'], { cwd: root }).run.id;
    const daemonPid = h.daemonPid();
    assert.ok(daemonPid);
    const jobLog = localJobLog(h.home, runId);
    await waitFor(() => existsSync(jobLog) && statSync(jobLog).size > 100_000, 30_000, 'the job to print');
    const followers = Array.from({ length: 4 }, () => start([keelBin, 'logs', runId, '-f'], h.env));
    const recorder = start([recorderPath, h.socket, runId, 'logs,projects'], h.env);
    await waitFor(() => events(recorder).some((e) => e.subscribed), 10_000, 'the recorder to subscribe');
    await waitFor(() => followers.every((f) => f.stdout().length > 0), 15_000, 'every follower to print');
    const status = await KeelClient.connect({ socketPath: h.socket, client: { name: 'probe', version: '0' } });
    await sleep(1_000);
    const baseline = rssMiB(daemonPid);
    const logAtPause = statSync(jobLog).size;
    for (const p of [...followers, recorder]) p.child.kill('SIGSTOP');
    const latencies: number[] = [];
    let peak = baseline;
    const pauseEnds = Date.now() + PAUSE_MS;
    let registered = false;
    while (Date.now() < pauseEnds) {
      const t = performance.now();
      await status.call('daemon/status', {});
      latencies.push(performance.now() - t);
      peak = Math.max(peak, rssMiB(daemonPid));
      if (!registered && Date.now() > pauseEnds - PAUSE_MS / 2) {
        // Over budget by now: 20 changes of one project must reach the recorder as one notification.
        registered = true;
        for (let i = 0; i < 20; i++) await status.call('projects/register', { root });
      }
      await sleep(40);
    }
    const grewDuringPause = statSync(jobLog).size - logAtPause;
    t.diagnostic(`daemon RSS ${baseline.toFixed(0)} → peak ${peak.toFixed(0)} MiB; daemon/status p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms over ${latencies.length}; job printed ${(grewDuringPause / 1048576).toFixed(1)} MiB while suspended`);
    for (const p of [...followers, recorder]) p.child.kill('SIGCONT');
    const codes = await Promise.all(followers.map((f) => f.exited));
    status.close();
    const whole = readFileSync(jobLog);
    assert.ok(grewDuringPause > 10 * 1024 * 1024, `the job printed ${grewDuringPause} bytes while the clients were suspended (the test needs real pressure)`);
    assert.deepEqual(codes, [0, 0, 0, 0], followers.map((f) => f.stderr()).join('\n'));
    for (const [i, f] of followers.entries()) {
      assert.ok(f.stdout().equals(whole), `follower ${i} printed ${f.stdout().length} bytes of the job's ${whole.length}, not the same bytes`);
    }
    assert.ok(peak - baseline < RSS_BOUND_MIB, `daemon RSS grew ${(peak - baseline).toFixed(0)} MiB (baseline ${baseline.toFixed(0)} MiB) with 5 suspended clients; bound ${RSS_BOUND_MIB} MiB`);
    const p99 = percentile(latencies, 0.99);
    assert.ok(latencies.length > 100, `${latencies.length} samples`);
    assert.ok(p99 < 100, `daemon/status p99 ${p99.toFixed(1)} ms over ${latencies.length} samples while clients were suspended`);
    await waitFor(() => events(recorder).some((e) => e.method === 'notify/resync'), 15_000, 'the recorder to get a resync');
    const got = events(recorder);
    const resync = got.find((e) => e.method === 'notify/resync');
    assert.deepEqual(resync?.dropped, [{ topic: 'logs', runIds: [runId] }]);
    const projectNotes = got.filter((e) => e.method === 'notify/projects');
    assert.equal(projectNotes.length, 1, `20 changes of one project while over budget arrive as the latest one (got ${projectNotes.length})`);
    recorder.child.kill('SIGTERM');
  });

  it('`keel logs RUN` without -f prints the whole log, far over 1 MiB', async () => {
    await waitFor(() => h.keelJson<{ run: { status: string } }>(['run', 'show', runId]).run.status === 'succeeded', 60_000, 'the run to end');
    const cli = start([keelBin, 'logs', runId], h.env);
    assert.equal(await cli.exited, 0, cli.stderr());
    const whole = readFileSync(localJobLog(h.home, runId));
    assert.ok(whole.length > 8 * 1024 * 1024, `the log is ${whole.length} bytes`);
    assert.ok(cli.stdout().equals(whole), `printed ${cli.stdout().length} of ${whole.length} bytes`);
    assert.equal(cli.stderr(), '', 'nothing was cut, so nothing is said');
  });
});

describe('a client stalled too long', () => {
  const h = new TestHome('keel-bp-stall-', { KEEL_POLL_MS: '300', KEEL_SLOW_CLIENT_SECONDS: '2' });
  const root = join(h.dir, 'chatty');

  before(() => {
    mkdirSync(root);
    writeChattyProject(root, { flood: { rate: 25_000, seconds: 10 } });
    h.keelJson(['init', root]);
  });
  after(() => {
    endAllStarted();
    h.cleanup();
  });

  it('is cut off with a clear close code and reason, logged; the daemon goes on', async () => {
    const runId = h.keelJson<{ run: { id: string } }>(['launch', 'configs/flood.json', '--local'], { cwd: root }).run.id;
    const recorder = start([recorderPath, h.socket, runId, 'logs'], h.env);
    await waitFor(() => events(recorder).some((e) => e.subscribed), 10_000, 'the recorder to subscribe');
    recorder.child.kill('SIGSTOP');
    const log = join(h.home, 'daemon.log');
    await waitFor(() => readFileSync(log, 'utf8').includes('closing a client that does not read'), 20_000, 'the daemon to cut the client off');
    recorder.child.kill('SIGCONT');
    await recorder.exited;
    const closed = events(recorder).find((e) => 'closed' in e);
    assert.equal(closed?.closed, CLOSE_SLOW_CLIENT);
    assert.match(String(closed?.reason), /slow client: not reading: over the 4 MiB budget for 2 s/);
    const line = readFileSync(log, 'utf8').split('\n').find((l) => l.includes('closing a client that does not read')) ?? '';
    assert.match(line, /"client":"recorder"/);
    assert.equal(h.keelJson<{ daemon: { pid: number } }>(['status']).daemon.pid, h.daemonPid());
  });
});

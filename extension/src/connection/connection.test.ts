/**
 * The connection's pure parts: where the daemon lives, how it is started, how long to wait
 * between reconnects, and the notification hub that survives reconnects.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NotificationOf, ResyncNotification, Topic } from '../../../daemon/src/protocol/index.ts';
import { backoffDelay, CONNECT_ONLY_ATTEMPTS, ReconnectBackoff } from './backoff.ts';
import { daemonPaths } from './home.ts';
import { daemonLaunchers, daemonLogTail } from './launcher.ts';
import { TopicHub, type SubscribingClient } from './topics.ts';

describe('daemonPaths', () => {
  it('prefers the setting, then $KEEL_HOME, then ~/.keel', () => {
    assert.equal(daemonPaths('/srv/keel', { KEEL_HOME: '/env/keel' }, '/home/ann').home, '/srv/keel');
    assert.equal(daemonPaths('', { KEEL_HOME: '/env/keel' }, '/home/ann').home, '/env/keel');
    assert.equal(daemonPaths('   ', { KEEL_HOME: '' }, '/home/ann').home, '/home/ann/.keel');
    assert.equal(daemonPaths(undefined, {}, '/home/ann').socket, '/home/ann/.keel/daemon.sock');
  });

  it('expands ~ in the setting and names the socket, log and lock inside the home', () => {
    const p = daemonPaths('~/keel-state', {}, '/home/ann');
    assert.deepEqual(p, {
      home: '/home/ann/keel-state',
      socket: '/home/ann/keel-state/daemon.sock',
      log: '/home/ann/keel-state/daemon.log',
      lock: '/home/ann/keel-state/daemon.lock',
    });
    assert.equal(daemonPaths('~', {}, '/home/ann').home, '/home/ann');
  });
});

describe('reconnect backoff', () => {
  it('doubles from 250 ms and stops at 10 s', () => {
    const schedule = Array.from({ length: 9 }, (_, i) => backoffDelay(i, ReconnectBackoff, () => 0));
    assert.deepEqual(schedule, [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
    assert.equal(backoffDelay(1000, ReconnectBackoff, () => 0), 10_000, 'no overflow on a long outage');
    assert.equal(backoffDelay(-3, ReconnectBackoff, () => 0), 250);
  });

  it('jitters each delay down by at most 20 %', () => {
    assert.equal(backoffDelay(0, ReconnectBackoff, () => 1), 200);
    assert.equal(backoffDelay(6, ReconnectBackoff, () => 0.5), 9000);
  });

  it('only reconnects for the first attempts (~1.75 s) before starting a daemon', () => {
    const waited = Array.from({ length: CONNECT_ONLY_ATTEMPTS }, (_, i) => backoffDelay(i, ReconnectBackoff, () => 0)).reduce((a, b) => a + b, 0);
    assert.equal(waited, 1750);
  });
});

describe('daemonLaunchers', () => {
  const paths = daemonPaths('/k', {}, '/home/ann');

  it("runs dist/keel.js with VS Code's runtime as Node, then the configured Node", () => {
    const [electron, node, ...rest] = daemonLaunchers({
      execPath: '/opt/code/code', extensionPath: '/ext/keel', nodePath: ' /usr/bin/node ', env: { PATH: '/bin', ELECTRON_RUN_AS_NODE: '0' }, paths,
    });
    assert.equal(rest.length, 0);
    assert.equal(electron?.launcher.execPath, '/opt/code/code');
    assert.deepEqual(electron?.launcher.args, ['/ext/keel/dist/keel.js', 'daemon', '--background']);
    assert.equal(electron?.launcher.env?.ELECTRON_RUN_AS_NODE, '1');
    assert.equal(electron?.launcher.env?.KEEL_HOME, '/k');
    assert.equal(electron?.launcher.env?.PATH, '/bin');
    assert.equal(electron?.launcher.logPath, '/k/daemon.log');
    assert.equal(node?.launcher.execPath, '/usr/bin/node');
    assert.equal(node?.launcher.env?.ELECTRON_RUN_AS_NODE, undefined, 'a real Node must not be told it is Electron');
    assert.equal(node?.launcher.env?.KEEL_HOME, '/k');
    assert.match(node?.name ?? '', /keel\.daemon\.nodePath/);
  });

  it('has no fallback when nodePath is unset or the same runtime', () => {
    assert.equal(daemonLaunchers({ execPath: '/n', extensionPath: '/e', nodePath: '', env: {}, paths }).length, 1);
    assert.equal(daemonLaunchers({ execPath: '/n', extensionPath: '/e', nodePath: '/n', env: {}, paths }).length, 1);
  });

  it('tails daemon.log: the last lines, reading only the end of a big file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-tail-'));
    try {
      const log = join(dir, 'daemon.log');
      const lines = Array.from({ length: 5000 }, (_, i) => `{"msg":"line ${i + 1}"}`);
      writeFileSync(log, `${lines.join('\n')}\n`);
      assert.equal(daemonLogTail(log, 3), '{"msg":"line 4998"}\n{"msg":"line 4999"}\n{"msg":"line 5000"}');
      assert.equal(daemonLogTail(log, 2, 30).split('\n').length, 1, 'a line cut by the byte limit is dropped');
      assert.equal(daemonLogTail(join(dir, 'missing.log')), '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A client that records subscription calls and lets the test push notifications. */
class FakeClient implements SubscribingClient {
  readonly calls: string[] = [];
  private readonly listeners = new Map<Topic, Set<(p: never) => void>>();
  on<T extends Topic>(topic: T, listener: (params: NotificationOf[T]) => void): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }
  private readonly resyncs = new Set<(p: ResyncNotification) => void>();
  onResync(listener: (p: ResyncNotification) => void): () => void {
    this.resyncs.add(listener);
    return () => this.resyncs.delete(listener);
  }
  resync(params: ResyncNotification): void {
    for (const l of this.resyncs) l(params);
  }
  call(method: 'subscriptions/add' | 'subscriptions/remove', params: { topics: Topic[] }): Promise<unknown> {
    this.calls.push(`${method} ${params.topics.join(',')}`);
    return Promise.resolve({});
  }
  push<T extends Topic>(topic: T, params: NotificationOf[T]): void {
    for (const l of this.listeners.get(topic) ?? []) (l as (p: NotificationOf[T]) => void)(params);
  }
}

describe('TopicHub', () => {
  const runsEvent = (runId: string): NotificationOf['runs'] => ({ runId, status: 'running', unreachableSince: null, statusReason: null });

  it('subscribes the topics that have listeners on connect, and again after a reconnect', async () => {
    const errors: string[] = [];
    const hub = new TopicHub((m) => errors.push(m));
    const seen: string[] = [];
    hub.add('runs', (p) => seen.push(p.runId));
    hub.add('alerts', (p) => seen.push(p.message));
    const first = new FakeClient();
    await hub.attach(first);
    assert.deepEqual(first.calls, ['subscriptions/add runs,alerts']);
    first.push('runs', runsEvent('run_a'));
    hub.detach();
    first.push('runs', runsEvent('run_lost'));
    const second = new FakeClient();
    await hub.attach(second);
    assert.deepEqual(second.calls, ['subscriptions/add runs,alerts']);
    second.push('runs', runsEvent('run_b'));
    second.push('alerts', { id: 1, kind: 'loss_nan', severity: 'error', runId: 'run_b', message: 'loss became NaN at step 40' });
    assert.deepEqual(seen, ['run_a', 'run_b', 'loss became NaN at step 40']);
    assert.deepEqual(errors, []);
  });

  it('subscribes a topic on its first listener and unsubscribes after its last', async () => {
    const hub = new TopicHub(() => undefined);
    const client = new FakeClient();
    await hub.attach(client);
    assert.deepEqual(client.calls, [], 'nothing to subscribe yet');
    const a = hub.add('metrics', () => undefined);
    const b = hub.add('metrics', () => undefined);
    a();
    a();
    b();
    assert.deepEqual(client.calls, ['subscriptions/add metrics', 'subscriptions/remove metrics']);
    assert.deepEqual(hub.activeTopics(), []);
  });

  it('delivers resyncs to their listeners on the current connection only', async () => {
    const hub = new TopicHub(() => undefined);
    const got: ResyncNotification[] = [];
    const off = hub.addResync((p) => got.push(p));
    const first = new FakeClient();
    await hub.attach(first);
    const dropped: ResyncNotification = { dropped: [{ topic: 'logs', runIds: ['run_a'] }] };
    first.resync(dropped);
    const second = new FakeClient();
    await hub.attach(second);
    first.resync({ dropped: [{ topic: 'metrics', runIds: ['run_old'] }] });
    second.resync(dropped);
    off();
    second.resync(dropped);
    assert.deepEqual(got, [dropped, dropped]);
  });

  it('keeps delivering to other listeners when one throws, and reports it', async () => {
    const errors: string[] = [];
    const hub = new TopicHub((m) => errors.push(m));
    const got: string[] = [];
    hub.add('runs', () => { throw new Error('boom'); });
    hub.add('runs', (p) => got.push(p.runId));
    const client = new FakeClient();
    await hub.attach(client);
    client.push('runs', runsEvent('run_c'));
    assert.deepEqual(got, ['run_c']);
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /a runs listener failed: Error: boom/);
  });
});

/**
 * The extension's daemon connection under plain Node (VS Code's few APIs faked), against a
 * real daemon in a temp KEEL_HOME: it starts the daemon on first need, re-subscribes its
 * notification topics after the daemon restarts, restarts it on request, stops a daemon
 * that speaks another protocol version, and explains a daemon that cannot start.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as vscode from 'vscode';
import { KeelClient } from '../daemon/src/client/client.ts';
import { DaemonStartError, startDaemon } from '../daemon/src/client/ensure.ts';
import { RpcError, type NotificationOf } from '../daemon/src/protocol/index.ts';
import { keelPaths } from '../daemon/src/home/paths.ts';
import { FakeLog, settings, shown, useFakeVscode } from './support/fake-vscode.ts';
import { repoRoot, TestHome, waitFor } from './support/keel-home.ts';
import { WebSocketServer } from 'ws';

useFakeVscode();
const { DaemonConnection } = await import('../extension/src/connection/daemon-connection.ts');
const { daemonPaths } = await import('../extension/src/connection/home.ts');
const { stopDaemon } = await import('../extension/src/connection/restart.ts');

function fakeContext(extensionPath: string): vscode.ExtensionContext {
  return { extensionPath, extension: { packageJSON: { version: '0.1.0-test' } } } as unknown as vscode.ExtensionContext;
}

describe('extension daemon connection', () => {
  const h = new TestHome('keel-ext-conn-');
  const log = new FakeLog();
  const conn = new DaemonConnection(fakeContext(repoRoot), log as unknown as vscode.LogOutputChannel);
  const projectEvents: NotificationOf['projects'][] = [];
  const connects: number[] = [];
  const disconnects: string[] = [];

  before(() => {
    settings.set('keel.daemon.home', h.home);
    conn.onNotification('projects', (p) => projectEvents.push(p));
    conn.onDidConnect((c) => connects.push(c.initializeResult?.daemon.pid ?? -1));
    conn.onDidDisconnect((reason) => disconnects.push(reason));
  });
  after(() => {
    conn.dispose();
    conn.dispose();
    settings.clear();
    h.cleanup();
  });

  const initProject = async (name: string): Promise<string> => {
    const root = join(h.dir, name);
    mkdirSync(root, { recursive: true });
    const client = await conn.client();
    return (await client.call('projects/init', { root })).project.id;
  };

  it('finds the daemon where the daemon itself looks', () => {
    const env = { KEEL_HOME: join(h.dir, 'elsewhere') };
    assert.equal(daemonPaths(undefined, env).socket, keelPaths(env).socket);
    assert.equal(daemonPaths('', {}).home, keelPaths({}).home);
    assert.equal(daemonPaths(h.home, env).socket, h.socket);
  });

  it('starts the daemon on first need and delivers the topics it listens to', async () => {
    assert.equal(conn.state.kind, 'idle');
    assert.equal(conn.connected, null);
    const [a, b] = await Promise.all([conn.client(), conn.client()]);
    assert.equal(a, b, 'concurrent callers share one connection');
    assert.equal(conn.state.kind, 'connected');
    assert.equal(connects.length, 1);
    assert.ok(log.lines.some((l) => l.startsWith('info started the daemon with VS Code\'s runtime')), log.lines.join('\n'));
    // Warming up while connected (the Runs view shown again) must not open a second connection.
    conn.warmUp();
    conn.warmUp();
    assert.equal(await conn.client(), a);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(connects.length, 1);
    const status = await a.call('daemon/status', {});
    assert.equal(status.home, h.home);
    assert.equal(status.clients, 1);
    const id = await initProject('p1');
    await waitFor(() => projectEvents.some((e) => e.projectId === id && e.change === 'registered'), 5000, 'the projects notification');
  });

  it('reconnects after the daemon stops, starting a new one, and re-subscribes', async () => {
    const firstPid = connects[0];
    assert.equal(h.keel(['daemon', 'stop']).code, 0);
    await waitFor(() => disconnects.length === 1, 5000, 'the disconnect');
    assert.equal(conn.state.kind, 'disconnected');
    await waitFor(() => connects.length === 2, 20_000, 'the reconnect');
    assert.notEqual(connects[1], firstPid, 'a new daemon');
    assert.ok(log.lines.some((l) => /reconnecting in \d+ ms \(attempt 1\)/.test(l)));
    const id = await initProject('p2');
    await waitFor(() => projectEvents.some((e) => e.projectId === id), 5000, 'a notification after the reconnect');
  });

  it('restarts the daemon on request', async () => {
    const before = connects.length;
    const oldPid = connects.at(-1);
    const client = await conn.restartDaemon();
    assert.notEqual(client.initializeResult?.daemon.pid, oldPid);
    assert.equal(connects.length, before + 1);
    assert.equal(conn.state.kind, 'connected');
  });

  it('stops a daemon that speaks another protocol version by speaking its version', async () => {
    // The connection would reconnect (and start a daemon) as soon as this one stops.
    conn.dispose();
    await waitFor(() => disconnects.length === 2, 5000, 'the disposed connection to close');
    await assert.rejects(
      KeelClient.connect({ socketPath: h.socket, client: { name: 't', version: '0' }, protocolVersion: 99 }),
      (e: unknown) => e instanceof RpcError && e.code === 'E_PROTOCOL_MISMATCH' && (e.data as { daemon: number }).daemon === 1,
    );
    const stopLog = new FakeLog();
    await stopDaemon({ paths: daemonPaths(h.home), client: null, identity: { name: 'keel-vscode', version: '99' }, daemonProtocol: 1, log: stopLog as unknown as vscode.LogOutputChannel });
    assert.equal(h.daemonPid(), undefined, 'the lock is gone');
    assert.deepEqual(stopLog.lines, ['info the daemon stopped']);
  });
});

describe('extension daemon connection when the daemon cannot start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-ext-nostart-'));
  const log = new FakeLog();
  // An extension folder without dist/keel.js: every launcher fails.
  const conn = new DaemonConnection(fakeContext(join(dir, 'ext')), log as unknown as vscode.LogOutputChannel);
  before(() => {
    settings.set('keel.daemon.home', join(dir, 'home'));
    settings.set('keel.daemon.nodePath', process.execPath.replace(/node$/, 'node-missing'));
    mkdirSync(join(dir, 'home'), { recursive: true });
    shown.length = 0;
  });
  after(() => {
    conn.dispose();
    settings.clear();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects with a message that says what to do, and logs each attempt', async () => {
    await assert.rejects(conn.client(), (e: unknown) => {
      const err = e as Error & { code?: string; actions?: string[] };
      assert.equal(err.code, 'E_DAEMON_START');
      assert.match(err.message, /^Keel could not start its daemon: .*set keel\.daemon\.nodePath to a Node\.js 22 or newer\.$/s);
      assert.deepEqual(err.actions, ['showOutput', 'openSettings']);
      return true;
    });
    assert.equal(log.lines.filter((l) => l.startsWith('warn could not start the daemon with')).length, 2, log.lines.join('\n'));
    assert.ok(log.lines.some((l) => l.startsWith('error the Keel daemon could not be started.')));
    assert.equal(conn.state.kind, 'disconnected');
    assert.deepEqual(shown, [], 'a background failure shows nothing by itself');
  });

  it('startDaemon reports a runtime that cannot be spawned as a failed start (no uncaught error event)', async () => {
    const missing = join(dir, 'no-such-node');
    await assert.rejects(
      startDaemon({ execPath: missing, args: ['x'], logPath: join(dir, 'home', 'daemon.log'), startTimeoutMs: 5000 }, { socketPath: join(dir, 'home', 'daemon.sock'), client: { name: 't', version: '0' } }),
      (e: unknown) => e instanceof DaemonStartError && /spawn .*no-such-node ENOENT/.test(e.message),
    );
  });
});

/**
 * A stand-in for a daemon from another Keel version: it refuses `initialize` unless the
 * client speaks protocol 2, and stops (removing its socket) on `daemon/shutdown`.
 */
async function olderDaemon(socket: string): Promise<{ server: Server; shutdowns: number }> {
  const state = { server: createServer(), shutdowns: 0 };
  const wss = new WebSocketServer({ server: state.server });
  wss.on('connection', (ws) => {
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as { id: number; method: string; params: { protocolVersion?: number } };
      if (m.method === 'initialize' && m.params.protocolVersion !== 2) {
        ws.send(JSON.stringify({ id: m.id, error: { code: 'E_PROTOCOL_MISMATCH', message: 'protocol version mismatch: the client speaks 1, the daemon speaks 2.', data: { daemon: 2, client: 1 } } }));
      } else if (m.method === 'initialize') {
        ws.send(JSON.stringify({ id: m.id, result: { protocolVersion: 2, daemon: { version: '9.9.9', pid: 1 } } }));
      } else if (m.method === 'daemon/shutdown') {
        state.shutdowns++;
        ws.send(JSON.stringify({ id: m.id, result: { ok: true } }));
        setImmediate(() => {
          for (const c of wss.clients) c.terminate();
          wss.close();
          state.server.close();
        });
      }
    });
  });
  await new Promise<void>((r) => state.server.listen(socket, r));
  return state;
}

describe('extension daemon connection to a daemon of another protocol version', () => {
  const h = new TestHome('keel-ext-mismatch-');
  const log = new FakeLog();
  const conn = new DaemonConnection(fakeContext(repoRoot), log as unknown as vscode.LogOutputChannel);
  before(() => {
    settings.set('keel.daemon.home', h.home);
    mkdirSync(h.home, { recursive: true, mode: 0o700 });
    shown.length = 0;
  });
  after(() => {
    conn.dispose();
    settings.clear();
    h.cleanup();
  });

  it('offers a restart once, explains it on every call, and restarts into a daemon it can talk to', async () => {
    const old = await olderDaemon(h.socket);
    for (let i = 0; i < 2; i++) {
      await assert.rejects(conn.client(), (e: unknown) => {
        const err = e as Error & { code?: string; actions?: string[] };
        assert.equal(err.code, 'E_PROTOCOL_MISMATCH');
        assert.deepEqual(err.actions, ['restartDaemon']);
        return true;
      });
    }
    assert.deepEqual(shown, ['warning: Keel: the running daemon is from a different version of Keel. Restart it? Runs on hosts keep going.']);
    assert.deepEqual(conn.state, { kind: 'disconnected', reason: 'the daemon speaks another protocol version', retrying: false });
    const client = await conn.restartDaemon();
    assert.equal(old.shutdowns, 1, 'stopped through its own protocol version');
    assert.equal(client.initializeResult?.protocolVersion, 1);
    assert.equal((await client.call('daemon/status', {})).home, h.home);
    assert.equal(conn.state.kind, 'connected');
  });
});

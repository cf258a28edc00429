/**
 * The daemon as a real process: auto-start, one per user, clean SIGTERM, recovery after
 * kill -9, and clear errors for an unusable KEEL_HOME or a corrupt database.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestHome, keelBin, waitFor } from './support/keel-home.ts';

describe('daemon lifecycle', () => {
  const homes: TestHome[] = [];
  const home = (): TestHome => {
    const h = new TestHome();
    homes.push(h);
    return h;
  };
  after(() => homes.forEach((h) => h.cleanup()));

  it('keel status auto-starts the daemon and reports who and where it is', () => {
    const h = home();
    const out = h.keelJson<{ daemon: Record<string, unknown> }>(['status']);
    for (const key of ['pid', 'version', 'protocolVersion', 'home', 'db', 'uptimeMs']) assert.ok(key in out.daemon, `status has ${key}`);
    assert.equal(out.daemon.home, h.home);
    assert.equal(out.daemon.db, join(h.home, 'keel.db'));
    assert.equal(out.daemon.protocolVersion, 1);
    assert.equal(out.daemon.pid, h.daemonPid());
    assert.equal(statSync(h.home).mode & 0o777, 0o700, 'KEEL_HOME is private');
    assert.equal(statSync(h.socket).mode & 0o777, 0o600, 'the socket is owner-only');
    const log = readFileSync(join(h.home, 'daemon.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const ready = log.find((l) => l.msg === 'daemon ready');
    assert.ok(ready, 'daemon.log is JSON lines and records the start');
    assert.equal(ready.napi, process.versions.napi);
    // Where the start went, in ms since the process began, step by step.
    const t = ready.startMs as { node: number; loaded: number; store: number; listening: number };
    assert.ok(t.node > 0 && t.node <= t.loaded && t.loaded <= t.store && t.store <= t.listening, JSON.stringify(t));
    assert.ok(typeof ready.startCpuMs === 'number' && ready.startCpuMs > 0, String(ready.startCpuMs));
    assert.equal(h.integrity(), 'ok');
  });

  it('keel --version prints the version without a daemon', () => {
    const h = home();
    const r = h.keel(['--version', '--json']);
    assert.equal(r.code, 0);
    const v = JSON.parse(r.stdout) as { version: string; protocolVersion: number };
    assert.match(v.version, /^\d+\.\d+\.\d+/);
    assert.equal(existsSync(h.home), false, 'no daemon was started');
  });

  it('a second daemon reports the running one and exits 3; daemon start is idempotent', () => {
    const h = home();
    const first = h.keelJson<{ started: boolean; daemon: { pid: number } }>(['daemon', 'start']);
    assert.equal(first.started, true);
    const second = h.keel(['daemon']);
    assert.equal(second.code, 3);
    assert.match(second.stderr, new RegExp(`already running \\(pid ${first.daemon.pid}`));
    const again = h.keelJson<{ started: boolean; daemon: { pid: number } }>(['daemon', 'start']);
    assert.equal(again.started, false);
    assert.equal(again.daemon.pid, first.daemon.pid);
  });

  it('SIGTERM shuts down cleanly: socket and lock removed, database intact', async () => {
    const h = home();
    const d = h.spawnDaemon();
    await waitFor(() => existsSync(h.socket), 10_000, 'the socket');
    // A project beside KEEL_HOME, not around it: a folder holding Keel's home is refused as a root.
    const projectDir = join(h.dir, 'proj');
    mkdirSync(projectDir);
    h.keelJson(['init', projectDir], {});
    process.kill(d.pid, 'SIGTERM');
    assert.equal(await d.exited, 0);
    assert.equal(existsSync(h.socket), false);
    assert.equal(existsSync(join(h.home, 'daemon.lock')), false);
    assert.equal(h.integrity(), 'ok');
    assert.equal(existsSync(join(h.home, 'keel.db-wal')) ? statSync(join(h.home, 'keel.db-wal')).size : 0, 0, 'WAL checkpointed');
  });

  it('after kill -9 the next command detects the stale lock and socket and keeps the data', async () => {
    const h = home();
    const projectDir = join(h.dir, 'proj one');
    mkdirSync(projectDir);
    h.keelJson(['init', projectDir]);
    const pid = h.daemonPid();
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => { try { process.kill(pid, 0); return false; } catch { return true; } }, 5000, 'the daemon to die');
    assert.ok(existsSync(h.socket) && existsSync(join(h.home, 'daemon.lock')), 'kill -9 leaves both behind');
    const status = h.keelJson<{ daemon: { pid: number } }>(['status']);
    assert.notEqual(status.daemon.pid, pid);
    const { projects } = h.keelJson<{ projects: { root: string }[] }>(['projects']);
    assert.deepEqual(projects.map((p) => p.root), [projectDir]);
    assert.equal(h.integrity(), 'ok');
    const log = readFileSync(join(h.home, 'daemon.log'), 'utf8');
    assert.match(log, /taking over a stale daemon lock/);
    assert.match(log, /removing a stale socket/);
  });

  it('a corrupt keel.db is reported clearly and never replaced', () => {
    const h = home();
    mkdirSync(h.home, { recursive: true, mode: 0o700 });
    const garbage = Buffer.from('this is not a database\n'.repeat(200));
    writeFileSync(h.db, garbage);
    const r = h.keel(['daemon']);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /damaged or is not a Keel database/);
    assert.match(r.stderr, /left it untouched/);
    assert.deepEqual(readFileSync(h.db), garbage, 'the file is unchanged');
    const viaStatus = h.keel(['status']);
    assert.equal(viaStatus.code, 1);
    assert.match(viaStatus.stderr, /exited with code 4/);
  });

  it('an unusable KEEL_HOME gets a clear error naming it', () => {
    const h = home();
    const file = join(h.dir, 'a-file');
    writeFileSync(file, 'x');
    const r = h.keel(['daemon'], { env: { ...process.env, KEEL_HOME: join(file, 'home') } });
    assert.equal(r.code, 4);
    assert.match(r.stderr, /cannot create KEEL_HOME .*a-file\/home/);
    const proc = h.keel(['daemon'], { env: { ...process.env, KEEL_HOME: '/proc/keel-home' } });
    assert.equal(proc.code, 4, proc.stderr);
    assert.match(proc.stderr, /cannot create KEEL_HOME \/proc\/keel-home/);
  });

  it('a read-only KEEL_HOME is refused with a next step, and nothing is written', () => {
    const h = home();
    const ro = join(h.dir, 'ro-home');
    mkdirSync(ro, { mode: 0o500 });
    // root ignores permission bits, so run the CLI as `nobody` when the tests run as root.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(ro, 65534, 65534);
    if (asRoot) chmodSync(h.dir, 0o755);
    const r = spawnSync(process.execPath, [keelBin, 'daemon'], {
      env: { ...process.env, KEEL_HOME: ro, HOME: ro }, encoding: 'utf8', timeout: 30_000,
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /KEEL_HOME .*ro-home is not writable\. Fix its permissions or set KEEL_HOME/);
    assert.deepEqual(readdirSync(ro), []);
  });

  it('a KEEL_HOME too long for a Unix socket is refused with the reason', () => {
    const h = home();
    const r = h.keel(['daemon'], { env: { ...process.env, KEEL_HOME: join(h.dir, 'x'.repeat(120)) } });
    assert.equal(r.code, 4);
    assert.match(r.stderr, /too long for a Unix socket/);
  });
});

/**
 * Test support: a private KEEL_HOME in a temp dir, the built `keel` CLI run as a real
 * process, and raw WebSocket clients for protocol tests.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { REAL_FIXTURES } from './fixtures.ts';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const keelBin = join(repoRoot, 'bin', 'keel.js');
export const fixturesRoot = REAL_FIXTURES;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class TestHome {
  readonly dir: string;
  readonly home: string;

  /** Extra environment for the CLI and the daemon it starts (poll intervals, ssh config…). */
  readonly extraEnv: NodeJS.ProcessEnv;

  constructor(prefix = 'keel-test-', extraEnv: NodeJS.ProcessEnv = {}) {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    this.home = join(this.dir, 'home');
    this.extraEnv = extraEnv;
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, ...this.extraEnv, KEEL_HOME: this.home };
  }

  get socket(): string {
    return join(this.home, 'daemon.sock');
  }

  get db(): string {
    return join(this.home, 'keel.db');
  }

  /** Runs `keel ARGS` synchronously and returns its exit code and output. */
  keel(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliResult {
    const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [keelBin, ...args], {
      cwd: opts.cwd ?? this.dir,
      env: opts.env ?? this.env,
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 60_000,
    });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** Runs `keel ARGS --json` and parses stdout. */
  keelJson<T = Record<string, unknown>>(args: string[], opts: { cwd?: string } = {}): T {
    const r = this.keel([...args, '--json'], opts);
    if (r.code !== 0) throw new Error(`keel ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  /** Starts `keel daemon` in the foreground as a child process (for signal tests). */
  spawnDaemon(): { pid: number; exited: Promise<number | null>; stderr: () => string } {
    const child = spawn(process.execPath, [keelBin, 'daemon'], { env: this.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    return { pid: child.pid ?? -1, exited, stderr: () => err };
  }

  daemonPid(): number | undefined {
    const lock = join(this.home, 'daemon.lock');
    if (!existsSync(lock)) return undefined;
    return (JSON.parse(readFileSync(lock, 'utf8')) as { pid: number }).pid;
  }

  /**
   * The daemon's log as JSON records, complete lines only: polled while the daemon writes, the
   * file may be empty (created, not yet written) or end in a line still being appended.
   */
  daemonLogLines<T = Record<string, unknown> & { msg: string }>(): T[] {
    const file = join(this.home, 'daemon.log');
    if (!existsSync(file)) return [];
    const text = readFileSync(file, 'utf8');
    return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as T);
  }

  /**
   * The last `lines` lines of the daemon's log, for a failure message: a timing failure seen
   * once in CI can only be explained from what the daemon did, and cleanup deletes the log.
   */
  daemonLogTail(lines = 60): string {
    try {
      const text = readFileSync(join(this.home, 'daemon.log'), 'utf8');
      return text.split('\n').slice(-lines - 1).join('\n');
    } catch (err) {
      return `(no daemon log: ${(err as Error).message})`;
    }
  }

  /** `PRAGMA integrity_check` on keel.db, opened read-only beside any running daemon. */
  integrity(): string {
    const db = new Database(this.db, { readonly: true, fileMustExist: true });
    try {
      return String(db.pragma('integrity_check', { simple: true }));
    } finally {
      db.close();
    }
  }

  /**
   * Stops the daemon (if any) and removes the temp dir. A daemon still alive 10 s after
   * `keel daemon stop` is a leak: it is killed and the suite fails, naming it.
   */
  cleanup(): void {
    const pid = this.daemonPid();
    if (existsSync(this.socket)) this.keel(['daemon', 'stop']);
    let leaked = false;
    if (pid && isAlive(pid)) {
      const deadline = Date.now() + 10_000;
      while (isAlive(pid) && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      if (isAlive(pid)) {
        leaked = true;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    if (leaked) throw new Error(`leaked daemon: pid ${pid} was still running 10 s after \`keel daemon stop\` (KEEL_HOME ${this.home}); killed`);
  }
}

/** True while `pid` runs (and is not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return process.platform !== 'linux';
  }
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A raw protocol client: sends any text, collects parsed replies. */
export class RawClient {
  readonly ws: WebSocket;
  private readonly messages: unknown[] = [];
  private waiters: (() => void)[] = [];
  closed: { code: number } | null = null;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (d: Buffer) => {
      this.messages.push(JSON.parse(d.toString('utf8')) as unknown);
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', (code) => {
      this.closed = { code };
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('error', () => {});
  }

  static async open(socket: string): Promise<RawClient> {
    const ws = new WebSocket(`ws+unix://${socket}:/`, { maxPayload: 64 * 1024 * 1024 });
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('error', rej);
    });
    return new RawClient(ws);
  }

  send(text: string): void {
    this.ws.send(text);
  }

  request(id: number, method: string, params: unknown): void {
    this.send(JSON.stringify({ id, method, params }));
  }

  /** Waits for the next message (or close). */
  async next(timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length === 0) {
      if (this.closed) throw new Error(`connection closed (${this.closed.code})`);
      if (Date.now() > deadline) throw new Error('no message');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
    return this.messages.shift() as Record<string, unknown>;
  }

  async initialize(protocolVersion = 1): Promise<Record<string, unknown>> {
    this.request(0, 'initialize', { protocolVersion, client: { name: 'test', version: '0' } });
    return this.next();
  }

  close(): void {
    this.ws.close();
  }
}

/**
 * Connects to the user's daemon, starting it in the background first when it is not
 * running. Used by every CLI command and by the extension (which passes VS Code's own
 * runtime as `execPath`, with ELECTRON_RUN_AS_NODE=1).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { DaemonNotRunningError, KeelClient, type ConnectOptions } from './client.ts';

/** The oldest Node the daemon runs on (better-sqlite3 13 crashes on older ones). */
export const MIN_NODE_MAJOR = 22;

export interface DaemonLauncher {
  /** The runtime that runs the daemon bundle (Node, or Electron as Node). */
  execPath: string;
  /** Arguments, e.g. [`/path/dist/keel.js`, 'daemon']. */
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** daemon.log, read to explain a failed start. */
  logPath: string;
  startTimeoutMs?: number;
}

/** Raised when a started daemon did not come up; the message carries its last log lines. */
export class DaemonStartError extends Error {
  readonly code = 'E_DAEMON_START';
  constructor(message: string) {
    super(message);
    this.name = 'DaemonStartError';
  }
}

function lastLogLines(file: string, n: number): string {
  if (!existsSync(file)) return '';
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  return lines.slice(-n).join('\n');
}

type Exit = { code: number | null; signal: NodeJS.Signals | null; stderr: string };

/** The Node major version `execPath` runs as (it may be VS Code's runtime), or null if unknown. */
function nodeMajorOf(launcher: DaemonLauncher): number | null {
  if (launcher.execPath === process.execPath) return Number(process.versions.node.split('.')[0]);
  const r = spawnSync(launcher.execPath, ['-p', 'process.versions.node'], {
    encoding: 'utf8', timeout: 5_000, env: { ...(launcher.env ?? process.env), ELECTRON_RUN_AS_NODE: '1' },
  });
  const major = Number(/^(\d+)\./.exec(r.stdout ?? '')?.[1]);
  return Number.isInteger(major) ? major : null;
}

/** Why a started daemon is gone, with its last words and, for an old runtime, the way out. */
function exitMessage(launcher: DaemonLauncher, ended: Exit): string {
  const words = ended.stderr.trim() || lastLogLines(launcher.logPath, 5);
  if (ended.signal === null && ended.code !== null) return `the daemon exited with code ${ended.code}: ${words}`;
  const how = ended.signal ? `crashed with ${ended.signal}` : 'could not be started';
  const major = nodeMajorOf(launcher);
  const hint = major !== null && major < MIN_NODE_MAJOR
    ? ` It ran on Node ${major} (${launcher.execPath}); Keel needs Node ${MIN_NODE_MAJOR} or newer (better-sqlite3 crashes on older ones): install a current Node (https://nodejs.org, or \`nvm install ${MIN_NODE_MAJOR}\`) and run keel with it.`
    : '';
  return `the daemon ${how}.${hint}${words ? ` Its last words:\n${words}` : ` ${launcher.logPath} has nothing more.`}`;
}

/** Starts the daemon detached and resolves with its pid once the socket answers. */
export async function startDaemon(launcher: DaemonLauncher, connect: ConnectOptions): Promise<KeelClient> {
  let exited: Exit | null = null;
  const child = spawn(launcher.execPath, launcher.args, {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: launcher.env ?? process.env,
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
  child.once('exit', (code, signal) => { exited = { code, signal, stderr }; });
  // A runtime that cannot be spawned (missing, not executable) is a failed start, not a crash.
  child.once('error', (err) => { exited = { code: null, signal: null, stderr: err.message }; });
  const started = Date.now();
  const deadline = started + (launcher.startTimeoutMs ?? 15_000);
  try {
    // A daemon is usually up within a couple of hundred ms: look every 2 ms then (whether the
    // socket exists, a stat; a connect only once it does), and less often after 2 s. Every
    // millisecond between the daemon's listen and our look is start time the user waits.
    for (;;) {
      const delay = Date.now() - started < 2_000 ? 2 : 100;
      try {
        if (existsSync(connect.socketPath)) return await KeelClient.connect(connect);
      } catch (err) {
        if (!(err instanceof DaemonNotRunningError)) throw err;
      }
      const ended = exited as Exit | null;
      if (ended) {
        // Exit code 3: another daemon won a start race — connect to it.
        if (ended.code === 3) return await connectToWinner(connect, ended);
        throw new DaemonStartError(exitMessage(launcher, ended));
      }
      if (Date.now() > deadline) {
        throw new DaemonStartError(`the daemon did not answer within ${launcher.startTimeoutMs ?? 15_000} ms. Last log lines:\n${lastLogLines(launcher.logPath, 10)}`);
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  } finally {
    child.stderr?.destroy();
    child.unref();
  }
}

/**
 * Another daemon holds the lock: connect to it. If it has no socket, it is on its way out
 * (or lost its socket): say so, with its pid, rather than "not running".
 */
async function connectToWinner(connect: ConnectOptions, ended: Exit): Promise<KeelClient> {
  try {
    return await KeelClient.connect(connect);
  } catch (err) {
    if (!(err instanceof DaemonNotRunningError)) throw err;
    const pid = /pid (\d+)/.exec(ended.stderr)?.[1];
    throw new DaemonStartError(
      `another Keel daemon${pid ? ` (pid ${pid})` : ''} holds the lock but does not answer on ${connect.socketPath}: it is probably still shutting down. ` +
        `Wait a moment and retry; if it stays, \`keel daemon stop\`, then \`kill -9 ${pid ?? 'PID'}\`.`,
    );
  }
}

/** Connects to the running daemon, or starts one and connects. */
export async function ensureDaemon(launcher: DaemonLauncher, connect: ConnectOptions): Promise<{ client: KeelClient; started: boolean }> {
  try {
    return { client: await KeelClient.connect(connect), started: false };
  } catch (err) {
    if (!(err instanceof DaemonNotRunningError)) throw err;
  }
  return { client: await startDaemon(launcher, connect), started: true };
}

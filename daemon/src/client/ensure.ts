/**
 * Connects to the user's daemon, starting it in the background first when it is not
 * running. Used by every CLI command and by the extension (which passes VS Code's own
 * runtime as `execPath`, with ELECTRON_RUN_AS_NODE=1).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { DaemonNotRunningError, KeelClient, type ConnectOptions } from './client.ts';

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

/** Starts the daemon detached and resolves with its pid once the socket answers. */
export async function startDaemon(launcher: DaemonLauncher, connect: ConnectOptions): Promise<KeelClient> {
  let exited: { code: number | null; stderr: string } | null = null;
  const child = spawn(launcher.execPath, launcher.args, {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: launcher.env ?? process.env,
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
  child.once('exit', (code) => { exited = { code, stderr }; });
  // A runtime that cannot be spawned (missing, not executable) is a failed start, not a crash.
  child.once('error', (err) => { exited = { code: null, stderr: err.message }; });
  const deadline = Date.now() + (launcher.startTimeoutMs ?? 15_000);
  try {
    for (let delay = 20; ; delay = Math.min(delay * 2, 200)) {
      try {
        return await KeelClient.connect(connect);
      } catch (err) {
        if (!(err instanceof DaemonNotRunningError)) throw err;
      }
      const ended = exited as { code: number | null; stderr: string } | null;
      if (ended) {
        // Exit code 3: another daemon won a start race — connect to it.
        if (ended.code === 3) return await KeelClient.connect(connect);
        throw new DaemonStartError(`the daemon exited with code ${ended.code}: ${ended.stderr.trim() || lastLogLines(launcher.logPath, 5)}`);
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

/** Connects to the running daemon, or starts one and connects. */
export async function ensureDaemon(launcher: DaemonLauncher, connect: ConnectOptions): Promise<{ client: KeelClient; started: boolean }> {
  try {
    return { client: await KeelClient.connect(connect), started: false };
  } catch (err) {
    if (!(err instanceof DaemonNotRunningError)) throw err;
  }
  return { client: await startDaemon(launcher, connect), started: true };
}

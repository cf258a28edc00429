/**
 * Stopping the daemon for a restart. The polite way is `daemon/shutdown`; a daemon that
 * speaks another protocol version refuses our `initialize`, so we speak its version for
 * that one call (`daemon/shutdown {}` has not changed shape); failing that, SIGTERM to the
 * pid in daemon.lock, which the daemon handles like a shutdown request.
 */
import { existsSync, readFileSync } from 'node:fs';
import type * as vscode from 'vscode';
import { KeelClient, type ConnectOptions } from '../../../daemon/src/client/client.ts';
import type { DaemonPaths } from './home.ts';

export interface StopDaemonInput {
  paths: DaemonPaths;
  /** The current connection, if any. */
  client: KeelClient | null;
  identity: ConnectOptions['client'];
  /** The protocol version the running daemon announced in a mismatch error, if known. */
  daemonProtocol: number | null;
  log: vscode.LogOutputChannel;
}

const STOP_TIMEOUT_MS = 15_000;

async function shutdownVia(client: KeelClient): Promise<void> {
  const closed = new Promise<void>((resolve) => client.onClose(() => resolve()));
  await client.call('daemon/shutdown', {}, { timeoutMs: 5_000 });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((r) => { timer = setTimeout(r, STOP_TIMEOUT_MS); })]);
  clearTimeout(timer);
}

function lockPid(lockPath: string): number | undefined {
  try {
    const info = JSON.parse(readFileSync(lockPath, 'utf8')) as { pid?: unknown };
    return typeof info.pid === 'number' && info.pid > 0 ? info.pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Gone: no live process holds daemon.lock (the daemon releases it last, after closing the
 * socket; a stale lock or socket left by a crash is taken over at the next start).
 */
async function waitGone(paths: DaemonPaths): Promise<boolean> {
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (alive(lockPid(paths.lock))) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** Stops the daemon at `paths` and waits until its socket and lock are gone. */
export async function stopDaemon(input: StopDaemonInput): Promise<void> {
  const { paths, log } = input;
  try {
    if (input.client) {
      await shutdownVia(input.client);
    } else if (existsSync(paths.socket)) {
      const client = await KeelClient.connect({
        socketPath: paths.socket,
        client: input.identity,
        ...(input.daemonProtocol !== null ? { protocolVersion: input.daemonProtocol } : {}),
      });
      await shutdownVia(client);
    }
  } catch (err) {
    log.warn(`daemon/shutdown did not work (${(err as Error).message}); sending SIGTERM`);
    const pid = lockPid(paths.lock);
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch (killErr) {
        log.warn(`SIGTERM to daemon pid ${pid} failed: ${(killErr as Error).message}`);
      }
    }
  }
  if (!(await waitGone(paths))) {
    const pid = lockPid(paths.lock);
    throw new Error(
      `the daemon${pid ? ` (pid ${pid})` : ''} did not stop within ${STOP_TIMEOUT_MS / 1000} s (${paths.lock} is still there). ` +
        `Its log says what it waits for (${paths.log}); end it with \`kill -9 ${pid ?? 'PID'}\`, then restart.`,
    );
  }
  log.info('the daemon stopped');
}

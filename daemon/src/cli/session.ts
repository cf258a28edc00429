/** How a CLI command reaches the daemon: connect, or start it in the background first. */
import { keelPaths } from '../home/paths.ts';
import { ensureDaemon } from '../client/ensure.ts';
import { DEFAULT_CONNECT_TIMEOUT_MS, KeelClient, type ConnectOptions } from '../client/client.ts';
import { KEEL_VERSION } from '../version.ts';

export const cliIdentity = { name: 'keel-cli', version: KEEL_VERSION };

/** The command line that runs this same CLI as a daemon (works from the bundle and from sources). */
export function daemonLauncher(): { execPath: string; args: string[]; logPath: string } {
  const script = process.argv[1] ?? '';
  return { execPath: process.execPath, args: [...process.execArgv, script, 'daemon', '--background'], logPath: keelPaths().log };
}

/** How long to wait for the daemon to answer a connect: KEEL_CONNECT_TIMEOUT_MS, else 10 s. */
export function connectTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.KEEL_CONNECT_TIMEOUT_MS);
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_CONNECT_TIMEOUT_MS;
}

/** Where and how the CLI connects. */
export function connectOptions(): ConnectOptions {
  const paths = keelPaths();
  return { socketPath: paths.socket, client: cliIdentity, connectTimeoutMs: connectTimeoutMs(), lockPath: paths.lock };
}

export async function withDaemon<T>(fn: (client: KeelClient) => Promise<T>): Promise<T> {
  const { client } = await ensureDaemon(daemonLauncher(), connectOptions());
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** Connects only if the daemon already runs (for `daemon stop`). */
export async function connectIfRunning(): Promise<KeelClient | null> {
  try {
    return await KeelClient.connect(connectOptions());
  } catch (err) {
    if ((err as { code?: string }).code === 'E_DAEMON_NOT_RUNNING') return null;
    throw err;
  }
}

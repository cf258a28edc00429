/** How a CLI command reaches the daemon: connect, or start it in the background first. */
import { keelPaths } from '../home/paths.ts';
import { ensureDaemon } from '../client/ensure.ts';
import { KeelClient } from '../client/client.ts';
import { KEEL_VERSION } from '../version.ts';

export const cliIdentity = { name: 'keel-cli', version: KEEL_VERSION };

/** The command line that runs this same CLI as a daemon (works from the bundle and from sources). */
export function daemonLauncher(): { execPath: string; args: string[]; logPath: string } {
  const script = process.argv[1] ?? '';
  return { execPath: process.execPath, args: [...process.execArgv, script, 'daemon', '--background'], logPath: keelPaths().log };
}

export async function withDaemon<T>(fn: (client: KeelClient) => Promise<T>): Promise<T> {
  const paths = keelPaths();
  const { client } = await ensureDaemon(daemonLauncher(), { socketPath: paths.socket, client: cliIdentity });
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** Connects only if the daemon already runs (for `daemon stop`). */
export async function connectIfRunning(): Promise<KeelClient | null> {
  try {
    return await KeelClient.connect({ socketPath: keelPaths().socket, client: cliIdentity });
  } catch (err) {
    if ((err as { code?: string }).code === 'E_DAEMON_NOT_RUNNING') return null;
    throw err;
  }
}

/**
 * Where the daemon lives: the same rule as daemon/src/home/paths.ts (which the extension may
 * not import), with the `keel.daemon.home` setting first. Kept in step with that file: it is
 * three lines, and a test pins the shared cases.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface DaemonPaths {
  home: string;
  socket: string;
  log: string;
  lock: string;
}

/** `~` and `~/x` in a setting mean the user's home folder, as in a shell. */
function expandTilde(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? join(home, p.slice(2)) : p;
}

/** `keel.daemon.home` if set, else `$KEEL_HOME`, else `~/.keel`. */
export function daemonPaths(setting: string | undefined, env: NodeJS.ProcessEnv = process.env, userHome: string = homedir()): DaemonPaths {
  const fromSetting = setting?.trim() ? expandTilde(setting.trim(), userHome) : undefined;
  const home = resolve(fromSetting ?? (env.KEEL_HOME && env.KEEL_HOME.length > 0 ? env.KEEL_HOME : join(userHome, '.keel')));
  return { home, socket: join(home, 'daemon.sock'), log: join(home, 'daemon.log'), lock: join(home, 'daemon.lock') };
}

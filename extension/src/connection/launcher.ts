/**
 * How the extension starts the daemon: with VS Code's own runtime (Electron run as Node,
 * so no system Node is needed), and, when that fails, with the Node the user configured in
 * `keel.daemon.nodePath`. Pure, so the command lines are tested without VS Code.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DaemonLauncher } from '../../../daemon/src/client/ensure.ts';
import type { DaemonPaths } from './home.ts';

export interface LauncherInputs {
  /** `process.execPath` of the extension host: Electron in desktop VS Code, Node in code-server. */
  execPath: string;
  /** The extension's folder; the daemon bundle is `dist/keel.js` inside it. */
  extensionPath: string;
  /** `keel.daemon.nodePath`, when set. */
  nodePath: string | undefined;
  env: NodeJS.ProcessEnv;
  paths: DaemonPaths;
}

/** A way to start the daemon, named for the log and error messages. */
export interface NamedLauncher {
  name: string;
  launcher: DaemonLauncher;
}

/** The launchers to try, in order. */
export function daemonLaunchers(input: LauncherInputs): NamedLauncher[] {
  const script = join(input.extensionPath, 'dist', 'keel.js');
  const args = [script, 'daemon', '--background'];
  const base: NodeJS.ProcessEnv = { ...input.env, KEEL_HOME: input.paths.home };
  const launchers: NamedLauncher[] = [{
    name: `VS Code's runtime (${input.execPath})`,
    launcher: { execPath: input.execPath, args, env: { ...base, ELECTRON_RUN_AS_NODE: '1' }, logPath: input.paths.log },
  }];
  const nodePath = input.nodePath?.trim();
  if (nodePath && nodePath !== input.execPath) {
    const { ELECTRON_RUN_AS_NODE: _drop, ...env } = base;
    launchers.push({ name: `keel.daemon.nodePath (${nodePath})`, launcher: { execPath: nodePath, args, env, logPath: input.paths.log } });
  }
  return launchers;
}

/** The last `n` lines of daemon.log ('' when there is none), to explain a failed start. Reads only the file's tail. */
export function daemonLogTail(logPath: string, n = 20, maxBytes = 64 * 1024): string {
  try {
    const size = statSync(logPath).size;
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    const fd = openSync(logPath, 'r');
    try {
      readSync(fd, buf, 0, len, size - len);
    } finally {
      closeSync(fd);
    }
    const lines = buf.toString('utf8').trimEnd().split('\n');
    // A partial first line (cut by maxBytes) is dropped unless it is all there is.
    if (len < size && lines.length > 1) lines.shift();
    return lines.slice(-n).join('\n');
  } catch {
    return '';
  }
}

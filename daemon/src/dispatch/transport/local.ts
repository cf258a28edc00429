/**
 * The local host: the same job-directory protocol on this machine, no SSH. Files are
 * copied with Node (local-copy.ts), so the local backend needs no rsync; rsync's delta
 * transfer buys nothing on one disk, and copyFile clones where the file system can.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { homedir } from 'node:os';
import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ExecOptions, ExecResult, HostConnection, SyncResult } from './connection.ts';
import { HostTimeoutError } from './connection.ts';
import { runProcess } from './run-process.ts';
import { copyInto } from './local-copy.ts';
import { compileGlob } from '../../track/watch/glob.ts';
import { umaskText, userUmask } from '../../home/paths.ts';

/**
 * Every command runs under umask 077 (a small `sh` in front, the argv passed through as
 * "$@", never as shell text): what the job scripts create — job folders, logs, GPU lock
 * files, outputs — is private to the user, whatever the daemon's own umask is.
 */
const PRIVATE_EXEC = 'umask 077 && exec "$@"';

export class LocalConnection implements HostConnection {
  readonly hostName: string;
  readonly kind = 'local' as const;

  constructor(hostName = 'local') {
    this.hostName = hostName;
  }

  async exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0 || argv[0] === '') throw new Error('empty command');
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const r = await runProcess('sh', ['-c', PRIVATE_EXEC, 'keel-exec', ...argv], {
      ...(opts.input !== undefined ? { input: opts.input } : {}), ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}), timeoutMs, group: true,
    });
    // This machine always answers: a kill timer that fired means the step was too slow.
    if (r.timedOut) throw new HostTimeoutError(this.hostName, opts.what ?? `\`${argv.slice(0, 2).join(' ')}\``, timeoutMs);
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  }

  async push(localDir: string, remoteDir: string): Promise<SyncResult> {
    return { bytes: await copyInto(localDir, null, remoteDir), via: 'copy' };
  }

  async pushFiles(localRoot: string, files: readonly string[], remoteDir: string): Promise<SyncResult> {
    return { bytes: await copyInto(localRoot, files, remoteDir), via: 'copy' };
  }

  async pull(remotePath: string, localDir: string, opts: { excludes?: string[] } = {}): Promise<SyncResult> {
    const excluded = (opts.excludes ?? []).map((e) => compileGlob(e));
    const skip = (name: string): boolean => excluded.some((g) => g.match(name));
    if (remotePath.endsWith('/')) return { bytes: await copyInto(remotePath, null, localDir, skip), via: 'copy' };
    const name = basename(remotePath);
    const bytes = (await stat(remotePath)).isDirectory()
      ? await copyInto(remotePath, null, join(localDir, name), skip)
      : await copyInto(dirname(remotePath), [name], localDir);
    return { bytes, via: 'copy' };
  }

  follow(file: string, offset: number): ChildProcess {
    return spawn('tail', ['-c', `+${offset + 1}`, '-F', file], { stdio: ['ignore', 'pipe', 'ignore'] });
  }

  /** The umask the daemon was started with: the user's on this machine. */
  loginUmask(): Promise<string | null> {
    return Promise.resolve(umaskText(userUmask()));
  }

  resolvePath(path: string): Promise<string> {
    return Promise.resolve(path === '~' ? homedir() : path.startsWith('~/') ? join(homedir(), path.slice(2)) : path);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Bytes rsync actually sent ("Literal data"), from --stats output. */
export function transferred(stats: string): number {
  const m = /Literal data: ([\d,]+)/.exec(stats);
  return m ? Number((m[1] ?? '0').replace(/,/g, '')) : 0;
}

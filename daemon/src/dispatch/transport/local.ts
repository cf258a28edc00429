/** The local host: the same job-directory protocol on this machine, no SSH. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ExecOptions, ExecResult, HostConnection } from './connection.ts';
import { runProcess } from './run-process.ts';
import { ensurePrivateDir } from '../../home/paths.ts';

export class LocalConnection implements HostConnection {
  readonly hostName: string;
  readonly kind = 'local' as const;

  constructor(hostName = 'local') {
    this.hostName = hostName;
  }

  async exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const [cmd, ...args] = argv;
    if (!cmd) throw new Error('empty command');
    const r = await runProcess(cmd, args, { ...opts, timeoutMs: opts.timeoutMs ?? 120_000 });
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  }

  async push(localDir: string, remoteDir: string, opts: { timeoutMs?: number } = {}): Promise<{ bytes: number }> {
    ensurePrivateDir(remoteDir);
    const r = await runProcess('rsync', ['-a', '--stats', `${localDir}/`, `${remoteDir}/`], { timeoutMs: opts.timeoutMs ?? 3_600_000 });
    if (r.code !== 0) throw new Error(`copy to ${remoteDir} failed: ${r.stderr.trim()}`);
    return { bytes: transferred(r.stdout) };
  }

  async pushFiles(localRoot: string, files: readonly string[], remoteDir: string, opts: { timeoutMs?: number } = {}): Promise<{ bytes: number }> {
    ensurePrivateDir(remoteDir);
    const r = await runProcess('rsync', ['-a', '--stats', '--from0', '--files-from=-', `${localRoot}/`, `${remoteDir}/`], { input: files.join('\0'), timeoutMs: opts.timeoutMs ?? 3_600_000 });
    if (r.code !== 0) throw new Error(`copy to ${remoteDir} failed: ${r.stderr.trim()}`);
    return { bytes: transferred(r.stdout) };
  }

  async pull(remotePath: string, localDir: string, opts: { excludes?: string[]; timeoutMs?: number; partial?: boolean } = {}): Promise<{ bytes: number }> {
    mkdirSync(localDir, { recursive: true });
    const args = ['-a', '--stats', ...(opts.partial ? ['--partial'] : []), ...(opts.excludes ?? []).flatMap((e) => ['--exclude', e]), remotePath, `${localDir}/`];
    const r = await runProcess('rsync', args, { timeoutMs: opts.timeoutMs ?? 3_600_000 });
    if (r.code !== 0 && r.code !== 24) throw new Error(`copy from ${remotePath} failed: ${r.stderr.trim()}`);
    return { bytes: transferred(r.stdout) };
  }

  follow(file: string, offset: number): ChildProcess {
    return spawn('tail', ['-c', `+${offset + 1}`, '-F', file], { stdio: ['ignore', 'pipe', 'ignore'] });
  }

  resolvePath(path: string): Promise<string> {
    return Promise.resolve(path === '~' ? homedir() : path.startsWith('~/') ? join(homedir(), path.slice(2)) : path);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Bytes rsync actually sent ("Total bytes sent"/"Literal data"), from --stats output. */
export function transferred(stats: string): number {
  const m = /Literal data: ([\d,]+)/.exec(stats);
  return m ? Number((m[1] ?? '0').replace(/,/g, '')) : 0;
}

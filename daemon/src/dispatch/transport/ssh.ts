/**
 * A host over the system OpenSSH client, so the user's ~/.ssh/config (Include, ProxyJump,
 * agents, certificates) works unchanged. One ControlMaster per host under $KEEL_HOME/cm,
 * BatchMode, timeouts, keepalives, and the user's known_hosts (never
 * StrictHostKeyChecking=no). Every remote command is one quoted string built from argv.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { ExecOptions, ExecResult, HostConnection } from './connection.ts';
import { HostUnreachableError } from './connection.ts';
import { runProcess } from './run-process.ts';
import { transferred } from './local.ts';
import { shellCommand, shellQuote } from '../remote/quote.ts';

export interface SshOptions {
  /** `~/.ssh/config` alias, `user@host`, or `user@host:port`. */
  target: string;
  /** Folder for ControlMaster sockets (keep it short: socket paths are limited to ~104 bytes). */
  controlDir: string;
  /** An ssh config file to use instead of ~/.ssh/config (KEEL_SSH_CONFIG). */
  configFile?: string;
}

/** Splits `user@host:port` into ssh arguments; an alias passes through. */
export function targetArgs(target: string): { host: string; port: string | null } {
  const m = /^(.*?):(\d+)$/.exec(target);
  return m ? { host: m[1] as string, port: m[2] as string } : { host: target, port: null };
}

export class SshConnection implements HostConnection {
  readonly hostName: string;
  readonly kind = 'ssh' as const;
  private readonly opts: SshOptions;
  private home: string | null = null;

  constructor(hostName: string, opts: SshOptions) {
    this.hostName = hostName;
    this.opts = opts;
    if (/^-/.test(opts.target)) throw new Error(`invalid ssh target "${opts.target}"`);
  }

  /** Options shared by ssh and rsync -e. */
  private baseOptions(): string[] {
    const { port } = targetArgs(this.opts.target);
    return [
      ...(this.opts.configFile ? ['-F', this.opts.configFile] : []),
      ...(port ? ['-p', port] : []),
      '-o', 'BatchMode=yes',
      '-o', 'ConnectTimeout=15',
      '-o', 'ServerAliveInterval=15',
      '-o', 'ServerAliveCountMax=4',
      '-o', 'ControlMaster=auto',
      '-o', `ControlPath=${this.opts.controlDir}/%C`,
      '-o', 'ControlPersist=10m',
    ];
  }

  private host(): string {
    return targetArgs(this.opts.target).host;
  }

  async exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const command = opts.cwd ? `cd ${shellQuote(opts.cwd)} && ${shellCommand(argv)}` : shellCommand(argv);
    const r = await runProcess('ssh', [...this.baseOptions(), this.host(), '--', command], {
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      timeoutMs: opts.timeoutMs ?? 120_000,
    });
    // 255 is ssh's own failure (connection, auth, host key); anything else is the command's.
    if (r.code === 255 || r.timedOut) {
      throw new HostUnreachableError(this.hostName, r.timedOut ? `no answer within ${opts.timeoutMs ?? 120_000} ms` : lastLine(r.stderr));
    }
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  }

  /** The `-e` argument for rsync: a shell string, so each option is quoted. */
  private rsyncShell(): string {
    return ['ssh', ...this.baseOptions()].map(shellQuote).join(' ');
  }

  async push(localDir: string, remoteDir: string, opts: { timeoutMs?: number } = {}): Promise<{ bytes: number }> {
    await this.exec(['mkdir', '-p', remoteDir]);
    const r = await runProcess('rsync', ['-a', '-s', '--partial', '--stats', '-e', this.rsyncShell(), '--', `${localDir}/`, `${this.host()}:${rsyncPath(remoteDir)}/`], { timeoutMs: opts.timeoutMs ?? 3_600_000 });
    if (r.code === 255 || r.timedOut) throw new HostUnreachableError(this.hostName, lastLine(r.stderr));
    if (r.code !== 0) throw new Error(`rsync to ${this.hostName}:${remoteDir} failed (${r.code}): ${lastLine(r.stderr)}`);
    return { bytes: transferred(r.stdout) };
  }

  async pushFiles(localRoot: string, files: readonly string[], remoteDir: string, opts: { timeoutMs?: number } = {}): Promise<{ bytes: number }> {
    await this.exec(['mkdir', '-p', remoteDir]);
    const r = await runProcess('rsync', ['-a', '-s', '--partial', '--stats', '--from0', '--files-from=-', '-e', this.rsyncShell(), '--', `${localRoot}/`, `${this.host()}:${rsyncPath(remoteDir)}/`], {
      input: files.join('\0'), timeoutMs: opts.timeoutMs ?? 3_600_000,
    });
    if (r.code === 255 || r.timedOut) throw new HostUnreachableError(this.hostName, lastLine(r.stderr));
    if (r.code !== 0) throw new Error(`rsync to ${this.hostName}:${remoteDir} failed (${r.code}): ${lastLine(r.stderr)}`);
    return { bytes: transferred(r.stdout) };
  }

  async pull(remotePath: string, localDir: string, opts: { excludes?: string[]; timeoutMs?: number; partial?: boolean } = {}): Promise<{ bytes: number }> {
    mkdirSync(localDir, { recursive: true });
    const args = ['-a', '-s', '--stats', ...(opts.partial ? ['--partial', '--append-verify'] : []), ...(opts.excludes ?? []).flatMap((e) => ['--exclude', e]), '-e', this.rsyncShell(), '--', `${this.host()}:${rsyncPath(remotePath)}`, `${localDir}/`];
    const r = await runProcess('rsync', args, { timeoutMs: opts.timeoutMs ?? 3_600_000 });
    if (r.code === 255 || r.timedOut) throw new HostUnreachableError(this.hostName, lastLine(r.stderr));
    if (r.code !== 0 && r.code !== 24) throw new Error(`rsync from ${this.hostName}:${remotePath} failed (${r.code}): ${lastLine(r.stderr)}`);
    return { bytes: transferred(r.stdout) };
  }

  /** A long-lived, read-only tail on its own channel (no -tt, so it never owns a terminal). */
  follow(remoteFile: string, offset: number): ChildProcess {
    const command = shellCommand(['tail', '-c', `+${offset + 1}`, '-F', remoteFile]);
    return spawn('ssh', [...this.baseOptions(), this.host(), '--', command], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  async resolvePath(path: string): Promise<string> {
    if (path !== '~' && !path.startsWith('~/')) return path;
    if (!this.home) {
      const r = await this.exec(['sh', '-c', 'printf %s "$HOME"'], { timeoutMs: 30_000 });
      this.home = r.stdout.trim();
    }
    return path === '~' ? this.home : `${this.home}/${path.slice(2)}`;
  }

  /** Closes the ControlMaster (if any). */
  async close(): Promise<void> {
    await runProcess('ssh', [...this.baseOptions(), '-O', 'exit', this.host()], { timeoutMs: 10_000 }).catch(() => undefined);
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter((l) => l.trim() !== '');
  return lines.at(-1) ?? 'ssh failed';
}

/**
 * Remote paths go to rsync with `-s` (--secluded-args, formerly --protect-args), so the
 * remote shell never splits or expands them: they arrive literally, spaces and `$()` too.
 */
function rsyncPath(path: string): string {
  if (/[\n\0]/.test(path)) throw new Error('remote paths with newlines are not supported');
  return path;
}

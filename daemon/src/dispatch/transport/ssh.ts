/**
 * A host over the system OpenSSH client, so the user's ~/.ssh/config (Include, ProxyJump,
 * agents, certificates) works unchanged. One ControlMaster per host under $KEEL_HOME/cm,
 * BatchMode, timeouts, keepalives, and the user's known_hosts (never
 * StrictHostKeyChecking=no). Every remote command is one quoted string built from argv,
 * run under umask 077 so what Keel creates on the host is private to the user.
 *
 * Files move with rsync when both machines have it, else with `tar | ssh` (tar-ssh.ts); the
 * result says which, and why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { ExecOptions, ExecResult, HostConnection, SyncResult } from './connection.ts';
import { HostTimeoutError, HostUnreachableError } from './connection.ts';
import { runProcess } from './run-process.ts';
import { transferred } from './local.ts';
import { tarPull, tarPush, type SshInvocation } from './tar-ssh.ts';
import { findProgram } from './tools.ts';
import { anyShellCommand, shellQuote } from '../remote/quote.ts';

/**
 * The remote side of every command: `umask 077`, an optional `cd`, then argv — built as
 * `sh -c` with argv passed as "$@" and sent through anyShellCommand, so a csh or fish login
 * shell runs it the same as bash (no newline or `!` ever reaches the login shell).
 */
export function remoteCommand(argv: readonly string[], cwd?: string): string {
  const script = cwd === undefined ? 'umask 077 && exec "$@"' : 'umask 077 && cd -- "$1" && shift && exec "$@"';
  return anyShellCommand(['sh', '-c', script, 'keel', ...(cwd === undefined ? [] : [cwd]), ...argv]);
}

/** rsync keeps the user's bits and drops group and other, like the umask of remote commands. */
const RSYNC_PRIVATE = '--chmod=go-rwx';
const SYNC_TIMEOUT_MS = 3_600_000;

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
  /** Whether the host has rsync; asked once per connection, or told by a host check. */
  private remoteRsync: boolean | undefined;

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
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const r = await runProcess('ssh', [...this.baseOptions(), this.host(), '--', remoteCommand(argv, opts.cwd)], {
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      timeoutMs,
    });
    // 255 is ssh's own failure (connection, auth, host key); anything else is the command's.
    if (r.code === 255 && !r.timedOut) throw new HostUnreachableError(this.hostName, lastLine(r.stderr));
    if (r.timedOut) throw await this.timedOut(opts.what ?? `\`${argv.slice(0, 2).join(' ')}\``, timeoutMs);
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  }

  /**
   * The kill timer fired: a host that answers a quick command now was only slow (timed out);
   * one that does not is unreachable. Returns the error to throw.
   */
  async timedOut(what: string, timeoutMs: number): Promise<Error> {
    const alive = await runProcess('ssh', [...this.baseOptions(), this.host(), '--', 'true'], { timeoutMs: 15_000 }).catch(() => null);
    return alive !== null && alive.code === 0 && !alive.timedOut
      ? new HostTimeoutError(this.hostName, what, timeoutMs)
      : new HostUnreachableError(this.hostName, `no answer within ${timeoutMs} ms`);
  }

  /** The `-e` argument for rsync: a shell string, so each option is quoted. */
  private rsyncShell(): string {
    return ['ssh', ...this.baseOptions()].map(shellQuote).join(' ');
  }

  /** Records what a host check found, so the next copy does not ask again. */
  setRemoteRsync(has: boolean): void {
    this.remoteRsync = has;
  }

  /** rsync when both ends have it; otherwise tar, and why. */
  private async syncMethod(): Promise<{ via: 'rsync' } | { via: 'tar'; fallback: string }> {
    if (!findProgram('rsync')) return { via: 'tar', fallback: 'rsync is not installed on this machine' };
    this.remoteRsync ??= (await this.exec(['sh', '-c', 'command -v rsync >/dev/null 2>&1'], { timeoutMs: 30_000, what: 'looking for rsync' })).code === 0;
    return this.remoteRsync ? { via: 'rsync' } : { via: 'tar', fallback: `rsync is not installed on ${this.hostName}` };
  }

  private invocation(): SshInvocation {
    return {
      hostName: this.hostName,
      args: (command) => [...this.baseOptions(), this.host(), '--', anyShellCommand(['sh', '-c', command])],
      timedOut: (what, ms) => this.timedOut(what, ms),
    };
  }

  async push(localDir: string, remoteDir: string, opts: { timeoutMs?: number } = {}): Promise<SyncResult> {
    const how = await this.syncMethod();
    const timeoutMs = opts.timeoutMs ?? SYNC_TIMEOUT_MS;
    if (how.via === 'tar') return { bytes: await tarPush(this.invocation(), localDir, null, remoteDir, timeoutMs), ...how };
    await this.exec(['mkdir', '-p', remoteDir]);
    return this.rsync(['-a', '-s', '--partial', RSYNC_PRIVATE, '--stats', '-e', this.rsyncShell(), '--', `${localDir}/`, `${this.host()}:${rsyncPath(remoteDir)}/`], `to ${this.hostName}:${remoteDir}`, { timeoutMs });
  }

  async pushFiles(localRoot: string, files: readonly string[], remoteDir: string, opts: { timeoutMs?: number } = {}): Promise<SyncResult> {
    const how = await this.syncMethod();
    const timeoutMs = opts.timeoutMs ?? SYNC_TIMEOUT_MS;
    if (how.via === 'tar') return { bytes: await tarPush(this.invocation(), localRoot, files, remoteDir, timeoutMs), ...how };
    await this.exec(['mkdir', '-p', remoteDir]);
    const args = ['-a', '-s', '--partial', RSYNC_PRIVATE, '--stats', '--from0', '--files-from=-', '-e', this.rsyncShell(), '--', `${localRoot}/`, `${this.host()}:${rsyncPath(remoteDir)}/`];
    return this.rsync(args, `to ${this.hostName}:${remoteDir}`, { timeoutMs, input: files.join('\0') });
  }

  async pull(remotePath: string, localDir: string, opts: { excludes?: string[]; timeoutMs?: number; partial?: boolean } = {}): Promise<SyncResult> {
    mkdirSync(localDir, { recursive: true, mode: 0o700 });
    const how = await this.syncMethod();
    const timeoutMs = opts.timeoutMs ?? SYNC_TIMEOUT_MS;
    if (how.via === 'tar') return { bytes: await tarPull(this.invocation(), remotePath, localDir, opts.excludes ?? [], timeoutMs), ...how };
    const args = ['-a', '-s', '--stats', ...(opts.partial ? ['--partial', '--append-verify'] : []), ...(opts.excludes ?? []).flatMap((e) => ['--exclude', e]), '-e', this.rsyncShell(), '--', `${this.host()}:${rsyncPath(remotePath)}`, `${localDir}/`];
    return this.rsync(args, `from ${this.hostName}:${remotePath}`, { timeoutMs, vanishedOk: true });
  }

  private async rsync(args: string[], what: string, opts: { timeoutMs: number; input?: string; vanishedOk?: boolean }): Promise<SyncResult> {
    const r = await runProcess('rsync', args, { timeoutMs: opts.timeoutMs, ...(opts.input !== undefined ? { input: opts.input } : {}) });
    if (r.timedOut) throw await this.timedOut(`copying ${what}`, opts.timeoutMs);
    if (r.code === 255) throw new HostUnreachableError(this.hostName, lastLine(r.stderr));
    // 24: some files vanished while rsync read them (a job still writing): fine for a pull.
    if (r.code !== 0 && !(opts.vanishedOk && r.code === 24)) throw new Error(`rsync ${what} failed (${r.code}): ${lastLine(r.stderr)}`);
    return { bytes: transferred(r.stdout), via: 'rsync' };
  }

  /** A long-lived, read-only tail on its own channel (no -tt, so it never owns a terminal). */
  follow(remoteFile: string, offset: number): ChildProcess {
    const command = anyShellCommand(['tail', '-c', `+${offset + 1}`, '-F', remoteFile]);
    return spawn('ssh', [...this.baseOptions(), this.host(), '--', command], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /**
   * `umask` as the login shell runs it, without the `umask 077` Keel puts in front of its own
   * commands (every shell has the builtin; csh prints `22`, sh `0022`).
   */
  async loginUmask(): Promise<string | null> {
    const r = await runProcess('ssh', [...this.baseOptions(), this.host(), '--', 'umask'], { timeoutMs: 30_000 });
    if (r.code === 255 || r.timedOut) throw new HostUnreachableError(this.hostName, r.timedOut ? 'no answer within 30000 ms' : lastLine(r.stderr));
    const mask = r.stdout.trim().split('\n').at(-1)?.trim() ?? '';
    return r.code === 0 && /^[0-7]{1,4}$/.test(mask) ? mask.padStart(4, '0') : null;
  }

  async resolvePath(path: string): Promise<string> {
    if (path !== '~' && !path.startsWith('~/')) return path;
    if (!this.home) {
      const r = await this.exec(['sh', '-c', 'printf %s "$HOME"'], { timeoutMs: 30_000, what: 'asking for $HOME' });
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

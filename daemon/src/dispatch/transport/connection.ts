/**
 * How the daemon reaches a host: run a command (argument array, never a shell string built
 * from user input), copy a folder there, fetch files back, and follow a growing file.
 * `local` runs on this machine; `ssh` goes through the system OpenSSH client.
 */
import type { ChildProcess } from 'node:child_process';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Bytes for the command's stdin. */
  input?: Buffer | string;
  /** Kill timer: a hung connection must never hang the daemon. */
  timeoutMs?: number;
  cwd?: string;
  /** What the command does, for a time-out's message ("building the workspace"). */
  what?: string;
}

/** The host could not be reached (SSH failed, not the command). Unreachable is not dead. */
export class HostUnreachableError extends Error {
  readonly code = 'E_HOST_UNREACHABLE';
  readonly host: string;
  constructor(host: string, detail: string) {
    super(`cannot reach host ${host}: ${detail}`);
    this.name = 'HostUnreachableError';
    this.host = host;
  }
}

/**
 * A command on the host outran its kill timer while the host itself still answers (a quick
 * command right after succeeded): the step was too slow, the host is not gone. "Timed out"
 * is its own condition on a run, never "unreachable".
 */
export class HostTimeoutError extends Error {
  readonly code = 'E_HOST_TIMED_OUT';
  readonly host: string;
  readonly timeoutMs: number;
  constructor(host: string, what: string, timeoutMs: number) {
    super(`${what} on ${host} timed out after ${Math.round(timeoutMs / 1000)} s (the host answers; the step was too slow)`);
    this.name = 'HostTimeoutError';
    this.host = host;
    this.timeoutMs = timeoutMs;
  }
}

/** True for a HostUnreachableError (from this module or across a bundle boundary). */
export function isUnreachable(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'E_HOST_UNREACHABLE';
}

/** True for a HostTimeoutError. */
export function isTimedOut(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'E_HOST_TIMED_OUT';
}

/** How files moved: rsync, tar streamed over ssh (no rsync on one side), or a local copy. */
export type SyncVia = 'rsync' | 'tar' | 'copy';

/** What a copy did. */
export interface SyncResult {
  /** Bytes that went over the wire (rsync: literal data; tar: the stream; copy: file bytes). */
  bytes: number;
  via: SyncVia;
  /** Why rsync was not used, when it was not (for the log and the run's events). */
  fallback?: string;
}

export interface HostConnection {
  readonly hostName: string;
  readonly kind: 'local' | 'ssh';
  /** Runs argv on the host. Rejects with HostUnreachableError when the host can't be reached. */
  exec(argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  /**
   * Copies a local folder's contents to `remoteDir` (created), skipping nothing. Folders land
   * 0700 and files without group or other bits.
   */
  push(localDir: string, remoteDir: string, opts?: { timeoutMs?: number }): Promise<SyncResult>;
  /** Copies the listed files (relative to `localRoot`) into `remoteDir`, keeping their paths; modes as push. */
  pushFiles(localRoot: string, files: readonly string[], remoteDir: string, opts?: { timeoutMs?: number }): Promise<SyncResult>;
  /**
   * Copies remote files into a local folder (rsync's slash rule: `dir/` copies its contents).
   * With rsync only changes move and `partial` resumes; the tar fallback copies everything.
   */
  pull(remotePath: string, localDir: string, opts?: { excludes?: string[]; timeoutMs?: number; partial?: boolean }): Promise<SyncResult>;
  /** Follows a file from a byte offset; the child's stdout carries the bytes. */
  follow(remoteFile: string, offset: number): ChildProcess;
  /**
   * The umask of the user's login on the host (`0022`), which Keel's own commands override
   * with 077; a job's command runs with it again. null when it cannot be read.
   */
  loginUmask(): Promise<string | null>;
  /** Expands `~` in a host path to an absolute path on that host. */
  resolvePath(path: string): Promise<string>;
  close(): Promise<void>;
}

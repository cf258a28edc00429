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

export interface HostConnection {
  readonly hostName: string;
  readonly kind: 'local' | 'ssh';
  /** Runs argv on the host. Rejects with HostUnreachableError when the host can't be reached. */
  exec(argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Copies a local folder's contents to `remoteDir` (created), skipping nothing; resumable. */
  push(localDir: string, remoteDir: string, opts?: { timeoutMs?: number }): Promise<{ bytes: number }>;
  /** Copies the listed files (relative to `localRoot`) into `remoteDir`, keeping their paths. */
  pushFiles(localRoot: string, files: readonly string[], remoteDir: string, opts?: { timeoutMs?: number }): Promise<{ bytes: number }>;
  /** Copies remote files into a local folder (rsync semantics: only changes move). */
  pull(remotePath: string, localDir: string, opts?: { excludes?: string[]; timeoutMs?: number; partial?: boolean }): Promise<{ bytes: number }>;
  /** Follows a file from a byte offset; the child's stdout carries the bytes. */
  follow(remoteFile: string, offset: number): ChildProcess;
  /** Expands `~` in a host path to an absolute path on that host. */
  resolvePath(path: string): Promise<string>;
  close(): Promise<void>;
}

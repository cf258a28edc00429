/**
 * Moving files with `tar | ssh` when rsync is missing on either side. tar is on every Unix
 * host; what is lost is rsync's delta transfer and resume: a copy always sends whole files,
 * and an interrupted one starts over. That is safe with the `.keel-complete` protocol of
 * attempt.ts (a folder counts only once its push finished; a repeated push overwrites).
 *
 * Both sides are argument arrays (runPipeline); the remote side is one command built with
 * shellCommand, so paths with spaces, quotes or `$()` arrive as they are. Files land
 * private to the user (umask 077, then `chmod -R go-rwx`: GNU tar run as root keeps the
 * archived modes whatever the umask says).
 */
import { posix } from 'node:path';
import { HostUnreachableError } from './connection.ts';
import { runPipeline, type PipelineResult } from './run-process.ts';
import { shellCommand } from '../remote/quote.ts';
import { INSTALL_RSYNC } from './tools.ts';

/** How to run one command on the host: the ssh argument list for a remote `sh -c` script. */
export interface SshInvocation {
  hostName: string;
  args(command: string): string[];
  /** The error for a kill timer that fired: timed out when the host still answers, else unreachable. */
  timedOut(what: string, timeoutMs: number): Promise<Error>;
}

/**
 * Streams `files` (relative to `localRoot`), or all of `localRoot` when null, into
 * `remoteDir` (created). Returns the bytes sent.
 */
export async function tarPush(ssh: SshInvocation, localRoot: string, files: readonly string[] | null, remoteDir: string, timeoutMs: number): Promise<number> {
  const remote = [
    'umask 077',
    shellCommand(['mkdir', '-p', '--', remoteDir]),
    shellCommand(['tar', '-x', '-f', '-', '-C', remoteDir, '--no-same-owner']),
    shellCommand(['chmod', '-R', 'go-rwx', '--', remoteDir]),
  ].join(' && ');
  // `./` in front: a name that starts with "-" is never read as an option.
  const producer = files === null
    ? { cmd: 'tar', args: ['-c', '-f', '-', '-C', localRoot, '.'] }
    : { cmd: 'tar', args: ['-c', '-f', '-', '-C', localRoot, '--null', '-T', '-'], input: files.map((f) => `./${f}\0`).join('') };
  const r = await runPipeline(producer, { cmd: 'ssh', args: ssh.args(remote) }, { timeoutMs });
  await judge(ssh, r, 1, timeoutMs, `copying to ${remoteDir}`);
  if (r.codes[0] !== 0) throw new Error(`tar could not read ${localRoot} (exit ${r.codes[0]}): ${lastLine(r.stderr[0])}`);
  if (r.codes[1] !== 0) {
    throw new Error(`copying to ${ssh.hostName}:${remoteDir} with tar failed (exit ${r.codes[1]}): ${lastLine(r.stderr[1])}; ${INSTALL_RSYNC} on both machines`);
  }
  return r.bytes;
}

/**
 * Streams a remote path into `localDir`, with rsync's slash rule: `dir/` copies what dir
 * holds, `dir` copies dir itself. `excludes` are name patterns (`*.safetensors`). Returns the
 * bytes received.
 */
export async function tarPull(ssh: SshInvocation, remotePath: string, localDir: string, excludes: readonly string[], timeoutMs: number): Promise<number> {
  const contents = remotePath.endsWith('/');
  const dir = contents ? remotePath : posix.dirname(remotePath);
  const member = contents ? '.' : `./${posix.basename(remotePath)}`;
  const remote = shellCommand(['tar', '-c', '-f', '-', '-C', dir, ...excludes.map((e) => `--exclude=${e}`), member]);
  const r = await runPipeline({ cmd: 'ssh', args: ssh.args(remote) }, { cmd: 'tar', args: ['-x', '-f', '-', '-C', localDir, '--no-same-owner'] }, { timeoutMs });
  await judge(ssh, r, 0, timeoutMs, `copying ${remotePath}`);
  if (r.codes[0] !== 0) throw new Error(`tar on ${ssh.hostName} could not read ${remotePath} (exit ${r.codes[0]}): ${lastLine(r.stderr[0])}`);
  if (r.codes[1] !== 0) throw new Error(`tar could not write ${localDir} (exit ${r.codes[1]}): ${lastLine(r.stderr[1])}`);
  return r.bytes;
}

/** ssh's own failure (255): the host is unreachable, not the copy wrong; the kill timer: timed out, or unreachable. */
async function judge(ssh: SshInvocation, r: PipelineResult, sshSide: 0 | 1, timeoutMs: number, what: string): Promise<void> {
  if (r.timedOut) throw await ssh.timedOut(what, timeoutMs);
  if (r.codes[sshSide] === 255) throw new HostUnreachableError(ssh.hostName, lastLine(r.stderr[sshSide]));
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter((l) => l.trim() !== '').at(-1) ?? 'no message';
}

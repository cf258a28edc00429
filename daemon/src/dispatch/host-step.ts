/**
 * Running one of Keel's scripts on a host as a step with a time-out: the daemon's kill timer,
 * and the same deadline on the host through coreutils `timeout`, so the work does not go on
 * there after Keel gave up on it (closing an ssh channel does not stop a command that never
 * writes). A step past its deadline is a HostTimeoutError — "timed out", not "unreachable".
 */
import type { DispatchContext } from './context.ts';
import { HostTimeoutError, type ExecResult } from './transport/connection.ts';
import type { JobScriptName } from './remote/scripts.ts';

/** `timeout` exits 124 when the deadline passed (137 when it had to KILL). */
const TIMEOUT_EXITS = new Set([124, 137]);

/** Runs `bash <scripts>/<script> args…` on `host`, allowed `timeoutMs`. */
export async function runStep(ctx: DispatchContext, host: string, script: JobScriptName, args: readonly string[], opts: { timeoutMs: number; what: string }): Promise<ExecResult> {
  const scripts = await ctx.hosts.scriptsDir(host);
  const seconds = String(Math.max(1, Math.ceil(opts.timeoutMs / 1000)));
  const argv = ['timeout', '--kill-after=10', seconds, 'bash', `${scripts}/${script}`, ...args];
  const r = await ctx.hosts.connection(host).exec(argv, { timeoutMs: opts.timeoutMs + 20_000, what: opts.what });
  if (TIMEOUT_EXITS.has(r.code) && !/KEEL_END/.test(r.stdout)) throw new HostTimeoutError(host, opts.what, opts.timeoutMs);
  return r;
}

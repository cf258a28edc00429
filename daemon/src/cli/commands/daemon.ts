/** `keel daemon [start|stop]`: run in the foreground, start in the background, or stop. */
import { existsSync } from 'node:fs';
import { keelPaths, type KeelPaths } from '../../home/paths.ts';
import { isAlive, looksLikeKeel, processState, readLock } from '../../home/lock.ts';
import { readShutdownState } from '../../server/shutdown.ts';
import { ensureDaemon } from '../../client/ensure.ts';
import { DaemonNotAnsweringError, type KeelClient } from '../../client/client.ts';
import { connectIfRunning, connectOptions, connectTimeoutMs, daemonLauncher } from '../session.ts';
import { duration, print, printError, printJson } from '../output.ts';
import type { CommandContext } from '../command.ts';
import { UsageError } from '../command.ts';

/**
 * How long `keel daemon stop` waits for the process to end: KEEL_STOP_TIMEOUT_MS, else 45 s —
 * more than the daemon's own shutdown step timeouts add up to (server/daemon.ts).
 */
function stopTimeoutMs(): number {
  const n = Number(process.env.KEEL_STOP_TIMEOUT_MS);
  return Number.isFinite(n) && n > 0 ? n : 45_000;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function daemonCommand(ctx: CommandContext): Promise<number> {
  const sub = ctx.positionals[0];
  if (sub === undefined) {
    // cli/main.ts runs the daemon without loading this client module; this is the same path.
    const { runDaemon } = await import('../../server/daemon.ts');
    return runDaemon({ foreground: ctx.options.background !== true });
  }
  if (sub === 'start') return start(ctx);
  if (sub === 'stop') return stop(ctx);
  throw new UsageError(`unknown subcommand "daemon ${sub}"; use \`keel daemon\`, \`keel daemon start\` or \`keel daemon stop\``);
}

async function start(ctx: CommandContext): Promise<number> {
  const { client, started } = await ensureDaemon(daemonLauncher(), connectOptions());
  try {
    const status = await client.call('daemon/status', {});
    if (ctx.json) printJson({ started, daemon: status });
    else print(`${started ? 'Started' : 'Already running:'} keel daemon pid ${status.pid} (${status.socket})\n`);
  } finally {
    client.close();
  }
  return 0;
}

/** A live Keel daemon's pid from daemon.lock, if any. */
function lockedDaemonPid(paths: KeelPaths): number | null {
  const pid = readLock(paths.lock)?.pid;
  return pid !== undefined && isAlive(pid) && looksLikeKeel(pid) ? pid : null;
}

/**
 * Stops the daemon and reports success only once its process is gone: asked over the socket,
 * or — when the socket does not answer — by SIGTERM to the pid in daemon.lock.
 */
async function stop(ctx: CommandContext): Promise<number> {
  const paths = keelPaths();
  let client: KeelClient | null;
  try {
    client = await connectIfRunning();
  } catch (err) {
    if (!(err instanceof DaemonNotAnsweringError)) throw err;
    const pid = err.pid ?? lockedDaemonPid(paths);
    if (pid === null || !looksLikeKeel(pid)) throw err;
    // It accepts but does not answer: a signal still reaches it if it is merely busy.
    process.kill(pid, 'SIGTERM');
    return awaitExit(ctx, paths, pid, Date.now() + stopTimeoutMs(), 'did not answer on its socket, so it was sent SIGTERM');
  }
  if (!client) {
    // No socket: it may already be shutting down (the socket goes first), or it is not running.
    const pid = lockedDaemonPid(paths);
    if (pid !== null) return awaitExit(ctx, paths, pid, Date.now() + stopTimeoutMs(), 'has no socket (it is shutting down)');
    if (ctx.json) printJson({ stopped: false, running: false });
    else print('The keel daemon is not running.\n');
    return 0;
  }
  const pid = client.initializeResult?.daemon.pid ?? readLock(paths.lock)?.pid ?? null;
  const deadline = Date.now() + stopTimeoutMs();
  const closed = new Promise<void>((r) => client.onClose(() => r()));
  const asked = await client.call('daemon/shutdown', {}, { timeoutMs: connectTimeoutMs() }).then(() => true, () => false);
  if (!asked && pid !== null) {
    // Connected, then stuck before answering: a signal still reaches it if it is merely busy.
    client.close();
    process.kill(pid, 'SIGTERM');
    return awaitExit(ctx, paths, pid, deadline, 'did not answer the shutdown request, so it was sent SIGTERM');
  }
  // The socket closes once in-flight requests are done; the deadline bounds that wait too.
  await Promise.race([closed, new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())).unref())]);
  client.close();
  if (pid === null) {
    // A daemon that did not say its pid (none does today): fall back to its files.
    while ((existsSync(paths.lock) || existsSync(paths.socket)) && Date.now() < deadline) await sleep(25);
  }
  return awaitExit(ctx, paths, pid, deadline, null);
}

/** Waits for `pid` to end; says Stopped only when it has, else what it is still waiting for. */
async function awaitExit(ctx: CommandContext, paths: KeelPaths, pid: number | null, deadline: number, how: string | null): Promise<number> {
  const started = Date.now();
  let told = false;
  while (pid !== null && isAlive(pid) && Date.now() < deadline) {
    // A stopped (SIGSTOP, Ctrl-Z) process will not exit however long we wait.
    if (processState(pid) === 'T') break;
    if (!told && !ctx.json && Date.now() - started > 2_000) {
      told = true;
      printError(`Waiting for the keel daemon (pid ${pid}) to exit: ${waitingFor(paths, pid)}…\n`);
    }
    await sleep(50);
  }
  if (pid === null || !isAlive(pid)) {
    if (ctx.json) printJson({ stopped: true, pid });
    else print(`Stopped keel daemon${pid !== null ? ` pid ${pid}` : ''}\n`);
    return 0;
  }
  const state = readShutdownState(paths.home, pid) ?? null;
  const reason = waitingFor(paths, pid);
  if (ctx.json) printJson({ stopped: false, pid, waitingFor: reason, shutdown: state });
  printError(
    `keel: the keel daemon (pid ${pid}) is still running${how ? ` — it ${how}` : ''}. It is ${reason}. ` +
      `Wait and run \`keel daemon stop\` again, or end it now with \`kill -9 ${pid}\`; the next keel command then starts a fresh daemon.\n`,
  );
  return 1;
}

/** What the stopping daemon `pid` is busy with, from its shutdown state file. */
function waitingFor(paths: KeelPaths, pid: number): string {
  if (processState(pid) === 'T') return `stopped (SIGSTOP or Ctrl-Z): \`kill -CONT ${pid}\` lets it go on`;
  const state = readShutdownState(paths.home, pid);
  if (!state) return 'not shutting down (it may be stuck)';
  return `at shutdown step "${state.step}"${state.detail ? ` (${state.detail})` : ''} for ${duration(Date.now() - state.since)}`;
}

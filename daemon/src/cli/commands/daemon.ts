/** `keel daemon [start|stop|status]`: run in the foreground, start in the background, or stop. */
import { existsSync } from 'node:fs';
import { keelPaths } from '../../home/paths.ts';
import { readLock } from '../../home/lock.ts';
import { runDaemon } from '../../server/daemon.ts';
import { ensureDaemon } from '../../client/ensure.ts';
import { cliIdentity, connectIfRunning, daemonLauncher } from '../session.ts';
import { printJson } from '../output.ts';
import type { CommandContext } from '../command.ts';
import { UsageError } from '../command.ts';

export async function daemonCommand(ctx: CommandContext): Promise<number> {
  const sub = ctx.positionals[0];
  if (sub === undefined) return runDaemon({ foreground: ctx.options.background !== true });
  if (sub === 'start') return start(ctx);
  if (sub === 'stop') return stop(ctx);
  throw new UsageError(`unknown subcommand "daemon ${sub}"; use \`keel daemon\`, \`keel daemon start\` or \`keel daemon stop\``);
}

async function start(ctx: CommandContext): Promise<number> {
  const paths = keelPaths();
  const { client, started } = await ensureDaemon(daemonLauncher(), { socketPath: paths.socket, client: cliIdentity });
  try {
    const status = await client.call('daemon/status', {});
    if (ctx.json) printJson({ started, daemon: status });
    else process.stdout.write(`${started ? 'Started' : 'Already running:'} keel daemon pid ${status.pid} (${status.socket})\n`);
  } finally {
    client.close();
  }
  return 0;
}

async function stop(ctx: CommandContext): Promise<number> {
  const paths = keelPaths();
  const client = await connectIfRunning();
  if (!client) {
    if (ctx.json) printJson({ stopped: false, running: false });
    else process.stdout.write('The keel daemon is not running.\n');
    return 0;
  }
  const pid = client.initializeResult?.daemon.pid ?? readLock(paths.lock)?.pid;
  const closed = new Promise<void>((r) => client.onClose(() => r()));
  await client.call('daemon/shutdown', {});
  await closed;
  // Stopped means the lock and socket are gone, not merely that the socket closed.
  const deadline = Date.now() + 15_000;
  while ((existsSync(paths.lock) || existsSync(paths.socket)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  if (ctx.json) printJson({ stopped: true, pid: pid ?? null });
  else process.stdout.write(`Stopped keel daemon${pid ? ` pid ${pid}` : ''}\n`);
  return 0;
}

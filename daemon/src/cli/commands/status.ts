/** `keel status`: the daemon's identity and where its state lives. */
import { duration, keyValues, print, printJson } from '../output.ts';
import { withDaemon } from '../session.ts';
import type { CommandContext } from '../command.ts';

export async function statusCommand(ctx: CommandContext): Promise<number> {
  return withDaemon(async (client) => {
    const daemon = await client.call('daemon/status', {});
    const { projects } = await client.call('projects/list', {});
    if (ctx.json) {
      printJson({ daemon, projects: projects.length });
      return 0;
    }
    print(keyValues([
      ['Daemon', `running, pid ${daemon.pid}, up ${duration(daemon.uptimeMs)}`],
      ['Version', `${daemon.version} (protocol ${daemon.protocolVersion})`],
      ['Runtime', `${daemon.execPath} ${daemon.node} (N-API ${daemon.napi})`],
      ['Home', daemon.home],
      ['Database', daemon.db],
      ['Socket', daemon.socket],
      ['Projects', projects.length],
      ['Clients', daemon.clients],
    ]) + '\n');
    return 0;
  });
}

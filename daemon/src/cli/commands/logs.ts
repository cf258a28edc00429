/** `keel logs RUN [-f]`: a run's whole log, and with -f everything it writes until it ends. */
import type { KeelClient } from '../../client/client.ts';
import { completeLogText } from '../../client/log-text.ts';
import type { ResultOf } from '../../protocol/index.ts';
import { printError } from '../output.ts';
import { withDaemon } from '../session.ts';
import { UsageError, type CommandContext } from '../command.ts';

type LogChunk = ResultOf['runs/logs'];

/** Wakes the follow loop; a wake while nobody waits is kept, so none is lost between reads. */
class Waker {
  private pending = false;
  private resolve: (() => void) | null = null;

  wake(): void {
    if (this.resolve) this.resolve();
    else this.pending = true;
  }

  /** Resolves on the next wake, or after `ms` (a poll: notifications only say "there is more"). */
  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.resolve?.(), ms);
      this.resolve = () => {
        clearTimeout(timer);
        this.resolve = null;
        resolve();
      };
    });
  }
}

/** Subscribes to the run's log and state, and to resyncs (notifications the daemon dropped while we were not reading). */
async function followNotifications(client: KeelClient, runId: string, waker: Waker): Promise<void> {
  client.on('logs', (n) => { if (n.runId === runId) waker.wake(); });
  client.on('runs', (n) => { if (n.runId === runId) waker.wake(); });
  // Whatever was dropped, the text is re-read from our own offset.
  client.onResync(() => waker.wake());
  await client.call('subscriptions/add', { topics: ['logs', 'runs'], runIds: [runId] });
  // Anything written between the first read and the subscription is read now, not in a second.
  waker.wake();
}

/**
 * Prints the log by paging runs/logs by byte offset until offset = size (and, following,
 * until the daemon says it is complete). The text is printed as is — the job's own output,
 * colours and progress bars included — unlike everything else the CLI prints (output.ts).
 */
export async function logsCommand(ctx: CommandContext): Promise<number> {
  const ref = ctx.positionals[0];
  if (!ref) throw new UsageError('usage: keel logs RUN [-f]');
  const follow = ctx.options.follow === true;
  return withDaemon(async (client) => {
    const read = (run: string, offset: number): Promise<LogChunk> => client.call('runs/logs', { run, offset });
    let r = await read(ref, 0);
    const runId = r.runId;
    const waker = new Waker();
    if (follow) await followNotifications(client, runId, waker);
    let offset = 0;
    for (;;) {
      if (r.size < offset) {
        printError(`keel: the log of run ${runId} was replaced while it was read (a new attempt started); what follows is the new log from its start.\n`);
        offset = 0;
        r = await read(runId, 0);
        continue;
      }
      const atEnd = r.offset >= r.size;
      const { text, next } = completeLogText(r, offset, r.done || (atEnd && !follow));
      if (text) process.stdout.write(text);
      offset = next;
      if (!atEnd) {
        r = await read(runId, offset);
        continue;
      }
      if (!follow || r.done) return 0;
      await waker.wait(1_000);
      r = await read(runId, offset);
    }
  });
}

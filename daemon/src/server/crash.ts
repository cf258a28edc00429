/**
 * The daemon's process-level safety net.
 *
 * Policy:
 * - An unhandled promise rejection is logged (with its stack) and survived. It means a piece
 *   of fire-and-forget async work failed without anyone awaiting it (the known kind: a
 *   background loop such as the dispatcher's queue pump, whose next tick tries again). The
 *   failure unwound through that promise chain only; taking down the daemon — and every
 *   client, watcher and job follower with it — would turn one failed task into an outage.
 * - An uncaught exception is logged (with its stack), then the daemon shuts down cleanly and
 *   exits with DaemonExit.Crashed (70, EX_SOFTWARE). The exception unwound a synchronous
 *   callback (a timer, an event handler) from the middle, with no owner to restore what it
 *   was doing: in-memory state such as queues, leases and cursors may now be inconsistent.
 *   Continuing in an unknown state risks silently wrong records; the database is
 *   transactional, and jobs live on their hosts, so a fresh daemon (the next `keel` command
 *   or the extension's reconnect starts one) recovers everything by reconciling. The clean
 *   shutdown checkpoints the database and removes the socket and lock, so that restart is
 *   immediate; it is bounded by its step timeouts, and a second uncaught exception during it
 *   exits at once.
 */
import type { Logger } from '../log/logger.ts';

/** Exit code after an uncaught exception (sysexits EX_SOFTWARE). */
export const CRASH_EXIT_CODE = 70;

function describe(reason: unknown): { error: string; stack: string | null } {
  if (reason instanceof Error) return { error: reason.message, stack: reason.stack ?? null };
  return { error: String(reason), stack: null };
}

/**
 * Installs the handlers. `shutdown(reason, exitCode)` is the daemon's clean shutdown; it is
 * started once, and must end the process (it exits explicitly if something lingers).
 */
export function installCrashHandlers(log: Logger, shutdown: (reason: string, exitCode: number) => Promise<void>): void {
  process.on('unhandledRejection', (reason) => {
    log.error('unhandled promise rejection (survived: the daemon keeps running)', describe(reason));
  });
  let crashing = false;
  process.on('uncaughtException', (err, origin) => {
    log.error('uncaught exception: shutting down (exit 70) so a fresh daemon takes over', { origin, ...describe(err) });
    if (crashing) {
      log.error('a second uncaught exception during the shutdown: exiting now', describe(err));
      process.exit(CRASH_EXIT_CODE);
    }
    crashing = true;
    void shutdown(`uncaught exception: ${describe(err).error}`, CRASH_EXIT_CODE);
  });
}

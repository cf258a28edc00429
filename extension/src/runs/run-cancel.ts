/**
 * What "Cancel Run" asks and says. The daemon answers `runs/cancel` once the stop is sent,
 * while the run still has its old status; so the outcome is told when the run has ended (a
 * `runs` notification), never from the status before. Pure words here; the waiting is in
 * waitForEnd, which needs only the daemon connection.
 */
import { isTerminal, type Run, type RunStatus } from '../../../daemon/src/protocol/index.ts';
import type { KeelServices } from '../services.ts';

/** The modal question and its two buttons (the second closes it, so VS Code adds no "Cancel" of its own). */
export function cancelQuestion(run: Pick<Run, 'name' | 'status'>): { message: string; detail: string; stop: string; keep: string } {
  const queued = run.status === 'queued';
  return {
    message: queued ? `Remove run ${run.name} from the queue?` : `Stop run ${run.name}?`,
    detail: queued ? 'It has not started; nothing runs on a host yet.' : 'Its processes get TERM, then KILL after the grace period. Checkpoints already written are kept.',
    stop: queued ? 'Remove from Queue' : 'Stop Run',
    keep: queued ? 'Keep Queued' : 'Keep Running',
  };
}

/** What to say once the run has ended (or has not, after the wait). */
export function cancelOutcome(name: string, status: RunStatus | null): string {
  switch (status) {
    case 'cancelled': return `Run ${name} cancelled.`;
    case null: return `Run ${name} is still stopping; the Runs view shows when it has.`;
    default: return isTerminal(status) ? `Run ${name} ${status} before it could be stopped.` : `Run ${name} is still stopping; the Runs view shows when it has.`;
  }
}

/** Resolves with the run's terminal status once it has one, or null after `timeoutMs`. */
export function waitForEnd(services: Pick<KeelServices, 'onNotification'>, runId: string, current: RunStatus, timeoutMs: number): Promise<RunStatus | null> {
  if (isTerminal(current)) return Promise.resolve(current);
  return new Promise((resolve) => {
    const sub = services.onNotification('runs', (n) => {
      if (n.runId !== runId || !isTerminal(n.status)) return;
      done(n.status);
    });
    const timer = setTimeout(() => done(null), timeoutMs);
    function done(status: RunStatus | null): void {
      clearTimeout(timer);
      sub.dispose();
      resolve(status);
    }
  });
}

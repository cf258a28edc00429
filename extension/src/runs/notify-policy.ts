/**
 * When Keel speaks up: a run that ends (failed or lost by default, succeeded if asked) and
 * alerts (NaN loss, divergence, stalled, stale heartbeat). Cancelled runs stay quiet (the
 * user did it), repeats of a status stay quiet, and a burst (a sweep failing at once) is
 * summarised instead of stacking toasts. Pure; run-notifications.ts shows them.
 */
import { isTerminal, type NotificationOf, type RunStatus } from '../../../daemon/src/protocol/index.ts';

export interface NotifySettings {
  onSuccess: boolean;
  onFailure: boolean;
  onAlert: boolean;
}

export type NoticeAction = 'Show Logs' | 'Compare' | 'Open Run';

export interface Notice {
  severity: 'info' | 'warning' | 'error';
  message: string;
  runId: string;
  actions: NoticeAction[];
}

/** A notice for a status change, or null. `previous` is the status Keel last saw for the run (undefined: never seen). */
export function runEndNotice(previous: RunStatus | undefined, change: NotificationOf['runs'], runName: string, settings: NotifySettings): Notice | null {
  // Only transitions Keel watched: a run first seen already ended (an import, an old run re-read) says nothing.
  if (previous === undefined || isTerminal(previous) || !isTerminal(change.status)) return null;
  const reason = change.statusReason ? `: ${change.statusReason}` : '';
  switch (change.status) {
    case 'succeeded':
      return settings.onSuccess ? { severity: 'info', message: `Run ${runName} succeeded.`, runId: change.runId, actions: ['Compare', 'Show Logs'] } : null;
    case 'failed':
      return settings.onFailure ? { severity: 'error', message: `Run ${runName} failed${reason}.`, runId: change.runId, actions: ['Show Logs', 'Open Run'] } : null;
    case 'lost':
      return settings.onFailure ? { severity: 'warning', message: `Run ${runName} was lost${reason}.`, runId: change.runId, actions: ['Show Logs', 'Open Run'] } : null;
    default:
      return null;
  }
}

const ALERT_TITLES: Record<string, string> = {
  loss_nan: 'loss is NaN',
  loss_diverging: 'loss is diverging',
  stalled: 'stalled',
  heartbeat_stale: 'no heartbeat',
};

/** A notice for an alert about a run, or null (info alerts and alerts without a run stay in the Runs view). */
export function alertNotice(alert: NotificationOf['alerts'], runName: string | undefined, settings: NotifySettings): Notice | null {
  if (!settings.onAlert || alert.severity === 'info' || alert.runId === null) return null;
  const title = ALERT_TITLES[alert.kind] ?? alert.kind.replace(/_/g, ' ');
  return {
    severity: alert.severity,
    message: `Run ${runName ?? alert.runId} ${title}: ${alert.message}`,
    runId: alert.runId,
    actions: ['Show Logs', 'Open Run'],
  };
}

/**
 * At most `max` notices per `windowMs`; the rest are counted and summarised once the
 * window ends ("5 more runs need attention").
 */
export class NoticeLimiter {
  private readonly max: number;
  private readonly windowMs: number;
  private windowStart = -Infinity;
  private shown = 0;
  private held = 0;

  constructor(max = 3, windowMs = 10_000) {
    this.max = max;
    this.windowMs = windowMs;
  }

  /** True: show it now. False: held back (counted for the summary). */
  admit(now: number): boolean {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.shown = 0;
    }
    if (this.shown < this.max) {
      this.shown++;
      return true;
    }
    this.held++;
    return false;
  }

  /** How many were held back since the last call (and resets the count). */
  takeHeld(): number {
    const n = this.held;
    this.held = 0;
    return n;
  }
}

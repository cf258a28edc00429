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

export type NoticeAction = 'Show Log' | 'Compare' | 'Open Run';

export interface Notice {
  severity: 'info' | 'warning' | 'error';
  message: string;
  runId: string;
  actions: NoticeAction[];
}

/** Why a run ended, from its status reason, when the reason says more than its exit code. */
function reasonText(reason: string | null): string | null {
  return reason && !/^exit code -?\d+$/.test(reason.trim()) ? reason.trim() : null;
}

/**
 * A notice for a status change, or null. `previous` is the status Keel last saw for the run
 * (undefined: never seen). `errorLine` is the line of the run's log that says why it failed
 * (runs/logTail): a failure notice quotes it, so the user reads the cause without opening the log.
 */
export function runEndNotice(previous: RunStatus | undefined, change: NotificationOf['runs'], runName: string, settings: NotifySettings, errorLine: string | null = null): Notice | null {
  // Only transitions Keel watched: a run first seen already ended (an import, an old run re-read) says nothing.
  if (previous === undefined || isTerminal(previous) || !isTerminal(change.status)) return null;
  const reason = reasonText(change.statusReason);
  const exit = change.statusReason && !reason ? ` (${change.statusReason.trim()})` : '';
  switch (change.status) {
    case 'succeeded':
      return settings.onSuccess ? { severity: 'info', message: `Run ${runName} succeeded.`, runId: change.runId, actions: ['Compare', 'Show Log'] } : null;
    case 'failed': {
      if (!settings.onFailure) return null;
      const why = errorLine ?? reason;
      return { severity: 'error', message: `Run ${runName} failed${exit}${why ? `: ${sentence(why)}` : '.'}`, runId: change.runId, actions: ['Show Log', 'Open Run'] };
    }
    case 'lost':
      return settings.onFailure ? { severity: 'warning', message: `Run ${runName} was lost${reason ? `: ${sentence(reason)}` : '.'}`, runId: change.runId, actions: ['Show Log', 'Open Run'] } : null;
    default:
      return null;
  }
}

function sentence(text: string): string {
  return /[.!?:]$/.test(text) ? text : `${text}.`;
}

/** Alerts that repeat what the run-end notice says: the run failed, the run was lost. */
const RUN_END_ALERTS: ReadonlySet<string> = new Set(['run_failed', 'run_lost']);

const ALERT_TITLES: Record<string, string> = {
  loss_nan: 'loss is NaN',
  loss_diverging: 'loss is diverging',
  stalled: 'stalled',
  heartbeat_stale: 'no heartbeat',
};

/** A notice for an alert about a run, or null (info alerts and alerts without a run stay in the Runs view). */
export function alertNotice(alert: NotificationOf['alerts'], runName: string | undefined, settings: NotifySettings): Notice | null {
  if (!settings.onAlert || alert.severity === 'info' || alert.runId === null || RUN_END_ALERTS.has(alert.kind)) return null;
  const title = ALERT_TITLES[alert.kind] ?? alert.kind.replace(/_/g, ' ');
  return {
    severity: alert.severity,
    message: `Run ${runName ?? alert.runId} ${title}: ${alert.message}`,
    runId: alert.runId,
    actions: ['Show Log', 'Open Run'],
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

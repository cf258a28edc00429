/**
 * The one owner of a run's life. Every status change goes through here — from dispatch (an
 * attempt, the reconciler, cancel) and from tracking (an import, an ingest that stopped) —
 * and so does every `runs` notification (one builder, `runNotification`) and the alerts a
 * change raises. Transitions are the machine of protocol/domain.ts, terminal states are
 * final, and a recorded cancel pins the run: from then on nothing but an end is accepted,
 * and any end is `cancelled` (the exit code is kept). Intents (launch, cancel, retry, rerun)
 * are rows (store/intents.ts) written before they act.
 */
import { isTerminal, RunTransitions, type NotificationOf, type Run, type RunStatus, type RunSummary } from '../protocol/index.ts';
import type { Logger } from '../log/logger.ts';
import type { IntentKind, RunIntent, Store } from '../store/index.ts';
import type { Publish } from '../track/publish.ts';

/** What goes with a status change. */
export interface StatusDetail {
  reason?: string | null;
  exitCode?: number | null;
}

/** The status writes tracking makes (an import, a finished watched folder, an ingest that stopped). */
export interface RunStatusWriter {
  beginImport(runId: string): Run;
  finishImport(runId: string): Run;
  /** A watched or imported run whose folder shows training ended. */
  settleFinished(runId: string, reason: string): void;
}

/**
 * The `runs` notification for `run`: the only place its payload is built. `summary` is the
 * run's row as `runs/list` gives it, so views apply the change instead of asking again.
 */
export function runNotification(run: Run, opts: { deleted?: boolean; summary?: RunSummary } = {}): NotificationOf['runs'] {
  return {
    runId: run.id, status: run.status, unreachableSince: run.unreachableSince, statusReason: run.statusReason,
    timedOutSince: run.timedOutSince ?? null, ...(opts.deleted ? { deleted: true as const } : {}), ...(opts.summary ? { run: opts.summary } : {}),
  };
}

export interface RunLifecycleDeps {
  store: Store;
  publish: Publish;
  log?: Logger;
}

/** Severity of an alert or event. */
export type Severity = 'info' | 'warning' | 'error';

export class RunLifecycle implements RunStatusWriter {
  private readonly deps: RunLifecycleDeps;
  private readonly endListeners: ((run: Run) => void)[] = [];

  constructor(deps: RunLifecycleDeps) {
    this.deps = deps;
  }

  private get store(): Store {
    return this.deps.store;
  }

  /** Calls `listener` after a run reaches a terminal status (dispatch frees what the run held). */
  onEnd(listener: (run: Run) => void): void {
    this.endListeners.push(listener);
  }

  /** Tells subscribers about a run as it is now (created, re-linked, new points), with its summary row. */
  changed(runId: string): void {
    this.publishRun(runId);
  }

  /** The `runs` notification for a run, carrying its summary row (one query: a summary is the run and more; none when the run is gone). */
  private publishRun(runId: string): void {
    const summary = this.store.runs.summary(runId);
    if (summary) this.deps.publish('runs', runNotification(summary, { summary }), runId);
  }

  /** A run was deleted: views drop it. */
  deleted(run: Run): void {
    this.deps.publish('runs', runNotification(run, { deleted: true }), run.id);
  }

  /**
   * Moves a run to `to` if the machine allows it (a no-op when it is there already) and tells
   * subscribers; `failed` and `lost` raise their alert. With a cancel recorded, a status that
   * is not an end is refused and every end becomes `cancelled`. Returns the run after the
   * change, or undefined when nothing changed.
   */
  setStatus(runId: string, to: RunStatus, detail: StatusDetail = {}): Run | undefined {
    const before = this.store.runs.get(runId);
    if (!before || before.status === to || isTerminal(before.status)) return undefined;
    const cancel = this.store.intents.open(runId, 'cancel');
    let target = to;
    let reason = detail.reason ?? null;
    if (cancel && !isTerminal(to)) {
      this.deps.log?.info('status change refused: the run was cancelled', { run: runId, from: before.status, to });
      return undefined;
    }
    if (cancel && to !== 'cancelled') {
      reason = `cancelled${reason ? ` (${to}: ${reason})` : to === 'succeeded' ? ' (it had just finished)' : ''}`;
      target = 'cancelled';
    }
    if (!RunTransitions[before.status].includes(target)) {
      this.deps.log?.warn('ignored status change', { run: runId, from: before.status, to: target });
      return undefined;
    }
    const run = this.store.runs.setStatus(runId, target, { reason, exitCode: detail.exitCode ?? null });
    this.publishRun(run.id);
    this.afterChange(run, reason);
    return run;
  }

  private afterChange(run: Run, reason: string | null): void {
    if (run.status === 'failed') {
      this.alert(run.id, 'run_failed', 'error', `run ${run.name} failed${run.exitCode !== null ? ` with exit code ${run.exitCode}` : ''}${reason ? `: ${reason}` : ''}`);
    }
    if (run.status === 'lost') this.alert(run.id, 'run_lost', 'error', `run ${run.name} was lost: ${reason ?? 'its process is gone without an exit code'}`);
    if (!isTerminal(run.status)) return;
    this.store.intents.closeAll(run.id);
    if ((run.timedOutSince ?? null) !== null) this.store.runs.setTimedOut(run.id, null); // an ended run is not waiting on anything
    for (const listener of this.endListeners) {
      try {
        listener(run);
      } catch (err) {
        this.deps.log?.error('run end listener failed', { run: run.id, error: (err as Error).message });
      }
    }
  }

  /** Why a run is where it is, without a status change ("waiting for 2 free GPUs"). */
  setReason(runId: string, reason: string | null): void {
    const run = this.store.runs.get(runId);
    if (!run || run.statusReason === reason || isTerminal(run.status)) return;
    this.store.runs.setStatusReason(runId, reason);
    this.changed(runId);
  }

  /** Marks the run's host unreachable since `since`, or reachable again (null). */
  setUnreachable(runId: string, since: number | null, reason?: string): void {
    const run = this.store.runs.get(runId);
    if (!run || (since === null) === (run.unreachableSince === null)) return;
    this.store.runs.setUnreachable(runId, since);
    if (reason !== undefined && !isTerminal(run.status)) this.store.runs.setStatusReason(runId, reason);
    this.changed(runId);
  }

  /** Marks that a step on the run's host outran its time-out (the host answers), or clears it. */
  setTimedOut(runId: string, since: number | null, reason?: string): void {
    const run = this.store.runs.get(runId);
    const had = (run?.timedOutSince ?? null) !== null;
    if (!run || (since === null && !had) || (since !== null && had && reason === undefined)) return;
    this.store.runs.setTimedOut(runId, since);
    if (reason !== undefined && !isTerminal(run.status)) this.store.runs.setStatusReason(runId, reason);
    this.changed(runId);
  }

  /** Records an alert once per run and kind, and tells subscribers. Returns false when it had fired before. */
  alert(runId: string, kind: string, severity: Severity, message: string): boolean {
    if (this.store.events.hasAlert(runId, kind)) return false;
    const e = this.store.events.add({ kind, severity, runId, message });
    this.deps.log?.warn('alert', { run: runId, kind, message });
    this.deps.publish('alerts', { id: e.id, kind, severity, runId, message }, runId);
    if (severity !== 'info') this.changed(runId); // the run's alert count, in its row
    return true;
  }

  /** Records an intent before it acts. */
  recordIntent(runId: string, kind: IntentKind, detail: string | null = null): RunIntent {
    return this.store.intents.add(runId, kind, detail);
  }

  /** Records a cancel (once: a second request returns the open one). From now on the run can only end cancelled. */
  requestCancel(runId: string): RunIntent {
    return this.store.intents.open(runId, 'cancel') ?? this.store.intents.add(runId, 'cancel', 'requested');
  }

  /** The run's recorded cancel, if one is open. */
  cancelIntent(runId: string): RunIntent | undefined {
    return this.store.intents.open(runId, 'cancel');
  }

  /** An import into the run begins: `incomplete` ("import in progress") until it has read everything. */
  beginImport(runId: string): Run {
    const before = this.store.runs.get(runId);
    const run = this.store.runs.beginImport(runId);
    if (before?.status !== run.status || before.statusReason !== run.statusReason) this.publishRun(run.id);
    return run;
  }

  /** The import into the run is done: back to `running`, for ingestion to settle. */
  finishImport(runId: string): Run {
    const before = this.store.runs.get(runId);
    const run = this.store.runs.finishImport(runId);
    if (before?.status !== run.status) this.publishRun(run.id);
    return run;
  }

  /** A watched or imported run whose folder shows training ended becomes `succeeded` (through `running` if need be). */
  settleFinished(runId: string, reason: string): void {
    const run = this.store.runs.get(runId);
    if (!run || run.source === 'launch' || isTerminal(run.status)) return;
    if (!RunTransitions[run.status].includes('succeeded')) {
      if (!RunTransitions[run.status].includes('running')) return;
      this.setStatus(runId, 'running');
    }
    this.setStatus(runId, 'succeeded', { reason });
  }

  /**
   * A run whose record stops short of its files: `incomplete`, with the reason, and an event.
   * Best effort: on a full disk even this write may fail (the run keeps its status, which is
   * never `succeeded` for an ingest that stopped). A terminal status stays.
   */
  markIncomplete(runId: string, reason: string): void {
    try {
      const before = this.store.runs.get(runId);
      if (!before) return;
      if (before.status === 'incomplete') this.store.runs.setStatusReason(runId, reason);
      else if (RunTransitions[before.status].includes('incomplete')) this.store.runs.setStatus(runId, 'incomplete', { reason });
      else return;
      this.store.events.add({ kind: 'ingest_stopped', severity: 'error', runId, message: reason });
      this.changed(runId);
    } catch (err) {
      this.deps.log?.error('cannot mark the run incomplete', { run: runId, reason, error: (err as Error).message });
    }
  }
}

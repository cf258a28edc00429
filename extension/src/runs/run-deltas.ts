/**
 * `runs` notifications as deltas. The daemon sends one whenever a run changes — every ingest
 * of a training run, every couple of seconds — and each carries the run's new row. Views keep
 * the rows they show up to date from it and ask the daemon again only when what they show
 * depends on more than the row: a run that is new to them, gone, or in another status (a
 * start or an end moves GPU leases, counts and best values). Pure (no vscode).
 */
import type { NotificationOf, Run, RunStatus, RunSummary } from '../../../daemon/src/protocol/index.ts';

type RunsNote = NotificationOf['runs'];

/** What a `runs` notification is to a view that has seen the statuses before it. */
export type RunChange = 'new' | 'status' | 'row' | 'deleted';

/** The last status a view saw of each run, to tell a status change from a row update. */
export class RunStatusMemory {
  private readonly seen = new Map<string, RunStatus>();

  /** Classifies `n` and remembers its status. */
  classify(n: RunsNote): RunChange {
    if (n.deleted) {
      this.seen.delete(n.runId);
      return 'deleted';
    }
    const before = this.seen.get(n.runId);
    this.seen.set(n.runId, n.status);
    if (before === undefined) return 'new';
    return before === n.status ? 'row' : 'status';
  }

  /** Remembers the statuses of rows just read (a full load), so their next notification is a row update. */
  learn(runs: readonly Pick<RunSummary, 'id' | 'status'>[]): void {
    for (const r of runs) this.seen.set(r.id, r.status);
  }

  /** Forgets everything (after a reconnect the daemon may have changed anything). */
  clear(): void {
    this.seen.clear();
  }
}

/**
 * `list` with the notification's row applied: replaced where the run is, dropped when it was
 * deleted, added when `admit(row)` says it belongs there. Returns the same array when
 * nothing changed, so callers can skip a redraw.
 */
export function applyRunDelta(list: readonly RunSummary[], n: RunsNote, admit: (row: RunSummary) => boolean, opts: { onlyNewer?: boolean } = {}): readonly RunSummary[] {
  const at = list.findIndex((r) => r.id === n.runId);
  if (n.deleted) return at < 0 ? list : list.filter((r) => r.id !== n.runId);
  const row = n.run;
  if (!row) return list;
  if (at >= 0) {
    // A read may be newer than a notification that arrived while it was under way: a status change moves updatedAt.
    if (opts.onlyNewer && row.updatedAt < (list[at] as RunSummary).updatedAt) return list;
    return list.map((r, i) => (i === at ? row : r));
  }
  return admit(row) ? [row, ...list] : list;
}

/**
 * A full read that was under way while notifications arrived, with those applied again where
 * they are not older than what the read found (so a run that ended, was created or was
 * deleted meanwhile is not lost, and a read taken after a notification is not undone by it).
 */
export function replayDeltas(read: readonly RunSummary[], arrived: readonly RunsNote[], admit: (row: RunSummary) => boolean): readonly RunSummary[] {
  return arrived.reduce((list, n) => applyRunDelta(list, n, admit, { onlyNewer: true }), read);
}

/** The run itself from its row (without the summary fields), as runs/get gives it. */
export function runOfRow(row: RunSummary): Run {
  const { lastLoss: _loss, lastStep: _step, alerts: _alerts, lastLossStep: _lossStep, kind: _kind, parentRunId: _parent, overrides: _overrides, ...run } = row;
  return run;
}

/**
 * What the open compare panel shows, and the deltas daemon notifications turn into.
 * Pure: the panel feeds it notifications and posts whatever message comes back.
 */
import type { HostToWebview, MetricPoint, NotificationOf } from '../../../daemon/src/protocol/index.ts';

type MetricsNote = NotificationOf['metrics'];

/** The runs and series on screen; only these produce deltas. */
export class DisplayedSeries {
  private readonly keysByRun = new Map<string, Set<string>>();

  constructor(runIds: readonly string[]) {
    for (const id of runIds) this.keysByRun.set(id, new Set());
  }

  get runIds(): string[] {
    return [...this.keysByRun.keys()];
  }

  hasRun(runId: string): boolean {
    return this.keysByRun.has(runId);
  }

  /** Marks a series as sent to the webview (by init, a zoom, or a later request). */
  add(runId: string, key: string): void {
    this.keysByRun.get(runId)?.add(key);
  }

  removeRun(runId: string): void {
    this.keysByRun.delete(runId);
  }

  shows(runId: string, key: string): boolean {
    return this.keysByRun.get(runId)?.has(key) ?? false;
  }

  /** Keys shown for any run. */
  keys(): Set<string> {
    return new Set([...this.keysByRun.values()].flatMap((s) => [...s]));
  }
}

/**
 * The `seriesAppend` for a `metrics` notification, or undefined when that series is not on
 * screen. A key every displayed run lacks stays hidden until the user asks for it, so a run
 * logging 200 keys does not flood the panel.
 */
export function seriesAppendFor(shown: DisplayedSeries, note: MetricsNote): HostToWebview | undefined {
  if (!shown.shows(note.runId, note.key) || note.points.length === 0) return undefined;
  const points: MetricPoint[] = note.points.map((p) => ({
    step: p.step,
    value: p.value,
    ...(p.special ? { special: p.special } : {}),
    wallTime: p.wallTime ?? null,
  }));
  return { type: 'seriesAppend', runId: note.runId, key: note.key, points };
}

/**
 * Series a new metric key of a displayed run should start: when the key is already on
 * screen for another run (a run that started logging `eval_loss` late), show it for this one too.
 */
export function shouldStartSeries(shown: DisplayedSeries, note: MetricsNote): boolean {
  return shown.hasRun(note.runId) && !shown.shows(note.runId, note.key) && shown.keys().has(note.key);
}

/**
 * Writing metric points for one ingest: in batches (one transaction each, the event loop
 * free between them), under a cap on distinct keys per run, telling live listeners only
 * about points past each series' last step.
 *
 * The key cap exists because one run with 200,000 keys made `runs/get` a 25 MB answer: a
 * run keeps its first {@link MAX_METRIC_KEYS} keys, and points of further keys are dropped
 * with one issue per file naming how many and the cap.
 */
import { setImmediate } from 'node:timers/promises';
import type { MetricInput } from '../../store/index.ts';
import { addIssue, type IngestContext } from './context.ts';

/** Distinct metric keys Keel records per run. */
export const MAX_METRIC_KEYS = 10_000;

/** Points a file could not record because its run already had {@link MAX_METRIC_KEYS} keys. */
export interface DroppedPoints {
  points: number;
  /** Distinct keys dropped (counted up to MAX_METRIC_KEYS) and the first of them, for the message. */
  keys: Set<string>;
  first: string;
}

/**
 * Upserts `points` read from `file` in batches of `ctx.batchSize`, counting them into the
 * report, and yields to the event loop between batches. A store error is thrown as it is
 * (the caller's addErrorIssue turns it into an IngestStoppedError).
 */
export async function writePoints(ctx: IngestContext, file: string, points: readonly MetricInput[]): Promise<void> {
  const admitted = admitKeys(ctx, file, points);
  // Last steps as they were before this ingest wrote anything (read once, then kept up to date here).
  if (ctx.onNewPoints && admitted.length > 0) ctx.lastSteps ??= new Map(ctx.store.metrics.series(ctx.runId).map((s) => [s.key, s.lastStep ?? -Infinity]));
  for (let i = 0; i < admitted.length; i += ctx.batchSize) {
    const batch = admitted.slice(i, i + ctx.batchSize);
    ctx.store.metrics.record(ctx.runId, batch);
    ctx.report.points += batch.length;
    notifyNew(ctx, batch);
    if (i + ctx.batchSize < admitted.length) await setImmediate();
  }
}

/** Adds one issue per file whose points were dropped by the key cap. */
export function reportDroppedKeys(ctx: IngestContext): void {
  for (const [file, d] of ctx.dropped) {
    const keys = d.keys.size >= MAX_METRIC_KEYS ? `${MAX_METRIC_KEYS.toLocaleString('en-US')}+ more keys` : `${d.keys.size.toLocaleString('en-US')} more key${d.keys.size === 1 ? '' : 's'}`;
    addIssue(ctx, file, `${d.points.toLocaleString('en-US')} points of ${keys} (first: "${d.first}") were not recorded: a run keeps at most ${MAX_METRIC_KEYS.toLocaleString('en-US')} metric keys`);
  }
  ctx.dropped.clear();
}

/** The points whose key the run has, or may still take; counts the rest against `file`. */
function admitKeys(ctx: IngestContext, file: string, points: readonly MetricInput[]): readonly MetricInput[] {
  const known = (ctx.metricKeys ??= new Set(ctx.store.metrics.keys(ctx.runId)));
  let out: MetricInput[] | undefined;
  for (let i = 0; i < points.length; i++) {
    const p = points[i] as MetricInput;
    if (known.has(p.key) || (known.size < MAX_METRIC_KEYS && known.add(p.key))) {
      out?.push(p);
      continue;
    }
    out ??= points.slice(0, i);
    let d = ctx.dropped.get(file);
    if (d === undefined) ctx.dropped.set(file, (d = { points: 0, keys: new Set(), first: p.key }));
    d.points++;
    if (d.keys.size < MAX_METRIC_KEYS) d.keys.add(p.key);
  }
  return out ?? points;
}

/** Tells listeners about points past each series' last step (a rewritten trainer_state.json re-upserts its whole history). */
function notifyNew(ctx: IngestContext, batch: readonly MetricInput[]): void {
  const last = ctx.lastSteps;
  if (!ctx.onNewPoints || last === undefined || batch.length === 0) return;
  const fresh = batch.filter((p) => Math.trunc(p.step) > (last.get(p.key) ?? -Infinity));
  if (fresh.length === 0) return;
  for (const p of fresh) if (Math.trunc(p.step) > (last.get(p.key) ?? -Infinity)) last.set(p.key, Math.trunc(p.step));
  ctx.onNewPoints(ctx.runId, fresh);
}

/**
 * Writing metric points for one ingest: under their canonical keys (one series per quantity,
 * the file's own name kept as an alias: track/formats/metric-names.ts), end-of-run values as
 * the run's summary values instead of points, in batches (one transaction each, the event
 * loop free between them), under a cap on distinct keys per run, telling live listeners only
 * about points past each series' last step. Where two files disagree on a step the store
 * keeps the higher-precision value; each file gets one issue saying so.
 *
 * The key cap exists because one run with 200,000 keys made `runs/get` a 25 MB answer: a
 * run keeps its first {@link MAX_METRIC_KEYS} keys, and points of further keys are dropped
 * with one issue per file naming how many and the cap.
 */
import { setImmediate } from 'node:timers/promises';
import type { Disagreement, MetricInput, SummaryInput } from '../../store/index.ts';
import { canonicalMetricKey, describeMetricSource, isSummaryKey, MetricSourceCodes, type MetricSource } from '../formats/metric-names.ts';
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

/** Disagreements between files found while writing one file: counted, the first kept for the message. */
export interface DisagreementNote {
  count: number;
  first: Disagreement;
}

/** How one file's values are written. */
export interface WriteOptions {
  /** Every value is a summary value of the run (`*_results.json`), not a point of a curve. */
  allSummary?: boolean;
}

/**
 * Writes `points` read from `file` (keys as the file wrote them): curve points are upserted
 * under their canonical keys in batches of `ctx.batchSize`, counted into the report, yielding
 * to the event loop between batches; end-of-run values become summary values. A store error
 * is thrown as it is (the caller's addErrorIssue turns it into an IngestStoppedError).
 */
export async function writePoints(ctx: IngestContext, file: string, points: readonly MetricInput[], source: MetricSource, opts: WriteOptions = {}): Promise<void> {
  const { series, summary } = canonical(ctx, points, source, opts.allSummary === true);
  await writeCanonical(ctx, file, series, summary, source);
}

/** Points in columns (a parse worker's batch): `key[i]` indexes `keys`; values as read (NaN, ±Infinity kept). */
export interface PointColumns {
  keys: readonly string[];
  key: ArrayLike<number>;
  step: ArrayLike<number>;
  value: ArrayLike<number>;
}

/**
 * {@link writePoints} for points in columns: each distinct key is named once per batch, and
 * each point becomes one object, under its canonical key (no object per point as read).
 */
export async function writeColumns(ctx: IngestContext, file: string, cols: PointColumns, source: MetricSource): Promise<void> {
  const names = cols.keys.map((k) => ({ raw: k, ...canonicalName(ctx, k, source) }));
  const series: MetricInput[] = [];
  const summary: SummaryInput[] = [];
  for (let i = 0; i < cols.key.length; i++) {
    const name = names[cols.key[i] as number] as { raw: string; key: string; summary: boolean };
    const step = cols.step[i] as number;
    const value = cols.value[i] as number;
    if (name.summary) summary.push({ key: name.key, value, step, ...(name.key !== name.raw ? { sourceKey: name.raw } : {}) });
    else if (name.key === name.raw) series.push({ key: name.key, step, value });
    else series.push({ key: name.key, step, value, sourceKey: name.raw });
  }
  await writeCanonical(ctx, file, series, summary, source);
}

/** The canonical key of `key` as `source` writes it, and whether it is a summary value (cached per ingest). */
function canonicalName(ctx: IngestContext, key: string, source: MetricSource): { key: string; summary: boolean } {
  const bySource = (ctx.keyNames ??= new Map<string, Map<string, { key: string; summary: boolean }>>());
  let names = bySource.get(source);
  if (names === undefined) bySource.set(source, (names = new Map<string, { key: string; summary: boolean }>()));
  let name = names.get(key);
  if (name === undefined) {
    const canonicalKey = canonicalMetricKey(key, source);
    names.set(key, (name = { key: canonicalKey, summary: isSummaryKey(canonicalKey) }));
  }
  return name;
}

/** Writes points already under canonical keys (see {@link writePoints}). */
async function writeCanonical(ctx: IngestContext, file: string, series: readonly MetricInput[], summary: readonly SummaryInput[], source: MetricSource): Promise<void> {
  const onDisagreement = (d: Disagreement): void => noteDisagreement(ctx, file, d);
  if (summary.length > 0) ctx.report.points += ctx.store.summaries.record(ctx.runId, summary, MetricSourceCodes[source], onDisagreement);
  const admitted = admitKeys(ctx, file, series);
  // Last steps as they were before this ingest wrote anything (read once, then kept up to date here).
  if (ctx.onNewPoints && admitted.length > 0) ctx.lastSteps ??= new Map(ctx.store.metrics.series(ctx.runId).map((s) => [s.key, s.lastStep ?? -Infinity]));
  for (let i = 0; i < admitted.length; i += ctx.batchSize) {
    const batch = admitted.slice(i, i + ctx.batchSize);
    ctx.store.metrics.record(ctx.runId, batch, { source: MetricSourceCodes[source], onDisagreement });
    ctx.report.points += batch.length;
    notifyNew(ctx, batch);
    if (i + ctx.batchSize < admitted.length) await setImmediate();
  }
}

/** Splits points into curve points and summary values, under canonical keys (names cached per ingest). */
function canonical(ctx: IngestContext, points: readonly MetricInput[], source: MetricSource, allSummary: boolean): { series: MetricInput[]; summary: SummaryInput[] } {
  const series: MetricInput[] = [];
  const summary: SummaryInput[] = [];
  for (const p of points) {
    const name = canonicalName(ctx, p.key, source);
    if (allSummary || name.summary) {
      summary.push({ key: name.key, value: p.value, step: p.step, ...(name.key !== p.key ? { sourceKey: p.key } : {}), ...(p.bits !== undefined ? { bits: p.bits } : {}) });
    } else {
      if (name.key === p.key) {
        series.push(p);
        continue;
      }
      const renamed: MetricInput = { key: name.key, step: p.step, value: p.value, wallTime: p.wallTime ?? null, sourceKey: p.key };
      if (p.bits !== undefined) renamed.bits = p.bits;
      series.push(renamed);
    }
  }
  return { series, summary };
}

function noteDisagreement(ctx: IngestContext, file: string, d: Disagreement): void {
  const notes = (ctx.disagreements ??= new Map<string, DisagreementNote>());
  const note = notes.get(file);
  if (note === undefined) notes.set(file, { count: 1, first: d });
  else note.count++;
}

/** Adds one issue per file whose points were dropped by the key cap, and one per file that disagreed with another. */
export function reportDroppedKeys(ctx: IngestContext): void {
  for (const [file, d] of ctx.dropped) {
    const keys = d.keys.size >= MAX_METRIC_KEYS ? `${MAX_METRIC_KEYS.toLocaleString('en-US')}+ more keys` : `${d.keys.size.toLocaleString('en-US')} more key${d.keys.size === 1 ? '' : 's'}`;
    addIssue(ctx, file, `${d.points.toLocaleString('en-US')} points of ${keys} (first: "${d.first}") were not recorded: a run keeps at most ${MAX_METRIC_KEYS.toLocaleString('en-US')} metric keys`);
  }
  ctx.dropped.clear();
  for (const [file, note] of ctx.disagreements ?? []) {
    const d = note.first;
    const at = d.step === null ? '' : ` at step ${d.step}`;
    const more = note.count > 1 ? ` (and ${(note.count - 1).toLocaleString('en-US')} more value${note.count === 2 ? '' : 's'})` : '';
    addIssue(ctx, file, `${d.key}${at} is ${d.dropped} here but ${d.kept} in ${describeMetricSource(d.keptSource)}${more}; `
      + `Keel keeps the more precise value (${describeMetricSource(d.keptSource)}'s) and shows the series once`);
  }
  ctx.disagreements?.clear();
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
    if (d === undefined) ctx.dropped.set(file, (d = { points: 0, keys: new Set(), first: p.sourceKey ?? p.key }));
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

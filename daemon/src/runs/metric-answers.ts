/**
 * The metric parts of run answers, bounded so normal use never nears the 16 MiB frame
 * limit: a run shows at most {@link MAX_SERIES_SHOWN} series (losses and eval metrics first,
 * the rest paged by `metrics/list`), and one series answer carries at most
 * {@link MAX_POINTS_PER_ANSWER} points (min/max per bucket beyond that).
 */
import { ErrorCode, RpcError, type ParamsOf, type ResultOf, type Run } from '../protocol/index.ts';
import type { Store } from '../store/index.ts';
import { metricKeyCandidates } from '../track/formats/metric-names.ts';

/** Series summaries in one `runs/get` or `runs/compare` answer (~200 bytes each). */
export const MAX_SERIES_SHOWN = 500;
/** Points in one `metrics/get` answer (~60 bytes each, so ~6 MB). */
export const MAX_POINTS_PER_ANSWER = 100_000;
/** Series per `metrics/list` page when the caller names no limit. */
const DEFAULT_PAGE = 1_000;

/** The series `runs/get` shows, and how many the run has. */
export function shownSeries(store: Store, runId: string): Pick<ResultOf['runs/get'], 'metrics' | 'metricsTotal'> {
  return { metrics: store.metrics.seriesFirst(runId, MAX_SERIES_SHOWN), metricsTotal: store.metrics.seriesCount(runId) };
}

/** `metrics/get`: one series, downsampled to at most min(maxPoints, MAX_POINTS_PER_ANSWER) points. */
export function metricPoints(store: Store, run: Run, params: ParamsOf<'metrics/get'>): ResultOf['metrics/get'] {
  const { maxPoints, fromStep, toStep } = params;
  // A quantity asked for by another of its names (`loss`, `eval_loss`) is its canonical series.
  const key = store.metrics.resolveKey(run.id, params.key) ?? params.key;
  const range = { ...(fromStep !== undefined ? { fromStep } : {}), ...(toStep !== undefined ? { toStep } : {}) };
  const r = store.metrics.downsample(run.id, key, Math.min(maxPoints ?? 2000, MAX_POINTS_PER_ANSWER), range);
  if (r.total === 0 && !store.metrics.hasSeries(run.id, key)) {
    const total = store.metrics.seriesCount(run.id);
    const some = store.metrics.seriesFirst(run.id, 20).map((s) => s.key);
    const more = total > some.length ? ` and ${total - some.length} more (\`keel metrics ${run.id}\` lists them)` : '';
    const summaryKey = metricKeyCandidates(key).find((k) => store.summaries.has(run.id, k));
    const summary = summaryKey === undefined ? '' : ` ("${summaryKey}" is an end-of-run summary value, not a curve: \`keel run show ${run.id}\` lists it)`;
    throw new RpcError(ErrorCode.NotFound, `run ${run.name} has no metric "${key}"${summary}${some.length ? `; it has: ${some.join(', ')}${more}` : ''}`);
  }
  return { runId: run.id, key, ...r };
}

/** `metrics/list`: a page of the run's series by key. */
export function metricsPage(store: Store, run: Run, params: ParamsOf<'metrics/list'>): ResultOf['metrics/list'] {
  const offset = params.offset ?? 0;
  const page = { offset, limit: params.limit ?? DEFAULT_PAGE, ...(params.prefix !== undefined ? { prefix: params.prefix } : {}) };
  return { runId: run.id, total: store.metrics.seriesCount(run.id, params.prefix), offset, series: store.metrics.seriesPage(run.id, page) };
}

/**
 * Curves as the compare panel's host posts them to its webview: columns instead of one
 * object per point. `{"step":12345,"value":0.52,"wallTime":1760000123.5}` repeats its three
 * names for every point; columns say each value once and steps (integers) as differences
 * from the previous one. The init of 10 runs × 2,000 points shrinks by about 40 %, and every
 * hop (extension host → workbench → webview) parses that much less before the first chart.
 * Lossless: values and wall times are sent as they are. Pure, used on both sides.
 */
import type { MetricPoint } from './domain.ts';
import type { HostToWebview, SeriesPayload } from './webview.ts';

/** A SeriesPayload in columns. */
export interface PackedSeries {
  runId: string;
  key: string;
  total: number;
  downsampled: boolean;
  /** The first step, then each step minus the one before. */
  steps: number[];
  /** null for NaN/±Inf (named in `specials`) and for missing values. */
  values: (number | null)[];
  /** Per point; null when no point has one. */
  wallTimes: (number | null)[] | null;
  /** Index → special of points whose value is NaN/±Inf. */
  specials?: Record<string, NonNullable<MetricPoint['special']>>;
}

export function packSeries(s: SeriesPayload): PackedSeries {
  const steps: number[] = [];
  const values: (number | null)[] = [];
  const wallTimes: (number | null)[] = [];
  const specials: Record<string, NonNullable<MetricPoint['special']>> = {};
  let anyTime = false;
  let prev = 0;
  s.points.forEach((p, i) => {
    steps.push(i === 0 ? p.step : p.step - prev);
    prev = p.step;
    values.push(typeof p.value === 'number' && Number.isFinite(p.value) ? p.value : null);
    if (p.special) specials[i] = p.special;
    wallTimes.push(p.wallTime);
    if (p.wallTime !== null) anyTime = true;
  });
  return {
    runId: s.runId, key: s.key, total: s.total, downsampled: s.downsampled, steps, values,
    wallTimes: anyTime ? wallTimes : null, ...(Object.keys(specials).length ? { specials } : {}),
  };
}

const isNumArray = (x: unknown): x is number[] => Array.isArray(x) && x.every((v) => typeof v === 'number');
const isNullableNumArray = (x: unknown): x is (number | null)[] => Array.isArray(x) && x.every((v) => v === null || typeof v === 'number');
const SPECIALS = new Set(['nan', 'inf', '-inf']);

/** The points back, or null when `x` is not a well-formed PackedSeries (the caller reports it). */
export function unpackSeries(x: unknown): SeriesPayload | null {
  if (typeof x !== 'object' || x === null) return null;
  const p = x as Partial<PackedSeries>;
  if (typeof p.runId !== 'string' || typeof p.key !== 'string' || typeof p.total !== 'number' || typeof p.downsampled !== 'boolean') return null;
  if (!isNumArray(p.steps) || !isNullableNumArray(p.values) || p.values.length !== p.steps.length) return null;
  if (p.wallTimes !== null && !(isNullableNumArray(p.wallTimes) && p.wallTimes.length === p.steps.length)) return null;
  const specials = p.specials ?? {};
  if (typeof specials !== 'object' || Object.values(specials).some((k) => !SPECIALS.has(k))) return null;
  const points: MetricPoint[] = [];
  let step = 0;
  for (let i = 0; i < p.steps.length; i++) {
    step = i === 0 ? (p.steps[0] as number) : step + (p.steps[i] as number);
    const special = specials[i];
    points.push({ step, value: p.values[i] ?? null, wallTime: p.wallTimes?.[i] ?? null, ...(special ? { special } : {}) });
  }
  return { runId: p.runId, key: p.key, total: p.total, downsampled: p.downsampled, points };
}

/** A host message as posted: curves (init, series, seriesBatch) in columns as `packedSeries`. */
export function packMessage(m: HostToWebview): unknown {
  switch (m.type) {
    case 'init': {
      const { series, ...rest } = m;
      return { ...rest, packedSeries: series.map(packSeries) };
    }
    case 'seriesBatch':
      return { type: m.type, packedSeries: m.series.map(packSeries) };
    case 'series':
      return { type: m.type, packedSeries: [packSeries(m.series)] };
    default:
      return m;
  }
}

/**
 * A posted message with its curves as points again (what packMessage made, or any message
 * without `packedSeries` as it is). A malformed curve leaves the message without `series`,
 * so the webview's check drops and reports it.
 */
export function unpackMessage(x: unknown): unknown {
  if (typeof x !== 'object' || x === null || !('packedSeries' in x)) return x;
  const { packedSeries, ...rest } = x as { packedSeries: unknown; type?: unknown };
  const series = Array.isArray(packedSeries) ? packedSeries.map(unpackSeries) : [null];
  if (series.some((s) => s === null)) return rest;
  return rest.type === 'series' ? { ...rest, series: series[0] } : { ...rest, series };
}

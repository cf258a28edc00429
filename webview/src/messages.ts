/**
 * Incoming postMessage payloads, checked at the edge: anything that is not a host message
 * of a known type with the fields its handler reads is dropped (and reported), never half-used.
 */
import type { HostToWebview } from '../../daemon/src/protocol/webview.ts';

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStr = (x: unknown): x is string => typeof x === 'string';

const isComparison = (x: unknown): boolean =>
  isObj(x) && Array.isArray(x.runs) && isObj(x.params) && Array.isArray(x.params.differ) && Array.isArray(x.metrics) && Array.isArray(x.evals);
const isSeries = (x: unknown): boolean => isObj(x) && isStr(x.runId) && isStr(x.key) && Array.isArray(x.points);
const isGraph = (x: unknown): boolean =>
  isObj(x) && isObj(x.root) && Array.isArray(x.ancestors) && Array.isArray(x.descendants) && Array.isArray(x.edges);
const isRun = (x: unknown): boolean => isObj(x) && isStr(x.id) && isStr(x.name) && isStr(x.status);
const isFocus = (x: unknown): boolean => isObj(x) && isStr(x.kind) && isStr(x.id);

/** The message as a HostToWebview, or an explanation of why it is not one. */
export function parseHostMessage(x: unknown): { message: HostToWebview } | { error: string } {
  if (!isObj(x) || !isStr(x.type)) return { error: 'not a message' };
  const ok = ((): boolean => {
    switch (x.type) {
      case 'init': return isObj(x.state) && isComparison(x.comparison) && Array.isArray(x.series) && x.series.every(isSeries);
      case 'seriesAppend': return isSeries(x);
      case 'series': return isSeries(x.series);
      case 'seriesBatch': return Array.isArray(x.series) && x.series.every(isSeries);
      case 'runUpdate': return isRun(x.run);
      case 'comparison': return isComparison(x.comparison);
      case 'lineage': return isStr(x.runId) && (x.graph === null || isGraph(x.graph)) && (x.focus === undefined || isFocus(x.focus));
      case 'runRemoved': return isStr(x.runId);
      case 'error': return isStr(x.message);
      default: return false;
    }
  })();
  return ok ? { message: x as unknown as HostToWebview } : { error: `malformed or unknown message "${x.type}"` };
}

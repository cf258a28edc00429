/**
 * Messages between the extension host and the compare panel's webview (postMessage).
 * Both sides import these types; the webview never talks to the daemon directly.
 * The webview says `ready` before the host sends anything; after `init` only deltas flow.
 */
import type { LineageGraph, MetricPoint, RecordKind, Run, RunComparison } from './domain.ts';

/** What the panel remembers across reloads (VS Code's webview state / serializer). */
export interface ComparePanelState {
  runIds: string[];
  xAxis: 'step' | 'time';
  /** Exponential moving average weight, 0 (off) … 0.99. */
  smoothing: number;
  logScale: boolean;
  showAllParams: boolean;
  baselineRunId: string | null;
  /** Metric keys whose charts are shown (empty = the default charts: losses, eval metrics, training signals). */
  selectedKeys: string[];
  /** The section (tab) on show; absent = metric curves. */
  section?: 'metrics' | 'config' | 'evals' | 'lineage';
  /** The lineage node whose details are shown (`kind:id`); absent = none selected. */
  selectedNode?: string;
  /** Runs the legend hides from the charts; absent = none. */
  hiddenRunIds?: string[];
  /** `sweep` or `param:<key>`: runs drawn as one mean line with a min–max band per group; absent = each run its own line. */
  groupBy?: string;
  /** The best/last table's order: `name`, `status` or `<key>:best` / `<key>:last`. */
  tableSort?: { column: string; descending: boolean };
}

/** A record in the lineage graph, by kind and id (what "Show Lineage" asked about). */
export interface LineageFocus {
  kind: RecordKind;
  id: string;
}

export const defaultPanelState = (runIds: string[]): ComparePanelState => ({
  runIds, xAxis: 'step', smoothing: 0, logScale: false, showAllParams: false, baselineRunId: runIds[0] ?? null, selectedKeys: [],
});

/** One curve: a run's series for one key (downsampled by the daemon to min/max per bucket). */
export interface SeriesPayload {
  runId: string;
  key: string;
  points: MetricPoint[];
  total: number;
  downsampled: boolean;
}

/** Extension host → webview. */
export type HostToWebview =
  | { type: 'init'; state: ComparePanelState; comparison: RunComparison; series: SeriesPayload[] }
  /** New points of a running run's series (append; replaces points at equal steps). */
  | { type: 'seriesAppend'; runId: string; key: string; points: MetricPoint[] }
  /** A whole series again (after a zoom or a resync). */
  | { type: 'series'; series: SeriesPayload }
  /** Several whole series at once (every run's curve of one key, streamed after init): one redraw. */
  | { type: 'seriesBatch'; series: SeriesPayload[] }
  | { type: 'runUpdate'; run: Run }
  | { type: 'comparison'; comparison: RunComparison }
  /** A lineage graph (of `runId`, or of the record "Show Lineage" asked about); `focus` selects and reveals that node. */
  | { type: 'lineage'; runId: string; graph: LineageGraph | null; focus?: LineageFocus }
  | { type: 'runRemoved'; runId: string }
  | { type: 'error'; message: string };

/** Webview → extension host. */
export type WebviewToHost =
  /** The page loaded; `embeddedInit`: it drew the init the host put in its HTML (no `init` message wanted). */
  | { type: 'ready'; embeddedInit?: boolean }
  /** The first chart after `init` is drawn (or there is none to draw): the host streams the other curves now. */
  | { type: 'painted' }
  /** Re-fetch a series at a finer resolution for a step range (zoom). */
  | { type: 'requestSeries'; runId: string; key: string; maxPoints: number; fromStep?: number; toStep?: number }
  /** Open VS Code's diff editor between two runs' effective configs, at `key`. */
  | { type: 'openConfigDiff'; key: string; leftRunId: string; rightRunId: string }
  | { type: 'openRun'; runId: string }
  | { type: 'requestLineage'; runId: string }
  /** Open a file (or reveal a folder) a lineage node names: a config, a checkpoint, a results file. */
  | { type: 'openPath'; path: string }
  /** Open the lineage view of another record (a node's own graph, focused on it). */
  | { type: 'showLineage'; ref: string }
  | { type: 'stateChanged'; state: ComparePanelState };

/** Narrow an unknown postMessage payload to a WebviewToHost (the host validates before use). */
export function isWebviewToHost(x: unknown): x is WebviewToHost {
  if (typeof x !== 'object' || x === null) return false;
  const t = (x as { type?: unknown }).type;
  return typeof t === 'string' && ['ready', 'painted', 'requestSeries', 'openConfigDiff', 'openRun', 'requestLineage', 'openPath', 'showLineage', 'stateChanged'].includes(t);
}

/**
 * The compare panel's webview: says `ready`, renders on `init`, then applies deltas.
 * Sections are tabs (Metric curves, Config diff, Evals, Lineage); the view state lives in
 * VS Code's webview state and changes the user makes are posted as `stateChanged`.
 */
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import type { LineageGraph, RunComparison } from '../../daemon/src/protocol/domain.ts';
import type { ComparePanelState, HostToWebview } from '../../daemon/src/protocol/webview.ts';
import { unpackMessage } from '../../daemon/src/protocol/series-pack.ts';
import { renderConfigDiff } from './config-diff.ts';
import { h, keepFocus } from './dom.ts';
import { renderEvals } from './evals.ts';
import { headerFocusFallback, renderHeader } from './header.ts';
import { layoutLineage, mergeGraphs, nodeKey } from './lineage-graph.ts';
import { labelContext } from './lineage-labels.ts';
import { renderLineage, selectNode, type LineageView } from './lineage-view.ts';
import { parseHostMessage } from './messages.ts';
import { MetricsView } from './metrics-view.ts';
import { SeriesStore } from './series-store.ts';
import { initialState, PanelState, parsePanelState, Sections, type Section } from './state.ts';
import { PALETTE_SIZE } from './palette.ts';
import { applyRunColors, readTheme, watchTheme, type ChartTheme } from './theme.ts';
import { vscode } from './vscode-api.ts';

// Marks the e2e suite and a profiler read: how long the page took to start, to init, to the first chart.
performance.mark('keel-script');
const api = vscode();
const saved = parsePanelState(api.getState());
const store = new SeriesStore();
const graphs = new Map<string, LineageGraph | null>();
const lineageAsked = new Set<string>();
/** The lineage as last drawn (selection changes reuse it). */
let lineageView: LineageView | null = null;
/**
 * A node "Show Lineage" asked about is kept in view as the runs' graphs arrive and the
 * layout grows, until the user scrolls, clicks or types in the section.
 */
let pendingReveal = false;
const colorSlots = new Map<string, number>();
const removed: string[] = [];
let comparison: RunComparison | null = null;
let state: PanelState | null = null;
/** The theme's colours, with as many run colours as runs were seen (made at init: the palette's pick is work the page's start need not do). */
let theme: ChartTheme | null = null;
/**
 * The theme, read again when the runs seen outgrow its run colours: grown to the next power of
 * two, so runs added one at a time rebuild it a handful of times, not once each (a shorter
 * palette is the start of a longer one, so no run's colour changes).
 */
function currentTheme(): ChartTheme {
  const colors = Math.min(PALETTE_SIZE, 2 ** Math.ceil(Math.log2(Math.max(1, colorSlots.size))));
  if (!theme || theme.series.length < colors) {
    theme = readTheme(colors);
    applyRunColors(theme);
  }
  return theme;
}
let initAt = 0;
let firstChartMs: number | null = null;

const sectionTitles: Record<Section, string> = { metrics: 'Metric curves', config: 'Config diff', evals: 'Evals', lineage: 'Lineage' };
const header = h('header', { class: 'runs-header' });
const errorBar = h('div', { class: 'error-bar', attrs: { role: 'alert' } });
const waiting = h('p', { class: 'empty', text: 'Loading the comparison…' });
const panels = Object.fromEntries(Sections.map((s) => [s, h('section', { class: `section section-${s}`, attrs: { 'aria-label': sectionTitles[s] } })])) as Record<Section, HTMLElement>;
const tabs = h('vscode-tabs', { class: 'sections' },
  ...Sections.map((s) => h('vscode-tab-header', { attrs: { slot: 'header', 'data-section': s }, text: sectionTitles[s] })),
  ...Sections.map((s) => h('vscode-tab-panel', {}, panels[s])));
tabs.hidden = true;
errorBar.hidden = true;
(document.getElementById('app') ?? document.body).append(header, errorBar, waiting, tabs);

const noComparison: RunComparison = { runs: [], params: { differ: [], equal: 0, equalParams: {} }, metrics: [], evals: [] };
const current = (): ComparePanelState => {
  if (!state) throw new Error('the panel has no state before init');
  return state.value;
};
const runIndex = (runId: string): number => {
  if (!colorSlots.has(runId)) colorSlots.set(runId, colorSlots.size);
  return colorSlots.get(runId) ?? 0;
};

const metrics = new MetricsView(panels.metrics, {
  state: current,
  change: (patch) => state?.update(patch, true),
  comparison: () => comparison ?? noComparison,
  runIndex,
  store,
  theme: currentTheme,
  post: (m) => api.postMessage(m),
  onFirstDraw: () => {
    if (firstChartMs !== null) return;
    performance.mark('keel-first-chart');
    // In the frame the chart is painted: what the e2e suite and the bench wait for (a selector, like any page).
    document.body.setAttribute('data-keel-first-chart', '');
    firstChartMs = performance.now() - initAt;
    api.postMessage({ type: 'painted' });
  },
});

function renderHeaderSection(): void {
  if (!comparison || !state) return;
  const runs = comparison.runs;
  const baselineRunId = state.value.baselineRunId;
  keepFocus(() => renderHeader(header, {
    runs, runIndex, baselineRunId, removed,
    onBaseline: (runId) => state?.update({ baselineRunId: runId }, true),
    onOpenRun: (runId) => api.postMessage({ type: 'openRun', runId }),
  }), headerFocusFallback);
}

function renderConfig(): void {
  if (!comparison || !state) return;
  const c = comparison;
  const s = state.value;
  keepFocus(() => renderConfigDiff(panels.config, {
    comparison: c, baselineRunId: s.baselineRunId, showAll: s.showAllParams, runIndex,
    onShowAll: (showAll) => state?.update({ showAllParams: showAll }, true),
    onOpenDiff: (t) => api.postMessage({ type: 'openConfigDiff', ...t }),
  }));
}

/** The lineage view's actions: selecting a node (kept in the state), and what its details panel links to. */
const lineageActions = {
  select: (key: string, reveal = false): void => {
    if (!state) return;
    state.update({ selectedNode: key }, true);
    if (lineageView) {
      lineageView = { ...lineageView, selected: key, reveal };
      selectNode(panels.lineage, lineageView);
    }
  },
  openRun: (runId: string): void => api.postMessage({ type: 'openRun', runId }),
  openPath: (path: string): void => api.postMessage({ type: 'openPath', path }),
  showLineage: (ref: string): void => api.postMessage({ type: 'showLineage', ref }),
};

function renderLineageSection(): void {
  if (!comparison) return;
  const ids = comparison.runs.map((r) => r.id);
  for (const id of ids) {
    if (graphs.has(id) || lineageAsked.has(id)) continue;
    lineageAsked.add(id);
    api.postMessage({ type: 'requestLineage', runId: id });
  }
  const known = [...graphs.values()].filter((g): g is LineageGraph => !!g);
  if (known.length === 0 && ids.some((id) => !graphs.has(id))) {
    panels.lineage.replaceChildren(h('p', { class: 'empty', text: 'Loading lineage…' }));
    return;
  }
  const { nodes, edges } = mergeGraphs(known);
  const layout = layoutLineage(nodes, edges);
  const wanted = state?.value.selectedNode ?? null;
  const selected = wanted !== null && layout.nodes.some((p) => p.key === wanted) ? wanted : null;
  const scroller = panels.lineage.querySelector('.lineage-scroll');
  const scrolled = scroller ? { top: scroller.scrollTop, left: scroller.scrollLeft } : null;
  const reveal = pendingReveal && selected !== null;
  lineageView = { layout, edges, labels: labelContext(nodes, edges), selected, reveal, actions: { ...lineageActions, select: (key) => lineageActions.select(key, true) } };
  keepFocus(() => renderLineage(panels.lineage, lineageView as LineageView));
  if (!reveal && scrolled) panels.lineage.querySelector('.lineage-scroll')?.scrollTo(scrolled.left, scrolled.top);
}
for (const type of ['pointerdown', 'wheel', 'keydown'] as const) {
  panels.lineage.addEventListener(type, () => { pendingReveal = false; }, { passive: true });
}

function showSection(section: Section): void {
  (tabs as HTMLElement & { selectedIndex: number }).selectedIndex = Sections.indexOf(section);
  if (section === 'lineage') renderLineageSection();
}

/**
 * Runs `fn` once the next frame is painted (a frame, then a task), or after 200 ms when no
 * frame comes (a page the browser does not paint): what the first chart need not wait for.
 */
function afterPaint(fn: () => void): void {
  let done = false;
  const run = (): void => {
    if (done) return;
    done = true;
    clearTimeout(fallback);
    fn();
  };
  const fallback = setTimeout(run, 200);
  requestAnimationFrame(() => setTimeout(run, 0));
}

/** Renders every section; `firstPaint`: the curves section (the first chart) first, the sections behind other tabs and the tables under the charts after its frame. */
function renderAll(firstPaint = false): void {
  if (!comparison || !state) return;
  // Every run has its colour slot (and the theme its colour) before anything names a run.
  comparison.runs.forEach((r) => runIndex(r.id));
  currentTheme();
  waiting.hidden = true;
  tabs.hidden = false;
  renderHeaderSection();
  const section = state.value.section ?? 'metrics';
  const others = (): void => {
    if (!comparison || !state) return;
    renderConfig();
    renderEvals(panels.evals, comparison, state.value.baselineRunId, runIndex);
  };
  const deferred = firstPaint && section === 'metrics';
  if (!deferred) others();
  metrics.render(deferred ? afterPaint : undefined);
  showSection(section);
  if (deferred) afterPaint(others);
}

function onStateChange(s: ComparePanelState, changed: (keyof ComparePanelState)[], previousSmoothing: number): void {
  if (changed.includes('baselineRunId')) {
    renderHeaderSection();
    if (comparison) renderEvals(panels.evals, comparison, s.baselineRunId, runIndex);
  }
  if (changed.includes('baselineRunId') || changed.includes('showAllParams')) renderConfig();
  metrics.stateChanged(changed, previousSmoothing);
}

function init(msg: Extract<HostToWebview, { type: 'init' }>): void {
  performance.mark('keel-init');
  initAt = performance.now();
  firstChartMs = null;
  errorBar.hidden = true;
  comparison = msg.comparison;
  comparison.runs.forEach((r) => runIndex(r.id));
  store.load(msg.series);
  const ids = comparison.runs.map((r) => r.id);
  const sink = { setState: (s: unknown) => api.setState(s), postMessage: (m: Parameters<typeof api.postMessage>[0]) => api.postMessage(m) };
  state = new PanelState(sink, initialState(saved, msg.state, ids));
  state.reset(state.value);
  let smoothing = state.value.smoothing;
  state.onChange((s, changed) => {
    onStateChange(s, changed, smoothing);
    smoothing = s.smoothing;
  });
  renderAll(true);
  performance.mark('keel-rendered');
  // Nothing to draw first (another section, no shared metric): the host need not wait.
  if (state.value.section !== undefined && state.value.section !== 'metrics' || !metrics.hasCharts()) api.postMessage({ type: 'painted' });
}

function onRunRemoved(runId: string): void {
  if (!comparison || !state) return;
  comparison = { ...comparison, runs: comparison.runs.filter((r) => r.id !== runId) };
  store.removeRun(runId);
  graphs.delete(runId);
  removed.push(runId);
  const runIds = comparison.runs.map((r) => r.id);
  const baselineRunId = state.value.baselineRunId === runId ? (runIds[0] ?? null) : state.value.baselineRunId;
  state.update({ runIds, baselineRunId }, false);
  renderAll();
}

function handle(msg: HostToWebview): void {
  if (msg.type === 'init') return init(msg);
  if (msg.type === 'error') {
    errorBar.textContent = msg.message;
    errorBar.hidden = false;
    return;
  }
  if (!comparison || !state) return; // deltas before init mean nothing
  switch (msg.type) {
    case 'seriesAppend':
      store.append(msg.runId, msg.key, msg.points);
      return metrics.changed(msg.key);
    case 'series':
      store.replace(msg.series);
      return metrics.changed(msg.series.key);
    case 'seriesBatch':
      for (const s of msg.series) store.replace(s);
      for (const key of new Set(msg.series.map((s) => s.key))) metrics.changed(key);
      return;
    case 'runUpdate':
      comparison = { ...comparison, runs: comparison.runs.map((r) => (r.id === msg.run.id ? msg.run : r)) };
      return renderHeaderSection();
    case 'comparison':
      comparison = msg.comparison;
      return renderAll();
    case 'lineage':
      graphs.set(msg.runId, msg.graph);
      if (msg.focus) {
        // "Show Lineage" on a record: that node is selected and scrolled to.
        pendingReveal = true;
        state.update({ section: 'lineage', selectedNode: nodeKey(msg.focus.kind, msg.focus.id) }, false);
        showSection('lineage');
        return;
      }
      if (current().section === 'lineage') renderLineageSection();
      return;
    case 'runRemoved':
      return onRunRemoved(msg.runId);
  }
}

function receive(data: unknown): boolean {
  const parsed = parseHostMessage(unpackMessage(data));
  if ('message' in parsed) handle(parsed.message);
  else console.warn(`keel: ignored a message: ${parsed.error}`);
  return 'message' in parsed;
}

/**
 * The init the host put in the page (html.ts) when it had it before making the page: drawn
 * now, without the `ready` → `init` round trip. A malformed one is ignored (the host then
 * sends `init` as usual).
 */
function embeddedInit(): boolean {
  const el = document.getElementById('keel-init');
  if (!el) return false;
  el.remove();
  let data: unknown;
  try {
    data = JSON.parse(el.textContent ?? '');
  } catch (err) {
    console.warn(`keel: ignored the page's init: ${(err as Error).message}`);
    return false;
  }
  return (data as { type?: unknown } | null)?.type === 'init' && receive(data);
}

window.addEventListener('message', (ev: MessageEvent<unknown>) => void receive(ev.data));
tabs.addEventListener('vsc-tabs-select', (ev) => {
  const section = Sections[(ev as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex];
  if (!section || !state) return;
  state.update({ section }, true);
  if (section === 'lineage') renderLineageSection();
});
watchTheme(() => {
  theme = null;
  currentTheme();
  metrics.redrawAll(true);
});

if (new URLSearchParams(location.search).has('test')) {
  Object.assign(window, { __keelDebug: { charts: () => metrics.debug(), firstChartMs: () => firstChartMs, state: () => state?.value ?? null, lineage: () => lineageView?.layout ?? null } });
}
const drawn = embeddedInit();
performance.mark('keel-ready');
api.postMessage(drawn ? { type: 'ready', embeddedInit: true } : { type: 'ready' });

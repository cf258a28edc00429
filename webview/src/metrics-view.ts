/**
 * The metric curves section: the toolbar (with the metric picker), the run legend, one chart
 * per shown quantity (a run's train and eval curves of it together), then the end-of-run
 * summary values as a table. Charts are made when they scroll into view (a 40-metric GRPO
 * run must not draw 40 canvases up front), redrawn in the next frame after live points
 * arrive, and rebuilt on theme changes.
 */
import type { Run, RunComparison } from '../../daemon/src/protocol/domain.ts';
import type { ComparePanelState, WebviewToHost } from '../../daemon/src/protocol/webview.ts';
import { MetricChart, type ChartLine } from './charts.ts';
import { clear, h, keepFocus } from './dom.ts';
import { formatCount } from './format.ts';
import { chartKeys, type ChartGroup } from './metric-keys.ts';
import { metricsToolbar } from './metrics-controls.ts';
import { bestLastTable } from './best-last-table.ts';
import { runLegendSection } from './legend.ts';
import { bandOf, groupRuns, type RunGroup } from './run-groups.ts';
import { alignTo, buildChartData, logSafe, stepRange, type ChartData } from './series.ts';
import { summaryTable } from './summary-table.ts';
import { usageTable } from './usage-table.ts';
import type { SeriesStore } from './series-store.ts';
import type { ChartTheme } from './theme.ts';
import { plural } from '../../daemon/src/protocol/format.ts';

/** Points a zoomed refetch asks for. */
export const ZoomPoints = 2000;

export interface MetricsContext {
  state(): ComparePanelState;
  change(patch: Partial<ComparePanelState>): void;
  comparison(): RunComparison;
  /** Colour slot of each run (stable while the panel lives). */
  runIndex(runId: string): number;
  store: SeriesStore;
  theme(): ChartTheme;
  post(msg: WebviewToHost): void;
  onFirstDraw(key: string): void;
}

interface Slot {
  group: ChartGroup;
  el: HTMLElement;
  note: HTMLElement;
  chart: MetricChart | null;
  visible: boolean;
}

/** Whether the first chart's build was marked (for the bench's timeline; once per page). */
let chartBuildMarked = false;

export class MetricsView {
  private readonly root: HTMLElement;
  private readonly ctx: MetricsContext;
  /** Charts by group id. */
  private readonly slots = new Map<string, Slot>();
  /** Metric key → the group id of its chart. */
  private readonly groupOfKey = new Map<string, string>();
  /** The metric picker's search text. */
  private filter = '';
  /** The legend's run search text. */
  private runQuery = '';
  /** The legend and the best/last table as last rendered (updated in place when runs are shown or hidden). */
  private legend: { update(hidden: ReadonlySet<string>): void } | null = null;
  private table: HTMLElement | null = null;
  private readonly dirty = new Set<string>();
  /** Counts renders (a deferred part of an older one is dropped). */
  private generation = 0;
  private frame = 0;
  private preview: number | null = null;
  private readonly seen: IntersectionObserver;

  constructor(root: HTMLElement, ctx: MetricsContext) {
    this.root = root;
    this.ctx = ctx;
    this.seen = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const key = (e.target as HTMLElement).dataset.key;
        const slot = key === undefined ? undefined : this.slots.get(key);
        if (!slot) continue;
        slot.visible = e.isIntersecting;
        if (e.isIntersecting && !slot.chart) this.draw(slot);
      }
    }, { rootMargin: '300px 0px' });
  }

  private runs(): Run[] {
    return this.ctx.comparison().runs;
  }

  private hidden(): Set<string> {
    return new Set(this.ctx.state().hiddenRunIds ?? []);
  }

  /** The runs drawn: all but those the legend hides. */
  private visibleRunIds(): string[] {
    const hidden = this.hidden();
    return this.runs().map((r) => r.id).filter((id) => !hidden.has(id));
  }

  /** The groups drawn (of the visible runs), or null when each run is its own line. */
  private grouping(): RunGroup[] | null {
    const by = this.ctx.state().groupBy;
    return by ? groupRuns(this.ctx.comparison(), by, this.visibleRunIds()) : null;
  }

  /** A run's colour slot: its group's when grouped, else its own. */
  private colorSlot(runId: string, groups = this.grouping()): number {
    const g = groups?.findIndex((x) => x.runIds.includes(runId)) ?? -1;
    return g >= 0 ? g : this.ctx.runIndex(runId);
  }

  /** The lines of a chart: per run (in comparison order) its train curve, then its eval curve; grouped, per group its mean curves. */
  private chartLines(group: ChartGroup): ChartLine[] {
    const groups = this.grouping();
    if (groups) {
      const paired = group.keys.length > 1;
      return groups.flatMap((g, gi) => group.keys
        .filter((k) => g.runIds.some((id) => (this.ctx.store.get(id, k)?.points.length ?? 0) > 0))
        .map((key): ChartLine => ({
          runId: g.id, key, name: `${g.label} (${g.runIds.length})`, index: gi, band: true,
          role: !paired ? 'only' : key === group.eval ? 'eval' : 'train',
        })));
    }
    const runIds = this.visibleRunIds();
    const names = new Map(this.runs().map((r) => [r.id, r.name]));
    const withData = new Map(group.keys.map((k) => [k, new Set(this.ctx.store.curves(k, runIds).map((c) => c.runId))]));
    const paired = group.keys.length > 1;
    return runIds.flatMap((runId) => group.keys.filter((k) => withData.get(k)?.has(runId)).map((key): ChartLine => ({
      runId, key, name: names.get(runId) ?? runId, index: this.ctx.runIndex(runId),
      role: !paired ? 'only' : key === group.eval ? 'eval' : 'train',
    })));
  }

  /** Chart settings; grouped runs are lined up by step (their wall clocks differ). */
  private settings(): { xAxis: 'step' | 'time'; logScale: boolean; smoothing: number } {
    const s = this.ctx.state();
    return { xAxis: s.groupBy ? 'step' : s.xAxis, logScale: s.logScale, smoothing: this.preview ?? s.smoothing };
  }

  private data(group: ChartGroup, lines = this.chartLines(group)): ChartData {
    const groups = this.grouping();
    if (!groups) {
      const curves = lines.map((l) => ({ runId: l.runId, key: l.key, points: this.ctx.store.get(l.runId, l.key)?.points ?? [] }));
      return buildChartData(curves, this.settings());
    }
    const members = new Map(groups.map((g) => [g.id, g.runIds]));
    const bands = lines.map((l) => bandOf((members.get(l.runId) ?? []).map((id) => this.ctx.store.get(id, l.key)?.points ?? [])));
    const settings = this.settings();
    const data = buildChartData(lines.map((l, i) => ({
      runId: l.runId, key: l.key, points: (bands[i]?.x ?? []).map((x, j) => ({ step: x, value: bands[i]?.mean[j] ?? null, wallTime: null })),
    })), settings);
    const guard = (vs: (number | null)[]): (number | null)[] => (settings.logScale ? vs.map(logSafe) : vs);
    data.bands = bands.map((b) => ({ lo: alignTo(data.x, b.x, guard(b.min)), hi: alignTo(data.x, b.x, guard(b.max)) }));
    return data;
  }

  private keys(): ReturnType<typeof chartKeys> {
    return chartKeys(this.ctx.comparison(), this.ctx.store.keys(), this.ctx.state().selectedKeys);
  }

  /**
   * Renders the whole section again (init, a new comparison, runs or settings changed).
   * `later`, when given, runs what lies below the charts (the tables) after the first chart is on screen.
   */
  render(later?: (fn: () => void) => void): void {
    const pickerOpen = this.root.querySelector<HTMLDetailsElement>('#metric-picker')?.open === true;
    keepFocus(() => this.renderSection(pickerOpen, later));
  }

  private renderSection(pickerOpen: boolean, later?: (fn: () => void) => void): void {
    this.generation++;
    for (const s of this.slots.values()) s.chart?.destroy();
    this.slots.clear();
    this.groupOfKey.clear();
    this.seen.disconnect();
    clear(this.root);
    this.renderCurves(pickerOpen, later);
  }

  private renderCurves(pickerOpen: boolean, later?: (fn: () => void) => void): void {
    const state = this.ctx.state();
    const keys = this.keys();
    for (const g of keys.all) for (const k of g.keys) this.groupOfKey.set(k, g.id);
    const runNames = new Map(this.runs().map((r) => [r.id, r.name]));
    this.root.append(metricsToolbar({
      state, keys, runNames, change: (p) => this.ctx.change(p), preview: (w) => this.previewSmoothing(w),
      filter: this.filter, onFilter: (text) => { this.filter = text; }, pickerOpen,
    }));
    const summaries = summaryTable(this.ctx.comparison(), keys.summaries, (id) => this.ctx.runIndex(id));
    const usage = usageTable(this.ctx.comparison(), (id) => this.ctx.runIndex(id));
    this.table = null;
    if (keys.all.length === 0) {
      this.root.append(h('p', { class: 'empty', text: summaries ? 'These runs logged summary values only.' : 'No metrics recorded for these runs yet.' }));
      if (summaries) this.root.append(summaries);
      if (usage) this.root.append(usage);
      return;
    }
    if (keys.shown.length === 0) {
      this.root.append(this.noneInCommon(keys.all));
      if (summaries) this.root.append(summaries);
      if (usage) this.root.append(usage);
      return;
    }
    const groups = this.grouping();
    const legend = runLegendSection({
      comparison: this.ctx.comparison(), runIndex: (id) => this.colorSlot(id, groups), hidden: this.hidden(),
      setHidden: (hiddenRunIds) => this.ctx.change({ hiddenRunIds }),
      groupBy: state.groupBy ?? '', setGroupBy: (groupBy) => this.ctx.change({ groupBy: groupBy || undefined }),
      groups, paired: keys.shown.some((g) => g.keys.length > 1),
      query: this.runQuery, onQuery: (q) => { this.runQuery = q; },
    });
    this.legend = legend;
    this.root.append(legend.el);
    const list = h('div', { class: 'charts' });
    for (const group of keys.shown) {
      const note = h('span', { class: 'chart-note muted' });
      const title = group.keys.length > 1 ? [h('span', { class: 'chart-title', text: group.id }), h('span', { class: 'chart-pair muted', text: ` train · ${group.eval ?? ''} eval` })] : [h('span', { class: 'chart-title', text: group.id })];
      const el = h('figure', { class: 'chart', attrs: { 'data-key': group.id, 'data-keys': group.keys.join(' ') } }, h('figcaption', {}, ...title, note));
      list.append(el);
      this.slots.set(group.id, { group, el, note, chart: null, visible: false });
      this.seen.observe(el);
    }
    this.root.append(list);
    this.drawFirstNow();
    // The tables under the charts wait for the first chart's frame when asked to (at init):
    // a hundred runs' best/last rows need not be built before anything is on screen.
    const generation = this.generation;
    const below = (): void => {
      if (generation !== this.generation) return; // rendered again meanwhile: that render has its own
      this.table = this.bestLast(keys.shown.flatMap((g) => g.keys));
      if (this.table) this.root.append(this.table);
      if (summaries) this.root.append(summaries);
      if (usage) this.root.append(usage);
    };
    if (later) later(below);
    else below();
  }

  /**
   * The top chart is drawn now, not when the IntersectionObserver first reports it (a frame
   * or more later, and after the tables below it are built): it is in view whenever the
   * curves section is, and the first chart is what the panel is opened for.
   */
  private drawFirstNow(): void {
    const section = this.ctx.state().section;
    if (section !== undefined && section !== 'metrics') return;
    const first = this.slots.values().next().value;
    if (!first || first.chart || !this.root.isConnected) return;
    first.visible = true;
    this.draw(first);
  }

  private bestLast(keys: readonly string[]): HTMLElement | null {
    const state = this.ctx.state();
    return bestLastTable({
      comparison: this.ctx.comparison(), keys, runIndex: (id) => this.ctx.runIndex(id), hidden: this.hidden(),
      sort: state.tableSort, onSort: (tableSort) => this.ctx.change({ tableSort }),
    });
  }

  /** The best/last table again (sorted anew, hidden runs marked), keeping keyboard focus on its header. */
  private refreshTable(): void {
    if (!this.table) return;
    const next = this.bestLast(this.keys().shown.flatMap((g) => g.keys));
    const old = this.table;
    keepFocus(() => {
      if (next) old.replaceWith(next);
      else old.remove();
    });
    this.table = next;
  }

  private noneInCommon(all: readonly ChartGroup[]): HTMLElement {
    const byRun = this.runs().map((r) => {
      const own = all.filter((g) => g.runIds.includes(r.id)).map((g) => g.id);
      return `${r.name}: ${own.length ? own.join(', ') : 'none'}`;
    });
    return h('div', { class: 'notice', attrs: { role: 'status' } },
      h('strong', { text: 'These runs have no metrics in common.' }),
      h('p', { text: `Metrics logged — ${byRun.join('; ')}.` }),
      h('p', { text: 'Pick metrics above to draw them anyway.' }));
  }

  private draw(slot: Slot): void {
    if (!chartBuildMarked) {
      chartBuildMarked = true;
      performance.mark('keel-chart-build');
    }
    const lines = this.chartLines(slot.group);
    const data = this.data(slot.group, lines);
    this.describe(slot, data);
    if (data.x.length === 0) return;
    slot.chart = new MetricChart(slot.group.id, slot.el, lines, data, this.settings(), this.ctx.theme(), {
      onZoom: (_id, min, max) => this.zoomed(slot.group, min, max),
      onFirstDraw: (id) => this.ctx.onFirstDraw(id),
    });
  }

  /** The caption's note: downsampling, NaN/Inf, points a log scale or time axis leaves out. */
  private describe(slot: Slot, data: ChartData): void {
    const notes: string[] = [];
    const thinned = data.runs.map((c) => this.ctx.store.get(c.runId, c.key)).filter((s) => s?.downsampled);
    if (thinned.length > 0) {
      const total = thinned.reduce((n, s) => n + (s?.total ?? 0), 0);
      notes.push(`downsampled from ${formatCount(total)} points — drag to zoom in`);
    }
    const counts = new Map<string, number>();
    for (const m of data.specials) counts.set(m.kind, (counts.get(m.kind) ?? 0) + 1);
    for (const [kind, n] of counts) notes.push(`${plural(n, `${kind === 'nan' ? 'NaN' : kind === 'inf' ? '+Inf' : '−Inf'} point`)} marked`);
    if (data.hiddenByLog > 0) notes.push(`${plural(data.hiddenByLog, 'value')} ≤ 0 not shown on a log scale`);
    if (this.ctx.state().groupBy) notes.push('groups: mean line, min–max band, by step');
    if (data.x.length === 0 && this.settings().xAxis === 'time') notes.push('no wall-clock times recorded — use the step axis');
    else if (data.withoutTime > 0) notes.push(`${plural(data.withoutTime, 'point')} without a wall-clock time left out`);
    slot.note.textContent = notes.length ? ` · ${notes.join(' · ')}` : '';
  }

  /** Asks the host for a finer curve of every downsampled line over the zoomed range. */
  private zoomed(group: ChartGroup, min: number, max: number): void {
    if (this.grouping()) return; // a group's band is drawn from the curves it has
    const data = this.data(group);
    for (const curve of data.runs) {
      const stored = this.ctx.store.get(curve.runId, curve.key);
      if (!stored?.downsampled) continue;
      const range = stepRange(curve, min, max);
      if (!range) continue;
      this.ctx.store.requested(curve.runId, curve.key, range);
      this.ctx.post({ type: 'requestSeries', runId: curve.runId, key: curve.key, maxPoints: ZoomPoints, ...range });
    }
  }

  /**
   * Marks a key's data as changed; drawn in the next frame (live updates arrive in bursts).
   * A key that changes which charts exist or are shown (an eval key pairing with a shown
   * train key, a key becoming shared) renders the section again.
   */
  changed(key: string): void {
    const groupId = this.groupOfKey.get(key);
    if (groupId !== undefined && this.slots.has(groupId)) {
      this.dirty.add(groupId);
      this.frame ||= requestAnimationFrame(() => this.flush());
      return;
    }
    // Not on screen: draw it when it should be now (a key the runs now share, a new pair).
    const keys = this.keys();
    const group = keys.all.find((g) => g.keys.includes(key));
    if (group && keys.shown.some((g) => g.id === group.id)) this.render();
  }

  private flush(): void {
    this.frame = 0;
    for (const id of this.dirty) {
      const slot = this.slots.get(id);
      if (!slot) continue;
      const lines = this.chartLines(slot.group);
      const data = this.data(slot.group, lines);
      this.describe(slot, data);
      if (slot.chart && !slot.chart.drawsLines(lines)) slot.chart.rebuild(lines, data, this.settings(), this.ctx.theme());
      else if (slot.chart) slot.chart.update(data);
      else if (slot.visible) this.draw(slot);
    }
    this.dirty.clear();
  }

  private previewSmoothing(w: number): void {
    const before = this.preview ?? this.ctx.state().smoothing;
    this.preview = w;
    this.redrawAll((before > 0) !== (w > 0));
  }

  /** After a state change: smoothing redraws charts in place; axis, scale and key selection re-render. */
  stateChanged(changed: readonly (keyof ComparePanelState)[], previousSmoothing: number): void {
    this.preview = null;
    if (changed.includes('selectedKeys') || changed.includes('xAxis') || changed.includes('logScale') || changed.includes('groupBy')) return this.render();
    if (changed.includes('hiddenRunIds')) {
      this.legend?.update(this.hidden());
      this.redrawAll(false);
      this.refreshTable();
    } else if (changed.includes('tableSort')) this.refreshTable();
    if (changed.includes('smoothing')) this.redrawAll((previousSmoothing > 0) !== (this.ctx.state().smoothing > 0));
  }

  /** Redraws every chart; `rebuild` when the series change shape (theme, smoothing on/off). */
  redrawAll(rebuild: boolean): void {
    for (const slot of this.slots.values()) {
      if (!slot.chart) continue;
      const lines = this.chartLines(slot.group);
      const data = this.data(slot.group, lines);
      this.describe(slot, data);
      if (rebuild || !slot.chart.drawsLines(lines)) slot.chart.rebuild(lines, data, this.settings(), this.ctx.theme());
      else slot.chart.update(data);
    }
  }

  /** Whether the section has any chart to draw. */
  hasCharts(): boolean {
    return this.slots.size > 0;
  }

  /** What the charts hold (the test hook reads it). */
  debug(): { key: string; drawn: boolean; length: number; pointsPerRun: number[]; lines: string[] }[] {
    return [...this.slots.entries()].map(([key, s]) => ({
      key, drawn: s.chart?.firstDrawAt != null, length: s.chart?.length() ?? 0, pointsPerRun: s.chart?.pointsPerRun() ?? [], lines: s.chart?.lineLabels() ?? [],
    }));
  }
}

/**
 * The metric curves section: the toolbar, then one chart per shown key. Charts are made
 * when they scroll into view (a 40-metric GRPO run must not draw 40 canvases up front),
 * redrawn in the next frame after live points arrive, and rebuilt on theme changes.
 */
import type { Run, RunComparison } from '../../daemon/src/protocol/domain.ts';
import type { ComparePanelState, WebviewToHost } from '../../daemon/src/protocol/webview.ts';
import { MetricChart, type ChartRun } from './charts.ts';
import { clear, h, keepFocus } from './dom.ts';
import { formatCount } from './format.ts';
import { chartKeys } from './metric-keys.ts';
import { metricsToolbar } from './metrics-controls.ts';
import { buildChartData, stepRange, type ChartData } from './series.ts';
import { summaryValuesTable } from './summary-values.ts';
import type { SeriesStore } from './series-store.ts';
import type { ChartTheme } from './theme.ts';

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
  el: HTMLElement;
  note: HTMLElement;
  chart: MetricChart | null;
  visible: boolean;
}

export class MetricsView {
  private readonly root: HTMLElement;
  private readonly ctx: MetricsContext;
  private readonly slots = new Map<string, Slot>();
  private readonly dirty = new Set<string>();
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
        if (!slot || key === undefined) continue;
        slot.visible = e.isIntersecting;
        if (e.isIntersecting && !slot.chart) this.draw(key, slot);
      }
    }, { rootMargin: '300px 0px' });
  }

  private runs(): Run[] {
    return this.ctx.comparison().runs;
  }

  private chartRuns(key: string): ChartRun[] {
    const ids = new Set(this.ctx.store.curves(key, this.runs().map((r) => r.id)).map((c) => c.runId));
    return this.runs().filter((r) => ids.has(r.id)).map((r) => ({ id: r.id, name: r.name, index: this.ctx.runIndex(r.id) }));
  }

  private settings(): { xAxis: 'step' | 'time'; logScale: boolean; smoothing: number } {
    const s = this.ctx.state();
    return { xAxis: s.xAxis, logScale: s.logScale, smoothing: this.preview ?? s.smoothing };
  }

  private data(key: string): ChartData {
    return buildChartData(this.ctx.store.curves(key, this.runs().map((r) => r.id)), this.settings());
  }

  /** Renders the whole section again (init, a new comparison, runs or settings changed). */
  render(): void {
    const pickerOpen = this.root.querySelector('details')?.open === true;
    keepFocus(() => this.renderSection());
    const picker = this.root.querySelector('details');
    if (picker && pickerOpen) picker.open = true;
  }

  private renderSection(): void {
    for (const s of this.slots.values()) s.chart?.destroy();
    this.slots.clear();
    this.seen.disconnect();
    clear(this.root);
    this.renderCurves();
    // End-of-run values are a table below the curves, never one-point charts.
    const summary = summaryValuesTable(this.ctx.comparison());
    if (summary) this.root.append(summary);
  }

  private renderCurves(): void {
    const state = this.ctx.state();
    const keys = chartKeys(this.ctx.comparison(), this.ctx.store.keys(), state.selectedKeys);
    const runNames = new Map(this.runs().map((r) => [r.id, r.name]));
    this.root.append(metricsToolbar({ state, keys, runNames, change: (p) => this.ctx.change(p), preview: (w) => this.previewSmoothing(w) }));
    if (keys.all.length === 0) {
      this.root.append(h('p', { class: 'empty', text: 'No metrics recorded for these runs yet.' }));
      return;
    }
    if (keys.shown.length === 0) {
      const byRun = this.runs().map((r) => {
        const own = keys.all.filter((k) => k.runIds.includes(r.id)).map((k) => k.key);
        return `${r.name}: ${own.length ? own.join(', ') : 'none'}`;
      });
      this.root.append(h('div', { class: 'notice', attrs: { role: 'status' } },
        h('strong', { text: 'These runs have no metrics in common.' }),
        h('p', { text: `Metrics logged — ${byRun.join('; ')}.` }),
        h('p', { text: 'Pick metrics above to draw them anyway.' })));
      return;
    }
    const list = h('div', { class: 'charts' });
    for (const key of keys.shown) {
      const note = h('span', { class: 'chart-note muted' });
      const el = h('figure', { class: 'chart', attrs: { 'data-key': key } }, h('figcaption', {}, h('span', { class: 'chart-title', text: key }), note));
      list.append(el);
      this.slots.set(key, { el, note, chart: null, visible: false });
      this.seen.observe(el);
    }
    this.root.append(list);
  }

  private draw(key: string, slot: Slot): void {
    const data = this.data(key);
    this.describe(key, slot, data);
    if (data.x.length === 0) return;
    slot.chart = new MetricChart(key, slot.el, this.chartRuns(key), data, this.settings(), this.ctx.theme(), {
      onZoom: (k, min, max) => this.zoomed(k, min, max),
      onFirstDraw: (k) => this.ctx.onFirstDraw(k),
    });
  }

  /** The caption's note: downsampling, NaN/Inf, points a log scale or time axis leaves out. */
  private describe(key: string, slot: Slot, data: ChartData): void {
    const notes: string[] = [];
    const ids = this.runs().map((r) => r.id);
    const thinned = ids.map((id) => this.ctx.store.get(id, key)).filter((s) => s?.downsampled);
    if (thinned.length > 0) {
      const total = thinned.reduce((n, s) => n + (s?.total ?? 0), 0);
      notes.push(`downsampled from ${formatCount(total)} points — drag to zoom in`);
    }
    const counts = new Map<string, number>();
    for (const m of data.specials) counts.set(m.kind, (counts.get(m.kind) ?? 0) + 1);
    for (const [kind, n] of counts) notes.push(`${n} ${kind === 'nan' ? 'NaN' : kind === 'inf' ? '+Inf' : '−Inf'} point${n === 1 ? '' : 's'} marked`);
    if (data.hiddenByLog > 0) notes.push(`${data.hiddenByLog} value${data.hiddenByLog === 1 ? '' : 's'} ≤ 0 not shown on a log scale`);
    if (data.x.length === 0 && this.settings().xAxis === 'time') notes.push('no wall-clock times recorded — use the step axis');
    else if (data.withoutTime > 0) notes.push(`${data.withoutTime} points without a wall-clock time left out`);
    slot.note.textContent = notes.length ? ` · ${notes.join(' · ')}` : '';
  }

  /** Asks the host for a finer curve of every downsampled run over the zoomed range. */
  private zoomed(key: string, min: number, max: number): void {
    const data = this.data(key);
    for (const curve of data.runs) {
      const stored = this.ctx.store.get(curve.runId, key);
      if (!stored?.downsampled) continue;
      const range = stepRange(curve, min, max);
      if (!range) continue;
      this.ctx.store.requested(curve.runId, key, range);
      this.ctx.post({ type: 'requestSeries', runId: curve.runId, key, maxPoints: ZoomPoints, ...range });
    }
  }

  /** Marks a key's data as changed; drawn in the next frame (live updates arrive in bursts). */
  changed(key: string): void {
    if (!this.slots.has(key)) {
      const keys = chartKeys(this.ctx.comparison(), this.ctx.store.keys(), this.ctx.state().selectedKeys);
      if (keys.shown.includes(key)) this.render();
      return;
    }
    this.dirty.add(key);
    this.frame ||= requestAnimationFrame(() => this.flush());
  }

  private flush(): void {
    this.frame = 0;
    for (const key of this.dirty) {
      const slot = this.slots.get(key);
      if (!slot) continue;
      const data = this.data(key);
      this.describe(key, slot, data);
      const runs = this.chartRuns(key);
      if (slot.chart && !slot.chart.drawsRuns(runs)) slot.chart.rebuild(runs, data, this.settings(), this.ctx.theme());
      else if (slot.chart) slot.chart.update(data);
      else if (slot.visible) this.draw(key, slot);
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
    if (changed.includes('selectedKeys') || changed.includes('xAxis') || changed.includes('logScale')) return this.render();
    if (changed.includes('smoothing')) this.redrawAll((previousSmoothing > 0) !== (this.ctx.state().smoothing > 0));
  }

  /** Redraws every chart; `rebuild` when the series change shape (theme, smoothing on/off). */
  redrawAll(rebuild: boolean): void {
    for (const [key, slot] of this.slots) {
      if (!slot.chart) continue;
      const data = this.data(key);
      this.describe(key, slot, data);
      const runs = this.chartRuns(key);
      if (rebuild || !slot.chart.drawsRuns(runs)) slot.chart.rebuild(runs, data, this.settings(), this.ctx.theme());
      else slot.chart.update(data);
    }
  }

  /** What the charts hold (the test hook reads it). */
  debug(): { key: string; drawn: boolean; length: number; pointsPerRun: number[] }[] {
    return [...this.slots.entries()].map(([key, s]) => ({ key, drawn: s.chart?.firstDrawAt != null, length: s.chart?.length() ?? 0, pointsPerRun: s.chart?.pointsPerRun() ?? [] }));
  }
}

/**
 * One uPlot chart per quantity: every run overlaid in its colour, a run's train curve solid
 * and its eval curve of the same quantity dashed (a faint raw line behind the smoothed one
 * when smoothing is on), NaN/±Inf as markers over gaps, a hover
 * readout, drag-to-zoom (reported so a finer series can be fetched) and double-click to reset.
 */
import uPlot from 'uplot';
import { h } from './dom.ts';
import { formatDuration, formatNumber, formatTick, lineDash, runStyle } from './format.ts';
import { nearestIndex, type ChartData } from './series.ts';
import { withAlpha, type ChartTheme } from './theme.ts';

/** One line of a chart: a run's curve of one key, as train, eval or the chart's only curve. */
export interface ChartLine {
  runId: string;
  key: string;
  name: string;
  /** Place in the comparison (its colour). */
  index: number;
  role: 'train' | 'eval' | 'only';
  /** A group's mean, drawn with its min–max band (ChartData.bands). */
  band?: boolean;
}

export interface ChartSettings {
  xAxis: 'step' | 'time';
  logScale: boolean;
  smoothing: number;
}

export interface ChartHandlers {
  /** The user dragged out an x range (in axis units). */
  onZoom(key: string, min: number, max: number): void;
  /** The chart drew for the first time. */
  onFirstDraw(key: string): void;
}

const HEIGHT = 200;
/** Lines the readout under a chart names; the rest are counted. */
const MAX_READOUT = 24;

/** `run-a` for a chart's only curve, `run-a · eval` for one of a train/eval pair. */
export const lineLabel = (l: ChartLine): string => (l.role === 'only' ? l.name : `${l.name} · ${l.role}`);

/** A line's colour: its run's slot in the theme's palette. */
function lineColor(l: ChartLine, theme: ChartTheme): string {
  return theme.series[runStyle(l.index).colorIndex] ?? theme.foreground;
}

function seriesOpts(lines: readonly ChartLine[], s: ChartSettings, theme: ChartTheme): uPlot.Series[] {
  const out: uPlot.Series[] = [{ label: s.xAxis === 'step' ? 'step' : 'time' }];
  for (const l of lines) {
    const color = lineColor(l, theme);
    const dash = lineDash(l.role, runStyle(l.index).dotted);
    // Eval curves are sparse (every eval_steps): their points are always marked.
    const points = { show: l.role === 'eval' ? true : sparse, size: l.role === 'eval' ? 5 : 7, stroke: color, fill: color };
    if (s.smoothing > 0) out.push({ label: `${lineLabel(l)} (raw)`, stroke: withAlpha(color, 0.25), width: 1, dash, points: { show: false } });
    out.push({ label: lineLabel(l), stroke: color, width: 1.5, dash, points });
  }
  // A group's band edges after every line (columns() appends them in the same order).
  for (const l of lines) {
    if (!l.band) continue;
    const edge = withAlpha(lineColor(l, theme), 0.45);
    out.push({ label: `${lineLabel(l)} min`, stroke: edge, width: 0.5, points: { show: false } }, { label: `${lineLabel(l)} max`, stroke: edge, width: 0.5, points: { show: false } });
  }
  return out;
}

/** uPlot bands: each group's max edge filled down to its min edge, faint in the group's colour. */
function bandOpts(lines: readonly ChartLine[], s: ChartSettings, theme: ChartTheme): uPlot.Band[] {
  let next = 1 + lines.length * (s.smoothing > 0 ? 2 : 1);
  const out: uPlot.Band[] = [];
  for (const l of lines) {
    if (!l.band) continue;
    const lo = next, hi = next + 1;
    next += 2;
    out.push({ series: [hi, lo], fill: withAlpha(lineColor(l, theme), 0.16) });
  }
  return out;
}

/** A series with only a few points (a final summary value, a handful of evals) is drawn as dots: one point makes no line. */
function sparse(u: uPlot, seriesIdx: number): boolean {
  const ys = u.data[seriesIdx] ?? [];
  let n = 0;
  for (const y of ys) if (y !== null && y !== undefined && ++n > 20) return false;
  return true;
}

function axisOpts(s: ChartSettings, theme: ChartTheme): uPlot.Axis[] {
  const common = { stroke: theme.muted, font: theme.font, grid: { stroke: theme.grid, width: 1 }, ticks: { stroke: theme.grid, width: 1 } };
  const xValues = s.xAxis === 'time' ? (_u: uPlot, splits: (number | null)[]): string[] => splits.map((v) => (v === null || v === undefined ? '' : formatDuration(v))) : undefined;
  return [
    { ...common, ...(xValues ? { values: xValues, incrs: timeSteps, space: 80 } : {}) },
    { ...common, size: yAxisSize, values: (_u: uPlot, splits: (number | null)[]) => splits.map((v) => (v === null || v === undefined ? '' : formatTick(v))) },
  ];
}

/** Tick spacings for a time axis, in seconds: whole seconds, minutes, hours and days. */
const timeSteps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

/** Room for the longest y tick label (about 7 px a character at VS Code's 13 px font). */
function yAxisSize(_u: uPlot, values: string[] | null): number {
  const longest = Math.max(1, ...(values ?? []).map((v) => v.length));
  return Math.ceil(longest * 7.2 + 18);
}

/** The columns uPlot gets: x, then per run (raw when smoothing, then smoothed/plain), then each group's band edges (min, max). */
function columns(d: ChartData, s: ChartSettings, lines: readonly ChartLine[]): uPlot.AlignedData {
  const ys: (number | null | undefined)[][] = [];
  d.raw.forEach((raw, i) => {
    if (s.smoothing > 0) ys.push(raw, d.smooth[i] ?? raw);
    else ys.push(raw);
  });
  const none = (): null[] => d.x.map(() => null);
  lines.forEach((l, i) => {
    if (l.band) ys.push(d.bands?.[i]?.lo ?? none(), d.bands?.[i]?.hi ?? none());
  });
  return [d.x, ...ys];
}

/** ▲ +Inf at the top, ▼ −Inf at the bottom, ✕ NaN at the top, in the run's colour. */
function drawSpecials(u: uPlot, d: ChartData, lines: readonly ChartLine[], theme: ChartTheme): void {
  if (d.specials.length === 0) return;
  const ctx = u.ctx;
  const r = 4 * uPlot.pxRatio;
  const { left, top, width, height } = u.bbox;
  ctx.save();
  ctx.lineWidth = 1.5 * uPlot.pxRatio;
  for (const m of d.specials) {
    const x = u.valToPos(m.x, 'x', true);
    if (x < left || x > left + width) continue;
    const color = theme.series[runStyle(lines[m.runIndex]?.index ?? 0).colorIndex] ?? theme.error;
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.beginPath();
    if (m.kind === 'nan') {
      const y = top + r + 1;
      ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r);
      ctx.moveTo(x + r, y - r); ctx.lineTo(x - r, y + r);
      ctx.stroke();
    } else {
      const y = m.kind === 'inf' ? top + r + 1 : top + height - r - 1;
      const dir = m.kind === 'inf' ? -1 : 1;
      ctx.moveTo(x, y + dir * r); ctx.lineTo(x - r, y - dir * r); ctx.lineTo(x + r, y - dir * r);
      ctx.closePath();
      ctx.fill();
    }
  }
  ctx.restore();
}

/** One metric's chart and its readout. */
export class MetricChart {
  readonly key: string;
  readonly root: HTMLElement;
  private readonly plotEl: HTMLElement;
  private readonly readout: HTMLElement;
  private readonly handlers: ChartHandlers;
  private lines: readonly ChartLine[];
  private settings: ChartSettings;
  private theme: ChartTheme;
  private data: ChartData;
  private plot: uPlot | null = null;
  private quiet = false;
  private zoom: { min: number; max: number } | null = null;
  private readonly resize: ResizeObserver;
  /** performance.now() of the first draw. */
  firstDrawAt: number | null = null;

  constructor(key: string, root: HTMLElement, lines: readonly ChartLine[], data: ChartData, settings: ChartSettings, theme: ChartTheme, handlers: ChartHandlers) {
    this.key = key;
    this.root = root;
    this.lines = lines;
    this.data = data;
    this.settings = settings;
    this.theme = theme;
    this.handlers = handlers;
    this.plotEl = h('div', { class: 'plot' });
    this.readout = h('div', { class: 'readout', attrs: { 'aria-live': 'off' } });
    root.append(this.plotEl, this.readout);
    this.build();
    this.resize = new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: HEIGHT }));
    this.resize.observe(root);
  }

  private width(): number {
    return Math.max(240, Math.floor(this.root.clientWidth));
  }

  private build(): void {
    this.plot?.destroy();
    const opts: uPlot.Options = {
      width: this.width(),
      height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: true }, sync: { key: 'keel-metrics' } },
      scales: { x: { time: false }, y: this.settings.logScale ? { distr: 3 } : {} },
      series: seriesOpts(this.lines, this.settings, this.theme),
      bands: bandOpts(this.lines, this.settings, this.theme),
      axes: axisOpts(this.settings, this.theme),
      hooks: {
        draw: [(u) => this.onDraw(u)],
        setCursor: [(u) => this.renderReadout(u.cursor.idx ?? null)],
        setScale: [(u, key) => this.onScale(u, key)],
      },
    };
    this.quiet = true;
    this.plot = new uPlot(opts, columns(this.data, this.settings, this.lines), this.plotEl);
    this.quiet = false;
    if (this.zoom) this.applyZoom(this.zoom);
    this.renderReadout(null);
  }

  private onDraw(u: uPlot): void {
    drawSpecials(u, this.data, this.lines, this.theme);
    if (this.firstDrawAt === null) {
      this.firstDrawAt = performance.now();
      this.handlers.onFirstDraw(this.key);
    }
  }

  private onScale(u: uPlot, key: string): void {
    if (key !== 'x' || this.quiet) return;
    const { min, max } = u.scales.x ?? {};
    if (min === undefined || max === undefined || min === null || max === null) return;
    const x = this.data.x;
    const full = x.length === 0 || (min <= (x[0] as number) && max >= (x[x.length - 1] as number));
    this.zoom = full ? null : { min, max };
    if (!full) this.handlers.onZoom(this.key, min, max);
  }

  private applyZoom(z: { min: number; max: number }): void {
    this.quiet = true;
    this.plot?.setScale('x', z);
    this.quiet = false;
  }

  /** New data (live points, a refetch): redrawn in place, keeping the user's zoom. */
  update(data: ChartData): void {
    this.data = data;
    if (!this.plot) return this.build();
    this.quiet = true;
    this.plot.setData(columns(data, this.settings, this.lines), true);
    this.quiet = false;
    if (this.zoom) this.applyZoom(this.zoom);
    this.renderReadout(this.plot.cursor.idx ?? null);
  }

  /** New lines, settings or theme: the chart is built again. */
  rebuild(lines: readonly ChartLine[], data: ChartData, settings: ChartSettings, theme: ChartTheme): void {
    if (settings.xAxis !== this.settings.xAxis) this.zoom = null;
    this.lines = lines;
    this.data = data;
    this.settings = settings;
    this.theme = theme;
    this.build();
  }

  /** Whether the chart was built for these lines (a run that starts logging a key, or an eval curve that arrives, needs a rebuild). */
  drawsLines(lines: readonly ChartLine[]): boolean {
    return lines.length === this.lines.length && lines.every((l, i) => {
      const o = this.lines[i];
      return o !== undefined && l.runId === o.runId && l.key === o.key && l.name === o.name && l.role === o.role && l.index === o.index && !!l.band === !!o.band;
    });
  }

  /** The lines drawn, as `run · role` labels (for tests and the debug hook). */
  lineLabels(): string[] {
    return this.lines.map(lineLabel);
  }

  /** Points each run has in the chart (for tests and the debug hook). */
  pointsPerRun(): number[] {
    return this.data.runs.map((r) => r.xs.length);
  }

  /** Length of the shared x column. */
  length(): number {
    return this.data.x.length;
  }

  /**
   * The values nearest to the hovered x (or the last values when not hovering): one item per
   * run, its train and eval values side by side (`run-a: train 0.0133 · eval 0.1803 @ step 250`).
   */
  private renderReadout(idx: number | null): void {
    const x = idx === null ? null : this.data.x[idx];
    const byRun = new Map<string, { line: ChartLine; parts: { role: ChartLine['role']; shown: string; step: number | undefined }[] }>();
    this.data.runs.forEach((curve, i) => {
      const line = this.lines[i];
      if (!line || curve.xs.length === 0) return;
      const j = x === null || x === undefined ? curve.xs.length - 1 : nearestIndex(curve.xs, x);
      const special = curve.specials[j];
      const raw = special ? special.replace('inf', 'Inf').replace('nan', 'NaN') : formatNumber(curve.raw[j]);
      const shown = this.settings.smoothing > 0 && !special ? `${formatNumber(curve.smooth[j])} (raw ${raw})` : raw;
      const entry = byRun.get(line.runId) ?? { line, parts: [] };
      entry.parts.push({ role: line.role, shown, step: curve.steps[j] });
      byRun.set(line.runId, entry);
    });
    // With many runs the first ones are named and the rest counted: a hundred values under
    // each chart, rebuilt on every mouse move, would be a wall of text and a slow page.
    const all = [...byRun.values()];
    const rows = all.slice(0, MAX_READOUT).map(({ line, parts }) => {
      const st = runStyle(line.index);
      const oneStep = parts.every((p) => p.step === parts[0]?.step);
      const values = parts.flatMap((p, k) => [
        k > 0 ? ' · ' : '',
        p.role === 'only' ? '' : `${p.role} `,
        h('b', { text: p.shown }),
        oneStep ? '' : h('span', { class: 'muted', text: ` @ ${p.step ?? '?'}` }),
      ]);
      // The text sits in one inline span: as separate flex items its spaces would collapse
      // ("train0.013" to a screen reader or a copy).
      return h('span', { class: 'readout-item' }, h('span', { class: `line-sample c${st.colorIndex}${st.dotted ? ' dotted' : ''}` }),
        h('span', {}, `${line.name}: `, ...values, oneStep ? h('span', { class: 'muted', text: ` @ step ${parts[0]?.step ?? '?'}` }) : null));
    });
    const where = x === null || x === undefined ? 'latest' : this.settings.xAxis === 'time' ? formatDuration(x) : `step ${formatNumber(x)}`;
    const more = all.length > MAX_READOUT ? h('span', { class: 'readout-more muted', text: `+${all.length - MAX_READOUT} more (see Best and last values)` }) : null;
    this.readout.replaceChildren(h('span', { class: 'readout-x muted', text: `${where}:` }), ...rows, ...(more ? [more] : []));
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }
}

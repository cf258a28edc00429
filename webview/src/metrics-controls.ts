/**
 * The curves toolbar: x by step or time, EMA smoothing, log scale, and which metrics to draw.
 */
import type { ComparePanelState } from '../../daemon/src/protocol/webview.ts';
import { checkbox, choice } from './controls.ts';
import { h } from './dom.ts';
import type { ChartKeys } from './metric-keys.ts';

export interface ControlsContext {
  state: ComparePanelState;
  keys: ChartKeys;
  runNames: ReadonlyMap<string, string>;
  /** A change the user made (saved and posted). */
  change(patch: Partial<ComparePanelState>): void;
  /** Smoothing while the slider moves (drawn, not yet saved). */
  preview(smoothing: number): void;
}

function smoothingSlider(ctx: ControlsContext): HTMLElement {
  const value = h('output', { class: 'slider-value', text: ctx.state.smoothing.toFixed(2), attrs: { for: 'smoothing' } });
  const slider = h('input', { attrs: { type: 'range', id: 'smoothing', min: '0', max: '0.99', step: '0.01', 'aria-label': 'Smoothing (EMA weight)' } });
  slider.value = String(ctx.state.smoothing);
  slider.addEventListener('input', () => {
    value.textContent = Number(slider.value).toFixed(2);
    ctx.preview(Number(slider.value));
  });
  slider.addEventListener('change', () => ctx.change({ smoothing: Number(slider.value) }));
  return h('label', { class: 'control', attrs: { for: 'smoothing' } }, h('span', { class: 'control-label', text: 'Smoothing' }), slider, value);
}

/** The list of metric keys with a checkbox each; an empty selection means "those the runs share". */
function keyPicker(ctx: ControlsContext): HTMLElement {
  const shown = new Set(ctx.keys.shown);
  const items = ctx.keys.all.map((k) => {
    const only = k.runIds.length === 1 && ctx.runNames.size > 1 ? ` (only ${ctx.runNames.get(k.runIds[0] ?? '') ?? 'one run'})` : '';
    return checkbox(`${k.key}${only}`, shown.has(k.key), (on) => {
      const next = new Set(shown);
      if (on) next.add(k.key);
      else next.delete(k.key);
      ctx.change({ selectedKeys: ctx.keys.all.map((x) => x.key).filter((x) => next.has(x)) });
    }, `metric-key-${k.key}`);
  });
  const reset = ctx.state.selectedKeys.length > 0
    ? h('button', { class: 'link-button', text: 'Shared metrics only', attrs: { type: 'button' }, on: { click: () => ctx.change({ selectedKeys: [] }) } })
    : null;
  const details = h('details', { class: 'key-picker' },
    h('summary', { text: `Metrics: ${ctx.keys.shown.length} of ${ctx.keys.all.length} shown` }),
    h('div', { class: 'key-list' }, ...items, reset));
  return details;
}

/** Builds the toolbar. */
export function metricsToolbar(ctx: ControlsContext): HTMLElement {
  return h('div', { class: 'toolbar', attrs: { role: 'toolbar', 'aria-label': 'Chart options' } },
    choice('x-axis', 'X axis', [{ value: 'step', label: 'Step' }, { value: 'time', label: 'Time' }], ctx.state.xAxis, (xAxis) => ctx.change({ xAxis })),
    smoothingSlider(ctx),
    checkbox('Log scale', ctx.state.logScale, (logScale) => ctx.change({ logScale }), 'log-scale'),
    keyPicker(ctx));
}

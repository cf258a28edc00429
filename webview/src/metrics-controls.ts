/**
 * The curves toolbar: x by step or time, EMA smoothing, log scale, and the metric picker.
 */
import type { ComparePanelState } from '../../daemon/src/protocol/webview.ts';
import { checkbox, choice } from './controls.ts';
import { h } from './dom.ts';
import type { ChartKeys } from './metric-keys.ts';
import { metricPicker } from './metric-picker.ts';

export interface ControlsContext {
  state: ComparePanelState;
  keys: ChartKeys;
  runNames: ReadonlyMap<string, string>;
  /** A change the user made (saved and posted). */
  change(patch: Partial<ComparePanelState>): void;
  /** Smoothing while the slider moves (drawn, not yet saved). */
  preview(smoothing: number): void;
  /** The metric picker's search text, and where a new one goes. */
  filter: string;
  onFilter(text: string): void;
  /** The metric picker is made open. */
  pickerOpen?: boolean;
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

/** Builds the toolbar. */
export function metricsToolbar(ctx: ControlsContext): HTMLElement {
  return h('div', { class: 'toolbar', attrs: { role: 'toolbar', 'aria-label': 'Chart options' } },
    choice('x-axis', 'X axis', [{ value: 'step', label: 'Step' }, { value: 'time', label: 'Time' }], ctx.state.xAxis, (xAxis) => ctx.change({ xAxis })),
    smoothingSlider(ctx),
    checkbox('Log scale', ctx.state.logScale, (logScale) => ctx.change({ logScale }), 'log-scale'),
    metricPicker({ keys: ctx.keys, runNames: ctx.runNames, filter: ctx.filter, onFilter: (text) => ctx.onFilter(text), change: (selectedKeys) => ctx.change({ selectedKeys }), open: ctx.pickerOpen }));
}

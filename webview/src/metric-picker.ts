/**
 * The metric picker: a search field over the charts, grouped by family (losses first), one
 * checkbox per chart (a train/eval pair is one), and "Defaults" / "All". Filtering hides
 * rows in place, so typing never loses focus; ↓ from the field walks the visible boxes.
 */
import { checkbox, linkButton } from './controls.ts';
import { h } from './dom.ts';
import { MetricFamilies } from './metric-identity.ts';
import { keysOf, type ChartGroup, type ChartKeys } from './metric-keys.ts';

export interface PickerContext {
  keys: ChartKeys;
  runNames: ReadonlyMap<string, string>;
  /** The search text (kept by the caller across re-renders). */
  filter: string;
  onFilter(text: string): void;
  /** The user's new pick of keys ([] = the defaults). */
  change(selectedKeys: string[]): void;
  /** Made open (it was open before the charts were drawn again). */
  open?: boolean;
}

interface TextField extends HTMLElement {
  value: string;
}

/** "loss + eval_loss (only run-a)": what a chart's row says. */
function rowLabel(g: ChartGroup, runNames: ReadonlyMap<string, string>): string {
  const only = g.runIds.length === 1 && runNames.size > 1 ? ` (only ${runNames.get(g.runIds[0] ?? '') ?? 'one run'})` : '';
  return `${g.keys.join(' + ')}${only}`;
}

/** Whether every word of `query` occurs in one of the chart's keys. */
export function matchesFilter(g: ChartGroup, query: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const keys = g.keys.map((k) => k.toLowerCase());
  return words.every((w) => keys.some((k) => k.includes(w)));
}

/** Shows the rows (and family headings) that match; says so when none does. */
function applyFilter(list: HTMLElement, none: HTMLElement, groups: readonly ChartGroup[], query: string): void {
  const visible = new Set(groups.filter((g) => matchesFilter(g, query)).map((g) => g.id));
  for (const row of list.querySelectorAll<HTMLElement>('[data-group]')) row.hidden = !visible.has(row.dataset.group ?? '');
  for (const head of list.querySelectorAll<HTMLElement>('[data-family]')) {
    head.hidden = !groups.some((g) => g.family === head.dataset.family && visible.has(g.id));
  }
  none.hidden = visible.size > 0;
  none.textContent = `No metric matches “${query.trim()}”.`;
}

/** ↑/↓ move between the visible checkboxes; ↑ from the first goes back to the field. */
function onListKey(ev: KeyboardEvent, list: HTMLElement, field: HTMLElement): void {
  if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp') return;
  const boxes = [...list.querySelectorAll<HTMLElement>('vscode-checkbox')].filter((b) => !b.hidden);
  const at = boxes.indexOf(ev.target as HTMLElement);
  const next = ev.key === 'ArrowDown' ? boxes[at + 1] : at <= 0 ? field : boxes[at - 1];
  if (!next) return;
  ev.preventDefault();
  next.focus();
}

function searchField(ctx: PickerContext, refilter: (q: string) => void): TextField {
  const field = document.createElement('vscode-textfield') as TextField;
  field.id = 'metric-filter';
  field.setAttribute('placeholder', 'Filter metrics: loss, eval, lr…');
  field.setAttribute('aria-label', 'Filter metrics');
  field.setAttribute('type', 'search');
  field.value = ctx.filter;
  field.addEventListener('input', () => {
    ctx.onFilter(field.value);
    refilter(field.value);
  });
  return field;
}

/**
 * Builds the picker. Its panel (a field and a checkbox per chart: forty web components for a
 * GRPO run) is made when it is first opened, not before the first chart.
 */
export function metricPicker(ctx: PickerContext): HTMLElement {
  const { keys } = ctx;
  const panel = h('div', { class: 'key-panel' });
  let built = false;
  const build = (): void => {
    if (built) return;
    built = true;
    panel.append(...pickerPanel(ctx));
  };
  // Made on the summary's click (a click, Enter or Space), before the details opens: the
  // `toggle` event comes a task later, maybe after a frame showing the panel empty. `toggle`
  // still covers an open from elsewhere.
  const summary = h('summary', { text: `Metrics: ${keys.shown.length} of ${keys.all.length} charts${keys.usingDefaults ? ' (defaults)' : ''}`, on: { click: build } });
  const details = h('details', { class: 'key-picker', attrs: { id: 'metric-picker' } }, summary, panel);
  details.addEventListener('toggle', () => {
    if (details.open) build();
  });
  details.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape' || !details.open) return;
    details.open = false;
    summary.focus();
  });
  if (ctx.open) {
    build();
    details.open = true;
  }
  return details;
}

/** The picker's panel: the search field, "Defaults" / "All", the checkboxes by family. */
function pickerPanel(ctx: PickerContext): HTMLElement[] {
  const { keys } = ctx;
  const shown = new Set(keys.shown.map((g) => g.id));
  const toggle = (g: ChartGroup, on: boolean): void => {
    const next = keys.all.filter((x) => (x.id === g.id ? on : shown.has(x.id)));
    ctx.change(keysOf(next));
  };
  const list = h('div', { class: 'key-list', attrs: { role: 'group', 'aria-label': 'Metrics to chart' } });
  for (const family of MetricFamilies) {
    const members = keys.all.filter((g) => g.family === family);
    if (members.length === 0) continue;
    list.append(h('div', { class: 'key-family', text: family, attrs: { 'data-family': family } }));
    for (const g of members) {
      const box = checkbox(rowLabel(g, ctx.runNames), shown.has(g.id), (on) => toggle(g, on), `metric-key-${g.id}`);
      box.dataset.group = g.id;
      list.append(box);
    }
  }
  const none = h('p', { class: 'empty', attrs: { role: 'status' } });
  const field = searchField(ctx, (q) => applyFilter(list, none, keys.all, q));
  applyFilter(list, none, keys.all, ctx.filter);
  field.addEventListener('keydown', (ev) => {
    if (ev.key !== 'ArrowDown') return;
    ev.preventDefault();
    [...list.querySelectorAll<HTMLElement>('vscode-checkbox')].find((b) => !b.hidden)?.focus();
  });
  list.addEventListener('keydown', (ev) => onListKey(ev, list, field));
  const actions = h('div', { class: 'key-actions' },
    linkButton('Defaults', 'Losses, eval metrics and training signals shared by the runs', () => ctx.change([])),
    linkButton('All', 'Every metric the runs logged', () => ctx.change(keysOf(keys.all))));
  return [field, actions, list, none];
}

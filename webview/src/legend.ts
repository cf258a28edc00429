/**
 * The legend above the charts, made for up to 100 runs: a search (name or a differing
 * `param=value`), each run a toggle that shows or hides its curves (Enter/Space, or a click),
 * "Show all", "Only matching" and "Hide matching" for what the search found, a "Group by"
 * choice (sweep or a differing param: each group drawn as its mean with a min–max band), and
 * the train/eval line key. The run list scrolls when long, so the charts stay in reach.
 */
import type { RunComparison } from '../../daemon/src/protocol/domain.ts';
import { h } from './dom.ts';
import { runStyle } from './format.ts';
import { runOverrides } from './run-legend.ts';
import { groupOptions, matchRuns, type RunGroup } from './run-groups.ts';
import { plural } from '../../daemon/src/protocol/format.ts';

interface TextField extends HTMLElement {
  value: string;
}

export interface LegendContext {
  comparison: RunComparison;
  /** A run's colour slot (its group's when grouped). */
  runIndex(runId: string): number;
  hidden: ReadonlySet<string>;
  /** The user showed or hid runs (saved and posted). */
  setHidden(runIds: string[]): void;
  groupBy: string;
  setGroupBy(groupBy: string): void;
  /** The groups drawn (null: each run its own line), and each group's colour slot. */
  groups: readonly RunGroup[] | null;
  /** Whether a chart pairs train and eval curves (the line key is shown). */
  paired: boolean;
  /** The search text, kept across re-renders. */
  query: string;
  onQuery(text: string): void;
}

/** A short sample of a line: solid for train, dashed for eval, in a palette colour. */
function lineSample(colorIndex: number, role: 'train' | 'eval', dotted: boolean): HTMLElement {
  return h('span', { class: `line-sample c${colorIndex} ${role}${dotted ? ' dotted' : ''}`, attrs: { 'aria-hidden': 'true' } });
}

/** "12 of 100 runs shown · 3 match" */
function countText(c: RunComparison, hidden: ReadonlySet<string>, matched: number | null): string {
  const shown = c.runs.filter((r) => !hidden.has(r.id)).length;
  return `${shown} of ${plural(c.runs.length, 'run')} shown${matched === null ? '' : ` · ${plural(matched, 'match', 'matches')}`}`;
}

function groupBySelect(ctx: LegendContext): HTMLElement | null {
  const options = groupOptions(ctx.comparison);
  if (ctx.comparison.runs.length < 2 || options.length < 2) return null;
  const select = h('select', { class: 'group-by', attrs: { id: 'group-by', 'aria-label': 'Group runs by' } },
    ...options.map((o) => {
      const opt = h('option', { text: o.label, attrs: { value: o.value } });
      opt.selected = o.value === ctx.groupBy;
      return opt;
    }));
  select.addEventListener('change', () => ctx.setGroupBy(select.value));
  return h('label', { class: 'control', attrs: { for: 'group-by' } }, h('span', { class: 'control-label', text: 'Group by' }), select);
}

/** Builds the legend; `update` re-marks shown/hidden runs in place (no re-render, focus stays). */
export function runLegendSection(ctx: LegendContext): { el: HTMLElement; update(hidden: ReadonlySet<string>): void } {
  const c = ctx.comparison;
  let hidden = ctx.hidden;
  const many = c.runs.length > 1;
  const count = h('span', { class: 'legend-count muted', attrs: { 'aria-live': 'polite' } });
  const toggles = new Map<string, HTMLButtonElement>();
  const items = c.runs.map((run) => {
    const st = runStyle(ctx.runIndex(run.id));
    const { text, more } = runOverrides(c, run.id);
    const params = text ? `${text}${more ? ` +${more} more` : ''}` : '';
    const button = h('button', {
      class: `legend-toggle c${st.colorIndex}`,
      attrs: { type: 'button', 'data-key': `legend:${run.id}`, 'data-run': run.id, title: `Show or hide ${run.name}` },
      on: {
        click: () => {
          const next = new Set(hidden);
          if (next.has(run.id)) next.delete(run.id);
          else next.add(run.id);
          ctx.setHidden(c.runs.filter((r) => next.has(r.id)).map((r) => r.id));
        },
      },
    }, lineSample(st.colorIndex, 'train', st.dotted), h('span', { class: 'legend-name', text: run.name }), params ? h('span', { class: 'legend-params muted', text: params }) : null);
    toggles.set(run.id, button);
    return h('li', { class: 'legend-run', attrs: { 'data-run': run.id } }, many ? button : h('span', { class: 'legend-static' }, ...button.childNodes));
  });
  const key = ctx.paired
    ? h('li', { class: 'legend-key muted' }, lineSample(-1, 'train', false), 'train', lineSample(-1, 'eval', false), 'eval')
    : null;
  const list = h('ul', { class: 'chart-legend', attrs: { 'aria-label': 'Runs in the charts' } }, ...items, key);

  let matched: Set<string> | null = null;
  const applyQuery = (q: string): void => {
    matched = q.trim() ? matchRuns(c, q) : null;
    items.forEach((li, i) => { li.hidden = matched !== null && !matched.has(c.runs[i]?.id ?? ''); });
    count.textContent = countText(c, hidden, matched?.size ?? null);
  };
  const update = (next: ReadonlySet<string>): void => {
    hidden = next;
    for (const [id, b] of toggles) {
      b.setAttribute('aria-pressed', String(!hidden.has(id)));
      b.classList.toggle('off', hidden.has(id));
    }
    count.textContent = countText(c, hidden, matched?.size ?? null);
  };

  const tools: (HTMLElement | null)[] = [];
  if (c.runs.length > 1) {
    const field = document.createElement('vscode-textfield') as TextField;
    field.id = 'run-filter';
    field.setAttribute('placeholder', 'Search runs: name or param=value');
    field.setAttribute('aria-label', 'Search runs');
    field.value = ctx.query;
    field.addEventListener('input', () => {
      ctx.onQuery(field.value);
      applyQuery(field.value);
    });
    const act = (key: string, label: string, fn: () => string[]): HTMLElement =>
      h('button', { class: 'link-button', text: label, attrs: { type: 'button', 'data-key': key }, on: { click: () => ctx.setHidden(fn()) } });
    const visibleIds = (): Set<string> => matched ?? new Set(c.runs.map((r) => r.id));
    tools.push(field, count,
      act('legend-show-all', 'Show all', () => []),
      act('legend-only', 'Only matching', () => c.runs.filter((r) => !visibleIds().has(r.id)).map((r) => r.id)),
      act('legend-hide', 'Hide matching', () => c.runs.filter((r) => hidden.has(r.id) || visibleIds().has(r.id)).map((r) => r.id)),
      groupBySelect(ctx));
  }
  const groups = ctx.groups
    ? h('ul', { class: 'group-legend', attrs: { 'aria-label': 'Groups drawn: mean line, min–max band' } },
      ...ctx.groups.map((g, i) => {
        const st = runStyle(i);
        return h('li', { class: 'legend-group', attrs: { 'data-group': g.id } }, lineSample(st.colorIndex, 'train', st.dotted),
          h('span', { class: 'legend-name', text: g.label }), h('span', { class: 'legend-params muted', text: `mean of ${plural(g.runIds.length, 'run')}, band min–max` }));
      }))
    : null;
  const el = h('div', { class: `legend${ctx.groups ? ' grouped' : ''}` },
    tools.length ? h('div', { class: 'legend-tools', attrs: { role: 'group', 'aria-label': 'Runs' } }, ...tools) : null,
    groups, h('div', { class: 'legend-scroll' }, list));
  update(hidden);
  applyQuery(ctx.query);
  return { el, update };
}

/**
 * The panel header: the runs compared, each with its colour, status and whether it is the
 * baseline (deltas and config diffs are against it).
 */
import type { Run } from '../../daemon/src/protocol/domain.ts';
import { badge, linkButton } from './controls.ts';
import { clear, h, runSwatch } from './dom.ts';
import { runStatusClass } from './format.ts';

export interface HeaderView {
  runs: readonly Run[];
  runIndex(runId: string): number;
  baselineRunId: string | null;
  /** Runs deleted while the panel was open. */
  removed: readonly string[];
  onBaseline(runId: string): void;
  onOpenRun(runId: string): void;
}

const keyed = <E extends Element>(el: E, key: string): E => {
  el.setAttribute('data-key', key);
  return el;
};

/** After "set baseline", its button is gone: focus goes to the run's name. */
export const headerFocusFallback = (key: string): string | null => (key.startsWith('baseline:') ? `run:${key.slice('baseline:'.length)}` : null);

/** Runs beyond which the header's run list scrolls. */
const MANY_RUNS = 12;

/** Renders the header into `root`. */
export function renderHeader(root: HTMLElement, v: HeaderView): void {
  clear(root);
  // Past a dozen runs the list scrolls in three lines: the charts stay on the first screen.
  const list = h('ul', { class: `run-list${v.runs.length > MANY_RUNS ? ' many' : ''}`, attrs: { 'aria-label': 'Runs compared' } });
  for (const run of v.runs) {
    const isBase = run.id === v.baselineRunId;
    const reason = run.statusReason ? ` — ${run.statusReason}` : '';
    list.append(h('li', { class: `run${isBase ? ' baseline' : ''}`, attrs: { 'data-run': run.id } },
      runSwatch(v.runIndex(run.id)),
      keyed(linkButton(run.name, `Open run ${run.name} (${run.id})`, () => v.onOpenRun(run.id), 'link-button run-name'), `run:${run.id}`),
      badge(run.status, `status ${runStatusClass(run.status)}`),
      isBase ? badge('baseline', 'baseline-badge') : keyed(linkButton('set baseline', `Compare the other runs against ${run.name}`, () => v.onBaseline(run.id), 'link-button subtle'), `baseline:${run.id}`),
      run.unreachableSince !== null ? h('span', { class: 'warning-text', text: 'host unreachable' }) : null,
      reason ? h('span', { class: 'muted', text: reason }) : null));
  }
  root.append(list);
  if (v.removed.length > 0) {
    root.append(h('p', { class: 'notice', attrs: { role: 'status' }, text: `${v.removed.length === 1 ? 'A run was' : `${v.removed.length} runs were`} deleted while this panel was open; it is no longer shown.` }));
  }
}

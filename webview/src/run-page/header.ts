/**
 * The top of the run page: the name (with Rename), the status with its reason and exit code,
 * where and when it ran, its overrides and the run it came from, and the action buttons that
 * fit its state (Stop only while it is active, Rerun once a launched run has ended).
 */
import type { Run, RunStatus, RunUsage } from '../../../daemon/src/protocol/domain.ts';
import { plural, usageLine } from '../../../daemon/src/protocol/format.ts';
import type { RunPageAction, RunPageData } from '../../../daemon/src/protocol/run-page.ts';
import { h } from '../dom.ts';
import { ago, duration } from './format.ts';

/** Posts an action for the run on show. */
export type Act = (action: RunPageAction) => void;

const ACTIVE: readonly RunStatus[] = ['queued', 'syncing', 'starting', 'running'];

/** A button in VS Code's style (vscode-elements); `primary` for the one main action. */
export function button(label: string, onPress: () => void, primary = false): HTMLElement {
  return h('vscode-button', { attrs: primary ? {} : { secondary: '' }, text: label, on: { click: onPress } });
}

/** A link-looking button (keyboard reachable) inside text. */
export function linkButton(label: string, onPress: () => void, title?: string): HTMLElement {
  return h('button', { class: 'link', text: label, ...(title ? { title } : {}), attrs: { type: 'button' }, on: { click: onPress } });
}

function statusLine(run: Run, usage: RunUsage | null | undefined, now: number): HTMLElement {
  const parts: (string | HTMLElement)[] = [h('span', { class: `status status-${run.status}`, text: run.status })];
  if (run.status === 'failed' && run.exitCode !== null) parts.push(h('span', { text: `exit ${run.exitCode}` }));
  if (run.statusReason && !/^exit code -?\d+$/.test(run.statusReason)) parts.push(h('span', { class: 'reason', text: run.statusReason }));
  if (run.hostName) parts.push(h('span', { text: `${run.hostName}${run.gpus ? ` · ${plural(run.gpus, 'GPU')}` : ''}` }));
  if (run.startedAt !== null) parts.push(h('span', { text: `started ${ago(run.startedAt, now)}${run.endedAt !== null ? `, took ${duration(run.endedAt - run.startedAt)}` : ''}` }));
  else parts.push(h('span', { text: `created ${ago(run.createdAt, now)}` }));
  // GPU-hours of every attempt (and their cost at the host's --cost-per-hour), as `keel run show` gives them.
  if (usage) parts.push(h('span', { class: 'usage', text: usageLine(usage), title: `${plural(usage.attempts, 'attempt')}, wall time × GPUs${usage.cost === null ? '; no cost: the host has no --cost-per-hour' : ''}` }));
  const line = h('p', { class: 'status-line' });
  parts.forEach((p, i) => {
    if (i > 0) line.append(h('span', { class: 'sep', text: ' · ' }));
    line.append(p);
  });
  return line;
}

/** The header: name, status, facts, overrides, parent. */
export function renderHeader(page: RunPageData, now: number, act: Act): HTMLElement {
  const { run } = page.detail;
  const overrides = page.summary?.overrides ?? [];
  const header = h('header', { class: 'page-head' },
    h('div', { class: 'title-row' }, h('h1', { text: run.name }), button('Rename', () => act({ action: 'rename' }))),
    statusLine(run, page.detail.usage, now),
    h('p', { class: 'muted ids' }, h('span', { text: `${page.summary?.kind === 'eval' ? 'eval run' : run.source === 'launch' ? 'launched' : run.source === 'watch' ? 'watched' : 'imported'} · ` }),
      h('code', { text: run.id }), ' ', linkButton('copy id', () => act({ action: 'copyText', text: run.id }), 'Copy the run id')),
  );
  if (overrides.length) header.append(h('p', { class: 'overrides' }, 'overrides ', ...overrides.map((o) => h('code', { class: 'override', text: o }))));
  if (page.parent) {
    const word = page.summary?.kind === 'eval' ? 'evaluates a checkpoint of' : 'runs again';
    header.append(h('p', { class: 'parent' }, `${word} `, linkButton(page.parent.name, () => act({ action: 'openRun', target: page.parent?.id ?? '' }))));
  }
  return header;
}

/** The buttons that make sense for the run's state. */
export function renderActions(page: RunPageData, act: Act): HTMLElement {
  const { run, checkpoints } = page.detail;
  const active = ACTIVE.includes(run.status);
  const buttons: HTMLElement[] = [button('Show Log', () => act({ action: 'showLog' }), !active)];
  if (active) buttons.push(button('Stop Run', () => act({ action: 'cancel' }), true));
  if (!active && run.source === 'launch' && run.status !== 'incomplete') buttons.push(button('Rerun', () => act({ action: 'rerun' })));
  buttons.push(button('Compare With…', () => act({ action: 'compareWith' })));
  if (checkpoints.length > 0) buttons.push(button('Tag Checkpoint…', () => act({ action: 'tagCheckpoint' })));
  if (page.detail.config || page.detail.launch) buttons.push(button('Open Config', () => act({ action: 'openConfig' })));
  buttons.push(button('Show Lineage', () => act({ action: 'showLineage' })), button('Reveal in Runs View', () => act({ action: 'reveal' })));
  return h('nav', { class: 'actions', attrs: { 'aria-label': 'Run actions' } }, ...buttons);
}

/**
 * The run page's sections, each a titled block: why it failed (the error line and the log's
 * last lines), the launch spec (every field the daemon recorded, so new fields show up as
 * they land), metrics, checkpoints (present or deleted, aliases, actions), evals and eval
 * runs, lineage one step each way, and the log's end for a run that did not fail.
 */
import type { Checkpoint, LineageGraph, LineageNode } from '../../../daemon/src/protocol/domain.ts';
import type { RunPageData } from '../../../daemon/src/protocol/run-page.ts';
import { h } from '../dom.ts';
import { type Act, button, linkButton } from './header.ts';
import { ago, bytes, num, specLabel, specValue } from './format.ts';

/** Metric rows shown; the rest are counted. */
const MAX_METRICS = 40;

function section(id: string, title: string, ...body: (Node | null)[]): HTMLElement {
  return h('section', { class: `block block-${id}`, attrs: { 'aria-labelledby': `h-${id}` } }, h('h2', { text: title, attrs: { id: `h-${id}` } }), ...body);
}

function table(headers: string[], rows: (string | Node)[][], cls = ''): HTMLElement {
  return h('table', { class: `grid ${cls}`.trim() },
    h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', { text: t, attrs: { scope: 'col' } })))),
    h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((c) => (typeof c === 'string' ? h('td', { text: c }) : h('td', {}, c)))))));
}

function empty(text: string): HTMLElement {
  return h('p', { class: 'empty', text });
}

/** Why the run failed (or was lost, or stopped short): the error line, then the log's last lines. */
export function renderWhy(page: RunPageData, act: Act): HTMLElement | null {
  const { run } = page.detail;
  if (!['failed', 'lost', 'incomplete'].includes(run.status)) return null;
  const line = page.tail?.errorLine ?? null;
  const lines = page.tail?.lines ?? [];
  const reason = run.statusReason ?? (run.exitCode !== null ? `exit code ${run.exitCode}` : run.status);
  return section('why', run.status === 'failed' ? 'Why it failed' : run.status === 'lost' ? 'Why it was lost' : 'Why it is incomplete',
    line ? h('p', { class: 'error-line', attrs: { role: 'alert' }, text: line }) : h('p', { class: 'reason-line', text: reason }),
    line ? h('p', { class: 'muted', text: `Run ended: ${reason}.` }) : null,
    lines.length ? h('pre', { class: 'log-tail', attrs: { tabindex: '0', 'aria-label': 'The last lines of the log' }, text: lines.join('\n') }) : null,
    h('div', { class: 'row-actions' }, button('Show Full Log', () => act({ action: 'showLog' }))));
}

/** Every field of the recorded launch spec, overrides first. */
export function renderLaunch(page: RunPageData): HTMLElement {
  const spec = page.detail.launch;
  if (!spec) return section('launch', 'Launch spec', empty(page.detail.run.source === 'launch' ? 'The daemon did not send this run\'s launch spec.' : `Not launched by Keel (${page.detail.run.source === 'watch' ? 'watched' : 'imported'}): no launch spec.`));
  const keys = Object.keys(spec).sort((a, b) => Number(b === 'overrides') - Number(a === 'overrides'));
  return section('launch', 'Launch spec', table(['field', 'value'], keys.map((k) => [specLabel(k), specValue(spec[k])]), 'kv'));
}

export function renderMetrics(page: RunPageData): HTMLElement {
  const series = page.detail.metrics;
  if (series.length === 0) return section('metrics', 'Metrics', empty('No metrics recorded yet.'));
  const total = page.detail.metricsTotal ?? series.length;
  const rows = series.slice(0, MAX_METRICS).map((s) => [s.key, num(s.lastValue), num(s.min), num(s.max), s.lastStep === null ? '—' : String(s.lastStep), String(s.points)]);
  return section('metrics', 'Metrics', table(['key', 'last', 'min', 'max', 'last step', 'points'], rows, 'numbers'),
    total > MAX_METRICS ? h('p', { class: 'muted', text: `${total - MAX_METRICS} more series: Compare With… shows their curves.` }) : null);
}

/** `deletedAt` when the daemon records it (checkpoints whose files are gone). */
function deletedAt(c: Checkpoint): number | null {
  const v = (c as Checkpoint & { deletedAt?: unknown }).deletedAt;
  return typeof v === 'number' ? v : null;
}

function checkpointName(c: Checkpoint): string {
  const folder = c.location.replace(/\/+$/, '').split('/').pop() ?? c.location;
  if (c.step === null) return folder;
  return folder === `checkpoint-${c.step}` ? `step ${c.step}` : `step ${c.step} (${folder})`;
}

export function renderCheckpoints(page: RunPageData, now: number, act: Act): HTMLElement {
  const cps = [...page.detail.checkpoints].sort((a, b) => (a.step ?? -1) - (b.step ?? -1));
  if (cps.length === 0) return section('checkpoints', 'Checkpoints', empty('No checkpoints recorded.'));
  const rows = cps.map((c) => {
    const gone = deletedAt(c);
    const aliases = page.aliases[c.id] ?? [];
    const actions = h('span', { class: 'cell-actions' },
      linkButton('tag', () => act({ action: 'tagCheckpoint', checkpointId: c.id }), `Point an alias at ${checkpointName(c)}`),
      gone === null ? linkButton('pull', () => act({ action: 'pullCheckpoint', checkpointId: c.id }), 'Copy it to this machine') : null,
      linkButton('copy path', () => act({ action: 'copyText', text: c.location }), c.location));
    return [checkpointName(c), c.kind === 'unknown' ? '—' : c.kind, bytes(c.sizeBytes), gone === null ? 'present' : `deleted ${ago(gone, now)}`,
      aliases.join(', ') || '—', h('span', { class: 'path', title: c.location, text: c.location }), actions];
  });
  return section('checkpoints', 'Checkpoints', table(['checkpoint', 'kind', 'size', 'state', 'aliases', 'location', ''], rows));
}

export function renderEvals(page: RunPageData, act: Act): HTMLElement {
  const evals = [...page.detail.evals].sort((a, b) => a.task.localeCompare(b.task) || a.metric.localeCompare(b.metric));
  const body: HTMLElement[] = [];
  if (evals.length) {
    body.push(table(['task', 'metric', 'value', '± stderr', 'n-shot'], evals.map((e) => [e.task, e.filter && e.filter !== 'none' ? `${e.metric} (${e.filter})` : e.metric, num(e.value), e.stderr === null ? '—' : num(e.stderr), e.nShot === null ? '—' : String(e.nShot)]), 'numbers'));
  }
  if (page.evalRuns.length) {
    body.push(h('p', { class: 'muted', text: 'Eval runs of its checkpoints:' }), h('ul', { class: 'run-list' },
      ...page.evalRuns.map((r) => h('li', {}, linkButton(r.name, () => act({ action: 'openRun', target: r.id })), h('span', { class: `status status-${r.status}`, text: r.status })))));
  }
  return section('evals', 'Evals', ...(body.length ? body : [empty('No eval results for this run yet.')]));
}

const KIND_WORDS: Record<string, string> = { dataset_version: 'dataset', code_version: 'code', config: 'config', checkpoint: 'checkpoint', run: 'run', eval: 'eval results', model: 'model' };

function nodeItem(n: LineageNode, act: Act): HTMLElement {
  const kind = KIND_WORDS[n.kind] ?? n.kind;
  const label = n.kind === 'run' ? linkButton(n.label, () => act({ action: 'openRun', target: n.id })) : h('span', { class: 'path', text: n.label, title: n.label });
  const status = typeof n.details.status === 'string' ? h('span', { class: `status status-${n.details.status}`, text: n.details.status }) : null;
  return h('li', {}, h('span', { class: 'kind', text: kind }), label, status);
}

export function renderLineage(graph: LineageGraph | null, act: Act): HTMLElement {
  if (!graph) return section('lineage', 'Lineage', empty('The lineage could not be read.'));
  const list = (nodes: LineageNode[], none: string): HTMLElement => (nodes.length ? h('ul', { class: 'lineage-list' }, ...nodes.map((n) => nodeItem(n, act))) : empty(none));
  return section('lineage', 'Lineage',
    h('h3', { text: 'Came from' }), list(graph.ancestors, 'Nothing recorded.'),
    h('h3', { text: 'Led to' }), list(graph.descendants, 'Nothing yet.'),
    h('div', { class: 'row-actions' }, button('Show Lineage Graph', () => act({ action: 'showLineage' }))));
}

/** The end of the log, for a run that did not fail (a failed one shows it under "Why it failed"). */
export function renderLog(page: RunPageData, act: Act): HTMLElement | null {
  if (['failed', 'lost', 'incomplete'].includes(page.detail.run.status)) return null;
  const lines = page.tail?.lines ?? [];
  return section('log', 'Log',
    lines.length ? h('pre', { class: 'log-tail', attrs: { tabindex: '0', 'aria-label': 'The last lines of the log' }, text: lines.join('\n') }) : empty('No log yet.'),
    h('div', { class: 'row-actions' }, button('Show Full Log', () => act({ action: 'showLog' }))));
}

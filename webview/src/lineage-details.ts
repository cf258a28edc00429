/**
 * The side panel of the selected lineage node: its facts formatted for people (dates, sizes,
 * short hashes, paths you can open), what it came from and what came of it (each a button
 * that selects that node, so the graph can be walked from the keyboard), and actions.
 */
import type { LineageEdge, LineageNode } from '../../daemon/src/protocol/domain.ts';
import { badge, linkButton } from './controls.ts';
import { h } from './dom.ts';
import { formatBytes, formatDate, runStatusClass } from './format.ts';
import { nodeCaption, nodeTitle, type LabelContext } from './lineage-labels.ts';
import { nodeKey } from './lineage-graph.ts';
import { RunStatuses, type RunStatus } from '../../daemon/src/protocol/domain.ts';

export interface DetailActions {
  select(key: string): void;
  openRun(runId: string): void;
  openPath(path: string): void;
  showLineage(ref: string): void;
}

type Fact = [label: string, value: Node | string | null];

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const code = (text: string | null): HTMLElement | null => (text === null ? null : h('code', { text }));
const isStatus = (s: string | null): s is RunStatus => s !== null && (RunStatuses as readonly string[]).includes(s);

/** A path as text plus a button that opens it (only local paths: `host:/path` stays on its host). */
function pathFact(path: string | null, a: DetailActions): Node | null {
  if (path === null) return null;
  const local = path.startsWith('/');
  return h('span', { class: 'path-fact' }, h('code', { class: 'path', text: path }),
    local ? linkButton('Open', `Open ${path} in the editor (a folder is revealed in the Explorer)`, () => a.openPath(path)) : null);
}

/** The facts of a node, by kind, formatted. */
function facts(n: LineageNode, ctx: LabelContext, a: DetailActions): Fact[] {
  const d = n.details;
  switch (n.kind) {
    case 'run': {
      const status = str(d.status);
      return [['Status', isStatus(status) ? badge(status, `status ${runStatusClass(status)}`) : status], ['Host', str(d.host)],
        ['Created', formatDate(d.createdAt)], ['Output folder', pathFact(str(d.outputDir), a)], ['Exit code', num(d.exitCode) === null ? null : String(d.exitCode)]];
    }
    case 'checkpoint': {
      const runId = str(d.runId);
      const run = runId ? linkButton(ctx.runNames.get(runId) ?? runId, 'Open the run that wrote it', () => a.openRun(runId)) : null;
      return [['Run', run], ['Step', num(d.step) === null ? null : String(d.step)], ['Kind', str(d.kind) === 'unknown' ? null : str(d.kind)],
        ['Size', num(d.sizeBytes) === null ? null : formatBytes(d.sizeBytes)], ['Hash', code(str(d.hash))], ['Aliases', str(d.aliases)],
        ['Recorded', num(d.createdAt) === null ? null : formatDate(d.createdAt)], ['Location', str(d.runId) || n.label.startsWith('/') ? pathFact(n.label, a) : code(n.label)]];
    }
    case 'dataset_version':
      return [['Path', code(n.label)], ['Hash', code(str(d.hash))], ['Size', num(d.sizeBytes) === null ? null : formatBytes(d.sizeBytes)],
        ['Files', num(d.files) === null ? null : String(d.files)], ['Version', d.latest === false ? 'an older version' : d.latest === true ? 'the latest' : null],
        ['Recorded', formatDate(d.createdAt)]];
    case 'config':
      return [['File', pathFact(str(d.path), a)], ['Hash', code(str(d.hash))], ['Flavor', str(d.flavor)]];
    case 'code_version':
      return [['Commit', code(str(d.commit))], ['Branch', str(d.branch)], ['Uncommitted changes', d.dirty === true ? 'yes' : d.dirty === false ? 'no' : null], ['Remote', str(d.remote)]];
    case 'eval':
      return [['Tasks', str(d.taskNames)], ['Results', num(d.results) === null ? null : String(d.results)],
        ['Example', str(d.example)?.replace(/(\d\.\d{4})\d+/g, '$1') ?? null], ['Recorded', num(d.createdAt) === null ? null : formatDate(d.createdAt)],
        ['Results file', pathFact(str(d.sourcePath), a)]];
    default:
      return Object.entries(d).map(([k, v]): Fact => [k, v === null ? null : String(v)]);
  }
}

const KIND_WORDS: Partial<Record<LineageNode['kind'], string>> = { dataset_version: 'Dataset', code_version: 'Code', eval: 'Eval results' };
const kindWord = (n: LineageNode, ctx: LabelContext): string =>
  n.kind === 'run' && ctx.evalJobs.has(n.id) ? 'Eval job' : KIND_WORDS[n.kind] ?? n.kind.charAt(0).toUpperCase() + n.kind.slice(1);

/** "Came from" and "Led to": the neighbours, as buttons that select them. */
function neighbourList(title: string, keys: readonly string[], nodes: ReadonlyMap<string, LineageNode>, ctx: LabelContext, a: DetailActions): HTMLElement | null {
  const items = keys.map((k) => nodes.get(k)).filter((n): n is LineageNode => n !== undefined);
  if (items.length === 0) return null;
  return h('div', { class: 'neighbours' }, h('h4', { text: title }),
    h('ul', {}, ...items.map((n) => h('li', {}, linkButton(nodeTitle(n), `Select ${nodeCaption(n, ctx)}`, () => a.select(nodeKey(n.kind, n.id)), 'link-button neighbour'),
      h('span', { class: 'muted', text: ` ${nodeCaption(n, ctx)}` })))));
}

/** Renders the panel for `node` (or a hint when nothing is selected). */
export function nodeDetails(node: LineageNode | undefined, graph: { nodes: ReadonlyMap<string, LineageNode>; edges: readonly LineageEdge[] }, ctx: LabelContext, a: DetailActions): HTMLElement {
  if (!node) return h('aside', { class: 'node-details empty', attrs: { 'aria-label': 'Node details' } }, 'Select a node (click, or Tab to it and press Enter) to see its details here.');
  const key = nodeKey(node.kind, node.id);
  const rows = facts(node, ctx, a).filter((f): f is [string, Node | string] => f[1] !== null && f[1] !== '—');
  const from = graph.edges.filter((e) => nodeKey(e.toKind, e.toId) === key).map((e) => nodeKey(e.fromKind, e.fromId));
  const to = graph.edges.filter((e) => nodeKey(e.fromKind, e.fromId) === key).map((e) => nodeKey(e.toKind, e.toId));
  const actions = h('div', { class: 'detail-actions' },
    node.kind === 'run' ? linkButton('Open run', `Open run ${node.label}`, () => a.openRun(node.id)) : null,
    linkButton('Show its own lineage', 'Open the lineage view of this record, centred on it', () => a.showLineage(node.id)));
  return h('aside', { class: 'node-details', attrs: { 'aria-label': `Details of ${nodeTitle(node)}`, 'data-key': key } },
    h('div', { class: 'detail-kind muted', text: kindWord(node, ctx) }),
    h('h3', { class: 'detail-title', text: nodeTitle(node) }),
    h('dl', {}, ...rows.flatMap(([label, value]) => [h('dt', { text: label }), h('dd', {}, value)])),
    actions,
    neighbourList('Came from', [...new Set(from)], graph.nodes, ctx, a),
    neighbourList('Led to', [...new Set(to)], graph.nodes, ctx, a));
}

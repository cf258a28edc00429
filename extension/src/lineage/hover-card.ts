/**
 * The lineage hover card as Markdown: what a record is, what produced it, what came of it,
 * and command links. Pure (no vscode) so it is tested against real daemon graphs.
 */
import type { LineageGraph, LineageNode } from '../../../daemon/src/protocol/index.ts';
import { formatBytes, formatValue, plural } from '../format.ts';
import { commandLink, mdCode, mdText } from './markdown.ts';

/** Keel commands the card links to; the hover's MarkdownString trusts exactly these. */
export const HoverCommands = ['keel.openRun', 'keel.compareRuns', 'keel.showLineage', 'keel.tagCheckpoint'] as const;

type Node = LineageNode & { depth?: number };

/** At most this many items per list, then "and N more". */
const MAX_ITEMS = 3;

const KIND_NAMES: Record<string, string> = {
  run: 'run', checkpoint: 'checkpoint', dataset_version: 'dataset', config: 'config', code_version: 'code', eval: 'eval results',
  model: 'model', project: 'project', dataset: 'dataset', host: 'host', sweep: 'sweep',
};

/** Profile warnings shown on a dataset's card, then "and N more". */
const MAX_WARNINGS = 4;

/**
 * The card for `node`; `graph` (lineage/get, depth 2) adds where it came from and what came of
 * it; `warnings` (a dataset version's profile) are listed under the headline.
 */
export function renderHoverCard(node: LineageNode, graph: LineageGraph | null, warnings: readonly string[] = []): string {
  const lines = [headline(node)];
  if (warnings.length) {
    const shown = warnings.slice(0, MAX_WARNINGS).map((w) => `⚠ ${mdText(w)}`);
    if (warnings.length > MAX_WARNINGS) shown.push(`and ${warnings.length - MAX_WARNINGS} more in the Datasets view`);
    lines.push(shown.join('  \n'));
  }
  if (graph) {
    const from = producedBy(graph, node.kind === 'run' ? 'parent run' : 'run');
    if (from) lines.push(`**From** ${from}`);
    const led = ledTo(graph);
    if (led) lines.push(`**Led to** ${led}`);
  }
  const links = actionLinks(node, graph);
  if (links) lines.push(links);
  return lines.join('\n\n');
}

/** `**checkpoint** \`…/checkpoint-250\` · step 250 · full · sha256:e6012eb5ed3f · 47.0 KB · aliases candidate`. */
export function headline(node: LineageNode): string {
  const d = node.details;
  const facts: string[] = [];
  const str = (k: string): string | null => (typeof d[k] === 'string' && d[k] !== '' ? d[k] : null);
  const num = (k: string): number | null => (typeof d[k] === 'number' ? d[k] : null);
  if (node.kind === 'run') facts.push(...[str('status'), str('host') && `on ${str('host')}`].filter((x): x is string => !!x));
  if (node.kind === 'checkpoint') {
    if (num('step') !== null) facts.push(`step ${num('step')}`);
    if (str('kind') && str('kind') !== 'unknown') facts.push(str('kind') as string);
    if (d.final === true) facts.push('final model');
    // Seen gone from disk: shown as history, never offered (no Tag link below).
    if (num('deletedAt') !== null) facts.push('**deleted from disk**');
  }
  if (node.kind === 'eval' && d.evalJobFailed === true) facts.push('**from an eval job that failed**');
  if (node.kind === 'code_version' && d.dirty === true) facts.push('dirty');
  if (node.kind === 'config' && (str('flavorLabel') ?? str('flavor'))) facts.push(mdText(str('flavorLabel') ?? `${str('flavor')} config`));
  if (node.kind === 'dataset_version' && d.latest === false) facts.push('not the latest version');
  const example = str('example');
  if (node.kind === 'eval' && example) facts.push(mdText(roundNumbers(example)));
  const hash = str('hash');
  if (hash) facts.push(mdCode(hash));
  const size = num('sizeBytes');
  if (size !== null) facts.push(formatBytes(size));
  const files = num('files');
  if (node.kind === 'dataset_version' && files !== null && files > 1) facts.push(`${files} files`);
  const aliases = str('aliases');
  if (aliases) facts.push(`aliases ${mdText(aliases)}`);
  const kind = KIND_NAMES[node.kind] ?? node.kind;
  return [`**${kind}** ${mdCode(shortLabel(node.label))}`, ...facts].join(' · ');
}

/** Long absolute paths keep their last three segments: the part a person recognises. */
export function shortLabel(label: string): string {
  const parts = label.split('/');
  return parts.length > 4 ? `…/${parts.slice(-3).join('/')}` : label;
}

function producedBy(graph: LineageGraph, runWord: string): string | undefined {
  const up = graph.ancestors;
  const parts: string[] = [];
  const runs = up.filter((n) => n.kind === 'run').sort((a, b) => a.depth - b.depth);
  for (const run of runs.slice(0, 1)) {
    const host = typeof run.details.host === 'string' ? ` on ${mdText(run.details.host)}` : '';
    parts.push(`${runWord} ${runLink(run)}${host}`);
  }
  const configs = up.filter((n) => n.kind === 'config');
  if (configs.length) parts.push(`config ${list(configs, (n) => mdCode(n.label))}`);
  const data = up.filter((n) => n.kind === 'dataset_version');
  if (data.length) parts.push(`data ${list(data, (n) => `${mdCode(n.label)}${hashSuffix(n)}`)}`);
  const code = up.filter((n) => n.kind === 'code_version');
  if (code.length) parts.push(`code ${list(code, (n) => mdCode(n.label))}`);
  const bases = baseModels(graph);
  if (bases.length) parts.push(`base ${list(bases, (n) => mdCode(shortLabel(n.label)))}`);
  return parts.length ? parts.join(' · ') : undefined;
}

/** Model records (or another run's checkpoints) that are the base model of the record or of the run that produced it. */
function baseModels(graph: LineageGraph): Node[] {
  const baseIds = new Set(graph.edges.filter((e) => e.type === 'base_model' && (e.fromKind === 'checkpoint' || e.fromKind === 'model')).map((e) => e.fromId));
  return graph.ancestors.filter((n) => (n.kind === 'checkpoint' || n.kind === 'model') && baseIds.has(n.id));
}

function ledTo(graph: LineageGraph): string | undefined {
  const down = graph.descendants;
  const parts: string[] = [];
  const runs = down.filter((n) => n.kind === 'run');
  if (runs.length) parts.push(`${plural(runs.length, 'run')} ${list(newestFirst(runs), runLink)}`);
  const ckpts = down.filter((n) => n.kind === 'checkpoint');
  // Only its own checkpoints: deeper ones belong to the runs listed above.
  const own = ckpts.filter((n) => n.depth === 1);
  if (own.length) parts.push(plural(own.length, 'checkpoint'));
  const evals = down.filter((n) => n.kind === 'eval');
  if (evals.length) parts.push(`evals ${list(evals, (n) => mdText(typeof n.details.example === 'string' ? roundNumbers(n.details.example) : n.label))}`);
  const aliases = [...new Set(ckpts.flatMap((n) => (typeof n.details.aliases === 'string' ? n.details.aliases.split(', ') : [])))];
  if (aliases.length) parts.push(`aliases ${mdText(aliases.join(', '))}`);
  return parts.length ? parts.join(' · ') : undefined;
}

function actionLinks(node: LineageNode, graph: LineageGraph | null): string | undefined {
  const links: string[] = [];
  const run = runOf(node, graph);
  if (run) links.push(commandLink('Open run', 'keel.openRun', [run]));
  const parent = graph && run ? parentRunOf(run, graph) : undefined;
  if (parent && run) links.push(commandLink('Compare with parent', 'keel.compareRuns', [parent, run]));
  links.push(commandLink('Show lineage', 'keel.showLineage', [node.id]));
  if (node.kind === 'checkpoint' && typeof node.details.deletedAt !== 'number') links.push(commandLink('Tag', 'keel.tagCheckpoint', [node.id]));
  return links.join(' · ');
}

/** The run a card's "Open run" means: the record itself, the run that produced it, else the newest run that used it. */
export function runOf(node: LineageNode, graph: LineageGraph | null): string | undefined {
  if (node.kind === 'run') return node.id;
  if (typeof node.details.runId === 'string') return node.details.runId;
  if (!graph) return undefined;
  const producer = graph.ancestors.find((n) => n.kind === 'run' && n.depth === 1);
  if (producer) return producer.id;
  return newestFirst(graph.descendants.filter((n) => n.kind === 'run'))[0]?.id;
}

/**
 * The run `runId` came from: the run that wrote its base-model checkpoint, or the run it
 * reran. Only what the (depth-2) graph shows; undefined when there is none.
 */
export function parentRunOf(runId: string, graph: LineageGraph): string | undefined {
  const nodes = new Map([graph.root, ...graph.ancestors, ...graph.descendants].map((n) => [`${n.kind}:${n.id}`, n]));
  for (const e of graph.edges) {
    if (e.toKind !== 'run' || e.toId !== runId) continue;
    if (e.fromKind === 'run' && e.fromId !== runId) return e.fromId;
    const base = e.type === 'base_model' ? nodes.get(`checkpoint:${e.fromId}`) : undefined;
    const baseRun = base?.details.runId;
    if (typeof baseRun === 'string' && baseRun !== runId) return baseRun;
  }
  return undefined;
}

/** `tiny_reverse acc=0.9871428571428571` → `tiny_reverse acc=0.9871`. */
export function roundNumbers(text: string): string {
  return text.replace(/-?\d+\.\d{5,}(e-?\d+)?/g, (m) => formatValue(Number(m)));
}

function runLink(n: Node): string {
  const status = typeof n.details.status === 'string' && n.details.status !== 'succeeded' ? ` (${mdText(n.details.status)})` : '';
  // Runs of one config differ by their overrides: name them unless the run's name already does.
  const overrides = typeof n.details.overrides === 'string' ? n.details.overrides : '';
  const shown = overrides.split(' ').every((o) => n.label.includes(o.slice(o.indexOf('=') + 1)));
  return `${commandLink(n.label, 'keel.openRun', [n.id])}${overrides && !shown ? ` (${mdText(overrides)})` : ''}${status}`;
}

function hashSuffix(n: Node): string {
  return typeof n.details.hash === 'string' ? ` ${mdCode(n.details.hash.replace(/^\w+:/, '').slice(0, 8))}` : '';
}

function newestFirst(nodes: Node[]): Node[] {
  const at = (n: Node): number => (typeof n.details.createdAt === 'number' ? n.details.createdAt : 0);
  return [...nodes].sort((a, b) => at(b) - at(a));
}

function list(nodes: Node[], show: (n: Node) => string): string {
  const shown = nodes.slice(0, MAX_ITEMS).map(show).join(', ');
  return nodes.length > MAX_ITEMS ? `${shown} and ${nodes.length - MAX_ITEMS} more` : shown;
}

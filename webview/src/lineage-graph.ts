/**
 * Lineage as a small left-to-right graph: datasets and configs → runs → checkpoints →
 * evals, one column per kind, built from the runs' lineage graphs merged into one.
 */
import type { LineageEdge, LineageGraph, LineageNode, RecordKind } from '../../daemon/src/protocol/domain.ts';
import { clear, h, pressable, svg } from './dom.ts';

/** Column of a kind: inputs, runs, checkpoints, evals. */
const kindColumn: Record<RecordKind, number> = {
  project: 0, dataset: 0, dataset_version: 0, config: 0, code_version: 0, host: 0, sweep: 0, model: 0,
  run: 1, checkpoint: 2, eval: 3,
};
/** Order inside a column. */
const kindOrder: RecordKind[] = ['dataset', 'dataset_version', 'config', 'code_version', 'checkpoint', 'model', 'host', 'project', 'sweep', 'run', 'eval'];

export const NodeSize = { width: 196, height: 38, gapX: 56, gapY: 14, pad: 12 };

export interface PlacedNode {
  key: string;
  node: LineageNode;
  column: number;
  x: number;
  y: number;
}

export interface PlacedEdge {
  from: string;
  to: string;
  type: string;
  /** SVG path data. */
  d: string;
}

export interface LineageLayout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}

export const nodeKey = (kind: RecordKind, id: string): string => `${kind}:${id}`;

/** Every node and edge of several graphs, once each. */
export function mergeGraphs(graphs: readonly LineageGraph[]): { nodes: LineageNode[]; edges: LineageEdge[] } {
  const nodes = new Map<string, LineageNode>();
  const edges = new Map<string, LineageEdge>();
  for (const g of graphs) {
    for (const n of [g.root, ...g.ancestors, ...g.descendants]) {
      const k = nodeKey(n.kind, n.id);
      if (!nodes.has(k)) nodes.set(k, { kind: n.kind, id: n.id, label: n.label, details: n.details });
    }
    for (const e of g.edges) edges.set(`${nodeKey(e.fromKind, e.fromId)}>${nodeKey(e.toKind, e.toId)}:${e.type}`, e);
  }
  const known = (e: LineageEdge): boolean => nodes.has(nodeKey(e.fromKind, e.fromId)) && nodes.has(nodeKey(e.toKind, e.toId));
  return { nodes: [...nodes.values()], edges: [...edges.values()].filter(known) };
}

/**
 * A checkpoint that only feeds runs (a base model) is an input: it goes in the first
 * column, not after the runs, so every edge still points right.
 */
function columnOf(n: LineageNode, edges: readonly LineageEdge[]): number {
  if (n.kind === 'checkpoint') {
    const producedHere = edges.some((e) => e.toKind === 'checkpoint' && e.toId === n.id && e.fromKind === 'run');
    const feedsRun = edges.some((e) => e.fromKind === 'checkpoint' && e.fromId === n.id && e.toKind === 'run');
    if (feedsRun && !producedHere) return 0;
  }
  return kindColumn[n.kind];
}

/** Places nodes in columns; inside a column, by kind then by the mean row of their neighbours on the left (fewer crossings). */
export function layoutLineage(nodes: readonly LineageNode[], edges: readonly LineageEdge[]): LineageLayout {
  const { width: W, height: H, gapX, gapY, pad } = NodeSize;
  const columns = new Map<number, LineageNode[]>();
  for (const n of nodes) {
    const c = columnOf(n, edges);
    columns.set(c, [...(columns.get(c) ?? []), n]);
  }
  const used = [...columns.keys()].sort((a, b) => a - b);
  const row = new Map<string, number>();
  const placed: PlacedNode[] = [];
  used.forEach((col, ci) => {
    const list = columns.get(col) ?? [];
    const pull = (n: LineageNode): number => {
      const ns = edges.filter((e) => e.toKind === n.kind && e.toId === n.id).map((e) => row.get(nodeKey(e.fromKind, e.fromId))).filter((r): r is number => r !== undefined);
      return ns.length ? ns.reduce((a, b) => a + b, 0) / ns.length : Infinity;
    };
    const sorted = list
      .map((n) => ({ n, pull: pull(n), kind: kindOrder.indexOf(n.kind) }))
      .sort((a, b) => a.kind - b.kind || a.pull - b.pull || a.n.label.localeCompare(b.n.label));
    sorted.forEach(({ n }, i) => {
      const key = nodeKey(n.kind, n.id);
      row.set(key, i);
      placed.push({ key, node: n, column: ci, x: pad + ci * (W + gapX), y: pad + i * (H + gapY) });
    });
  });
  const at = new Map(placed.map((p) => [p.key, p]));
  const placedEdges: PlacedEdge[] = edges.flatMap((e) => {
    const a = at.get(nodeKey(e.fromKind, e.fromId));
    const b = at.get(nodeKey(e.toKind, e.toId));
    return a && b ? [{ from: a.key, to: b.key, type: e.type, d: edgePath(a, b) }] : [];
  });
  const rows = Math.max(1, ...[...columns.values()].map((l) => l.length));
  return { nodes: placed, edges: placedEdges, width: pad * 2 + used.length * W + Math.max(0, used.length - 1) * gapX, height: pad * 2 + rows * H + (rows - 1) * gapY };
}

/** A curve from the right side of `a` to the left side of `b` (or an arc on the right within one column). */
function edgePath(a: PlacedNode, b: PlacedNode): string {
  const { width: W, height: H } = NodeSize;
  const y1 = a.y + H / 2;
  const y2 = b.y + H / 2;
  if (a.column === b.column) {
    const x = a.x + W;
    return `M${x},${y1} C${x + 40},${y1} ${x + 40},${y2} ${x},${y2}`;
  }
  const x1 = a.x + W;
  const x2 = b.x;
  const mid = (x1 + x2) / 2;
  return `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
}

/** The second line of a node: its kind and one telling fact. */
export function nodeCaption(n: LineageNode): string {
  const d = n.details;
  const kind = n.kind === 'dataset_version' ? 'dataset' : n.kind.replace('_', ' ');
  if (n.kind === 'run' && typeof d.status === 'string') return `run · ${d.status}`;
  if (n.kind === 'checkpoint' && typeof d.step === 'number') return `checkpoint · step ${d.step}`;
  if (n.kind === 'eval' && typeof d.example === 'string') return `eval · ${d.example.replace(/(\d\.\d{4})\d+/g, '$1')}`;
  if ((n.kind === 'dataset_version' || n.kind === 'config') && typeof d.hash === 'string') return `${kind} · ${d.hash.replace(/^(\w+:)?(\w{8}).*$/, '$1$2')}`;
  return kind;
}

/** Labels (paths) keep their end; captions keep their start. */
const shorten = (s: string, max: number): string => (s.length <= max ? s : `…${s.slice(s.length - max + 1)}`);
const shortenEnd = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** Renders the graph into `root`; run nodes open the run. */
export function renderLineage(root: HTMLElement, layout: LineageLayout, onOpenRun: (runId: string) => void): void {
  clear(root);
  if (layout.nodes.length === 0) {
    root.append(h('p', { class: 'empty', text: 'No lineage recorded for these runs yet.' }));
    return;
  }
  const { width: W, height: H } = NodeSize;
  const edges = layout.edges.map((e) => svg('path', { d: e.d, class: `edge edge-${e.type}` }, svg('title', {}, document.createTextNode(e.type.replace('_', ' ')))));
  const nodes = layout.nodes.map((p) => {
    const n = p.node;
    const details = Object.entries(n.details).filter(([, v]) => v !== null && v !== '').map(([k, v]) => `${k}: ${String(v)}`);
    const g = svg('g', { class: `node node-${n.kind}`, transform: `translate(${p.x},${p.y})`, 'data-key': p.key },
      svg('title', {}, document.createTextNode([`${n.kind} ${n.label}`, ...details].join('\n'))),
      svg('rect', { width: W, height: H, rx: 4 }),
      svg('text', { x: 8, y: 15, class: 'label' }, document.createTextNode(shorten(n.label, 25))),
      svg('text', { x: 8, y: 30, class: 'caption' }, document.createTextNode(shortenEnd(nodeCaption(n), 30))));
    // Every node is reachable by Tab (its details read out); run nodes also open the run.
    if (n.kind === 'run') pressable(g, `Open run ${n.label}`, () => onOpenRun(n.id));
    else {
      g.setAttribute('tabindex', '0');
      g.setAttribute('role', 'img');
      g.setAttribute('aria-label', [`${n.kind.replace('_', ' ')} ${n.label}`, ...details].join(', '));
    }
    return g;
  });
  const graph = svg('svg', { width: layout.width, height: layout.height, viewBox: `0 0 ${layout.width} ${layout.height}`, role: 'group', 'aria-label': 'Lineage graph' },
    svg('g', { class: 'edges' }, ...edges), svg('g', { class: 'nodes' }, ...nodes));
  root.append(h('p', { class: 'summary', text: 'Datasets and configs → runs → checkpoints → evals. Choose a run to open it; hover a node for its details.' }),
    h('div', { class: 'lineage-scroll' }, graph));
}

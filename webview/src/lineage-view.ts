/**
 * The lineage section: the graph (SVG) beside the selected node's details. A node is
 * selected by a click, or by Enter/Space after Tab reaches it; the selected node and its
 * edges are highlighted; a focused node ("Show Lineage" on a checkpoint) is selected and
 * scrolled into view. No raw browser tooltips: the details panel says it all, formatted.
 */
import type { LineageEdge, LineageNode } from '../../daemon/src/protocol/domain.ts';
import { clear, h, svg } from './dom.ts';
import { nodeDetails, type DetailActions } from './lineage-details.ts';
import { NodeSize, type LineageLayout } from './lineage-graph.ts';
import { fitText, nodeCaption, nodeTitle, type LabelContext } from './lineage-labels.ts';

/** Characters that fit a node's width at the label's and caption's font sizes. */
const LABEL_CHARS = 29;
const CAPTION_CHARS = 34;

export interface LineageView {
  layout: LineageLayout;
  /** The merged graph's edges (the details panel lists each node's neighbours). */
  edges: readonly LineageEdge[];
  labels: LabelContext;
  /** The selected node's key (`kind:id`), if any. */
  selected: string | null;
  /** Scroll the selected node into view and give it keyboard focus (a requested focus). */
  reveal: boolean;
  actions: DetailActions;
}

/** A title that fits: a list (an eval's tasks) keeps its first item and says how many more; a name is cut in the middle. */
export function fitTitle(title: string): string {
  const items = title.split(', ');
  if (title.length <= LABEL_CHARS || items.length < 2) return fitText(title, LABEL_CHARS);
  return fitText(`${items[0] ?? ''} +${items.length - 1} more`, LABEL_CHARS);
}

/** The node's group: its box, name and caption, reachable by Tab, selected by Enter or Space. */
function nodeGroup(p: LineageLayout['nodes'][number], v: LineageView): SVGGElement {
  const n = p.node;
  const title = nodeTitle(n);
  const caption = nodeCaption(n, v.labels);
  const g = svg('g', { class: `node node-${n.kind}${p.key === v.selected ? ' selected' : ''}`, transform: `translate(${p.x},${p.y})`, 'data-key': p.key,
    tabindex: 0, role: 'button', 'aria-pressed': String(p.key === v.selected), 'aria-label': `${caption}: ${title}` },
  svg('rect', { width: NodeSize.width, height: NodeSize.height, rx: 4 }),
  svg('text', { x: 8, y: 16, class: 'label' }, document.createTextNode(fitTitle(title))),
  svg('text', { x: 8, y: 32, class: 'caption' }, document.createTextNode(fitText(caption, CAPTION_CHARS))));
  const select = (): void => v.actions.select(p.key);
  g.addEventListener('click', select);
  g.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' && ev.key !== ' ') return;
    ev.preventDefault();
    select();
  });
  return g;
}

/** Renders the section into `root`. */
export function renderLineage(root: HTMLElement, v: LineageView): void {
  clear(root);
  if (v.layout.nodes.length === 0) {
    root.append(h('p', { class: 'empty', text: 'No lineage recorded for these runs yet.' }));
    return;
  }
  const { layout } = v;
  const touches = (e: LineageLayout['edges'][number]): boolean => v.selected !== null && (e.from === v.selected || e.to === v.selected);
  const column = new Map(layout.nodes.map((p) => [p.key, p.column]));
  // An edge that skips columns (an eval job's data and code) crosses the graph: drawn faint until its node is selected.
  const long = (e: LineageLayout['edges'][number]): boolean => (column.get(e.to) ?? 0) - (column.get(e.from) ?? 0) > 1;
  const edges = layout.edges.map((e) => svg('path', { d: e.d, class: `edge edge-${e.type}${long(e) ? ' long' : ''}${touches(e) ? ' selected' : ''}`, 'data-from': e.from, 'data-to': e.to }));
  const graph = svg('svg', { width: layout.width, height: layout.height, viewBox: `0 0 ${layout.width} ${layout.height}`, role: 'group', 'aria-label': 'Lineage graph' },
    svg('g', { class: 'edges' }, ...edges), svg('g', { class: 'nodes' }, ...layout.nodes.map((p) => nodeGroup(p, v))));
  const nodes = new Map<string, LineageNode>(layout.nodes.map((p) => [p.key, p.node]));
  const selectedNode = v.selected === null ? undefined : nodes.get(v.selected);
  const scroll = h('div', { class: 'lineage-scroll', attrs: { tabindex: '-1' } }, graph);
  root.append(h('p', { class: 'summary', text: 'Inputs → runs → checkpoints → evals. Select a node for its details; Tab moves between nodes.' }),
    h('div', { class: 'lineage-layout' }, scroll, nodeDetails(selectedNode, { nodes, edges: v.edges }, v.labels, v.actions)));
  if (v.reveal && v.selected !== null) revealNode(root, v.selected);
}

/**
 * Moves the selection without drawing the graph again (the scroll position and keyboard
 * focus stay): the highlight, the node's edges and the details panel.
 */
export function selectNode(root: HTMLElement, v: LineageView): void {
  for (const g of root.querySelectorAll<SVGGElement>('g.node')) {
    const on = g.dataset.key === v.selected;
    g.classList.toggle('selected', on);
    g.setAttribute('aria-pressed', String(on));
  }
  for (const e of root.querySelectorAll<SVGPathElement>('path.edge')) {
    e.classList.toggle('selected', v.selected !== null && (e.dataset.from === v.selected || e.dataset.to === v.selected));
  }
  const nodes = new Map<string, LineageNode>(v.layout.nodes.map((p) => [p.key, p.node]));
  const node = v.selected === null ? undefined : nodes.get(v.selected);
  root.querySelector('aside.node-details')?.replaceWith(nodeDetails(node, { nodes, edges: v.edges }, v.labels, v.actions));
  if (v.reveal && v.selected !== null) revealNode(root, v.selected);
}

/** Scrolls a node into the middle of the graph's view and focuses it. */
export function revealNode(root: HTMLElement, key: string): void {
  const el = root.querySelector<SVGGElement>(`g.node[data-key="${CSS.escape(key)}"]`);
  if (!el) return;
  // "nearest": the least scrolling that shows it, so the inputs on the left stay in view when they can.
  el.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  el.focus({ preventScroll: true });
}

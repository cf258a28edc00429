/**
 * Lineage as a left-to-right graph: datasets and configs → runs → checkpoints → eval jobs →
 * evals, built from the runs' lineage graphs merged into one, laid out to stay legible at
 * fifty nodes: every edge points right, nodes are ordered for few crossings and sit near
 * their neighbours, and text keeps its size (the graph scrolls).
 */
import type { LineageEdge, LineageGraph, LineageNode, RecordKind } from '../../daemon/src/protocol/domain.ts';

/** Column of a kind before edges push it right: inputs, runs, checkpoints, evals. */
const kindColumn: Record<RecordKind, number> = {
  project: 0, dataset: 0, dataset_version: 0, config: 0, code_version: 0, host: 0, sweep: 0, model: 0,
  run: 1, checkpoint: 2, eval: 3,
};
/** Kinds that stay in the first column whatever feeds them (a config that names a dataset). */
const INPUT_KINDS: ReadonlySet<RecordKind> = new Set(['project', 'dataset', 'dataset_version', 'config', 'code_version', 'host', 'sweep', 'model']);
/** Order inside a column before crossings are reduced. */
const kindOrder: RecordKind[] = ['dataset', 'dataset_version', 'config', 'code_version', 'checkpoint', 'model', 'host', 'project', 'sweep', 'run', 'eval'];

export const NodeSize = { width: 220, height: 40, gapX: 56, gapY: 12, pad: 12 };

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
const fromKey = (e: LineageEdge): string => nodeKey(e.fromKind, e.fromId);
const toKey = (e: LineageEdge): string => nodeKey(e.toKind, e.toId);

/** Every node and edge of several graphs, once each. */
export function mergeGraphs(graphs: readonly LineageGraph[]): { nodes: LineageNode[]; edges: LineageEdge[] } {
  const nodes = new Map<string, LineageNode>();
  const edges = new Map<string, LineageEdge>();
  for (const g of graphs) {
    for (const n of [g.root, ...g.ancestors, ...g.descendants]) {
      const k = nodeKey(n.kind, n.id);
      if (!nodes.has(k)) nodes.set(k, { kind: n.kind, id: n.id, label: n.label, details: n.details });
    }
    for (const e of g.edges) edges.set(`${fromKey(e)}>${toKey(e)}:${e.type}`, e);
  }
  const known = (e: LineageEdge): boolean => nodes.has(fromKey(e)) && nodes.has(toKey(e));
  return { nodes: [...nodes.values()], edges: [...edges.values()].filter(known) };
}

/**
 * A checkpoint that only feeds runs (a base model) is an input: it goes in the first
 * column, not after the runs, so every edge still points right.
 */
function baseColumn(n: LineageNode, edges: readonly LineageEdge[]): number {
  if (n.kind === 'checkpoint') {
    const producedHere = edges.some((e) => e.toKind === 'checkpoint' && e.toId === n.id && e.fromKind === 'run');
    const feedsRun = edges.some((e) => e.fromKind === 'checkpoint' && e.fromId === n.id && e.toKind === 'run');
    if (feedsRun && !producedHere) return 0;
  }
  return kindColumn[n.kind];
}

/**
 * Each node's column: its kind's, pushed right of everything that feeds it, so every edge
 * points right (an eval job sits after the checkpoint it measures, a run fine-tuned from a
 * checkpoint after that checkpoint). Bounded passes, so a cycle cannot loop. Columns
 * nothing uses are closed up.
 */
function assignColumns(nodes: readonly LineageNode[], edges: readonly LineageEdge[]): Map<string, number> {
  const col = new Map(nodes.map((n) => [nodeKey(n.kind, n.id), baseColumn(n, edges)]));
  const pushing = edges.filter((e) => !INPUT_KINDS.has(e.toKind) && fromKey(e) !== toKey(e));
  for (let pass = 0; pass < nodes.length; pass++) {
    let moved = false;
    for (const e of pushing) {
      const a = col.get(fromKey(e));
      const b = col.get(toKey(e));
      if (a === undefined || b === undefined || b > a) continue;
      col.set(toKey(e), a + 1);
      moved = true;
    }
    if (!moved) break;
  }
  const used = [...new Set(col.values())].sort((a, b) => a - b);
  return new Map([...col].map(([k, c]) => [k, used.indexOf(c)]));
}

/** Edges between two columns that cross, counted pairwise (what the ordering minimises). */
export function crossings(order: ReadonlyMap<string, number>, col: ReadonlyMap<string, number>, edges: readonly LineageEdge[]): number {
  const spans = edges.map((e) => ({ a: fromKey(e), b: toKey(e) })).filter((s) => col.get(s.a) !== col.get(s.b));
  let n = 0;
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) {
      const s = spans[i] as { a: string; b: string };
      const t = spans[j] as { a: string; b: string };
      if (col.get(s.a) !== col.get(t.a) || col.get(s.b) !== col.get(t.b)) continue;
      const da = (order.get(s.a) ?? 0) - (order.get(t.a) ?? 0);
      const db = (order.get(s.b) ?? 0) - (order.get(t.b) ?? 0);
      if (da * db < 0) n++;
    }
  }
  return n;
}

/** Steps a node's order starts from: kind, then step (checkpoints of a run in order), then label. */
function initialOrder(a: LineageNode, b: LineageNode): number {
  const step = (n: LineageNode): number => (typeof n.details.step === 'number' ? n.details.step : -1);
  return kindOrder.indexOf(a.kind) - kindOrder.indexOf(b.kind) || step(a) - step(b) || a.label.localeCompare(b.label);
}

/**
 * The order of nodes inside each column: the barycentre heuristic, sweeping right then left
 * a few times (each node goes to the mean place of its neighbours in the columns already
 * ordered), keeping the order with the fewest crossings.
 */
function orderColumns(nodes: readonly LineageNode[], edges: readonly LineageEdge[], col: ReadonlyMap<string, number>): string[][] {
  const columns: string[][] = [];
  for (const n of [...nodes].sort(initialOrder)) {
    const c = col.get(nodeKey(n.kind, n.id)) ?? 0;
    (columns[c] ??= []).push(nodeKey(n.kind, n.id));
  }
  const filled = columns.map((c) => c ?? []);
  const positions = (cols: string[][]): Map<string, number> => new Map(cols.flatMap((c) => c.map((k, i) => [k, i / Math.max(1, c.length - 1)] as [string, number])));
  const neighbours = (k: string, left: boolean): string[] => edges.filter((e) => (left ? toKey(e) === k : fromKey(e) === k)).map((e) => (left ? fromKey(e) : toKey(e)));
  let best = filled.map((c) => [...c]);
  let bestCrossings = crossings(positions(best), col, edges);
  const current = best.map((c) => [...c]);
  for (let sweep = 0; sweep < 8 && bestCrossings > 0; sweep++) {
    const left = sweep % 2 === 0;
    const idx = current.map((_, i) => i);
    for (const c of left ? idx.slice(1) : idx.reverse().slice(1)) {
      const pos = positions(current);
      const bary = (k: string, i: number): number => {
        const ns = neighbours(k, left).map((o) => pos.get(o)).filter((p): p is number => p !== undefined);
        return ns.length ? ns.reduce((a, b) => a + b, 0) / ns.length : i / Math.max(1, (current[c]?.length ?? 1) - 1);
      };
      const keyed = (current[c] ?? []).map((k, i) => ({ k, b: bary(k, i), i }));
      current[c] = keyed.sort((a, b) => a.b - b.b || a.i - b.i).map((x) => x.k);
    }
    const n = crossings(positions(current), col, edges);
    if (n < bestCrossings) {
      best = current.map((cc) => [...cc]);
      bestCrossings = n;
    }
  }
  return best;
}

/**
 * y of each node of a column: as near the mean y of its `targets` as the nodes above allow,
 * then the column shifted so it sits around its targets (never above the top margin).
 */
function placeColumn(keys: readonly string[], target: (k: string) => number | undefined, y: Map<string, number>): void {
  const { height: H, gapY, pad } = NodeSize;
  let prev = -Infinity;
  const placed = keys.map((k) => {
    const want = target(k);
    const at = Math.max(want ?? pad, prev + H + gapY, pad);
    prev = at;
    return { k, at, want };
  });
  const off = placed.filter((p) => p.want !== undefined).map((p) => p.at - (p.want as number));
  const shift = off.length ? Math.min(off.reduce((a, b) => a + b, 0) / off.length, (placed[0]?.at ?? pad) - pad) : 0;
  for (const p of placed) y.set(p.k, p.at - Math.max(0, shift));
}

/** Places nodes in columns (every edge pointing right), ordered for few crossings, each near its neighbours. */
export function layoutLineage(nodes: readonly LineageNode[], edges: readonly LineageEdge[]): LineageLayout {
  const { width: W, height: H, gapX, pad } = NodeSize;
  const col = assignColumns(nodes, edges);
  const columns = orderColumns(nodes, edges, col);
  const y = new Map<string, number>();
  const mean = (ks: string[]): number | undefined => {
    const ys = ks.map((k) => y.get(k)).filter((v): v is number => v !== undefined);
    return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : undefined;
  };
  const ins = (k: string): string[] => edges.filter((e) => toKey(e) === k && (col.get(fromKey(e)) ?? 0) < (col.get(k) ?? 0)).map(fromKey);
  const outs = (k: string): string[] => edges.filter((e) => fromKey(e) === k && (col.get(toKey(e)) ?? 0) > (col.get(k) ?? 0)).map(toKey);
  // Left to right, each node near what feeds it; then right to left, each node near what
  // came of it (a run moves beside its checkpoints, the inputs beside their runs).
  columns.forEach((keys) => placeColumn(keys, (k) => mean(ins(k)), y));
  for (let c = columns.length - 2; c >= 0; c--) placeColumn(columns[c] ?? [], (k) => mean(outs(k)) ?? y.get(k), y);
  const byKey = new Map(nodes.map((n) => [nodeKey(n.kind, n.id), n]));
  const placed: PlacedNode[] = columns.flatMap((keys, ci) => keys.map((key) => ({ key, node: byKey.get(key) as LineageNode, column: ci, x: pad + ci * (W + gapX), y: y.get(key) ?? pad })));
  const at = new Map(placed.map((p) => [p.key, p]));
  const placedEdges: PlacedEdge[] = edges.flatMap((e) => {
    const a = at.get(fromKey(e));
    const b = at.get(toKey(e));
    return a && b ? [{ from: a.key, to: b.key, type: e.type, d: edgePath(a, b) }] : [];
  });
  const bottom = Math.max(pad + H, ...placed.map((p) => p.y + H));
  return { nodes: placed, edges: placedEdges, width: pad * 2 + columns.length * W + Math.max(0, columns.length - 1) * gapX, height: bottom + pad };
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


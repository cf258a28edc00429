/** Lineage edges: typed, between any two records, indexed both ways. */
import type { LineageEdge, RecordKind } from '../protocol/index.ts';
import type { Db } from './db.ts';

/** The edge types Keel writes. `from` fed, produced or described `to`. */
export const EdgeTypes = {
  /** dataset_version → run: the run trained on this data (its config names it as training data). */
  UsedData: 'used_data',
  /**
   * dataset_version → run: the run evaluated on this data (its config names it as validation
   * data); dataset_version → eval: the eval's task read this data.
   */
  EvaluatedOn: 'evaluated_on',
  /**
   * dataset_version → run: shipped with the run because its config names no dataset — a
   * fallback, not a claim that the run read it.
   */
  ShippedData: 'shipped_data',
  /** config → run: the run's config. */
  UsedConfig: 'used_config',
  /** code_version → run: the code the run ran. */
  UsedCode: 'used_code',
  /**
   * model or checkpoint → run: the run started from (fine-tuned) this model; model or
   * checkpoint → checkpoint: an adapter's base (its adapter_config.json names it).
   */
  BaseModel: 'base_model',
  /** run → checkpoint: the run wrote this checkpoint. */
  Produced: 'produced',
  /** checkpoint → eval (or run → eval): the eval measured this. */
  Evaluated: 'evaluated',
  /** dataset_version → config: the config names this data (before any run uses it). */
  References: 'references',
  /** run → run: a rerun or a retry attempt. */
  Reran: 'reran',
  /** checkpoint → run: an eval job that measures this checkpoint. */
  EvaluatedBy: 'evaluated_by',
} as const;

export interface RecordRef {
  kind: RecordKind;
  id: string;
}

interface EdgeRow {
  from_kind: RecordKind;
  from_id: string;
  to_kind: RecordKind;
  to_id: string;
  type: string;
}

/** Edges per record a walk reads at once before it walks node by node instead (see LineageStore.walk). */
const WALK_FANOUT = 20;

/**
 * Breadth-first from `ref` over `step` (a record's edges onwards, in id order), up to
 * `maxDepth` hops; records past `maxNodes` are not added (their edges still count as
 * walked). Returns what a walk needs plus the last ring reached (`frontier`).
 */
function breadthFirst(ref: RecordRef, direction: 'up' | 'down', maxDepth: number, maxNodes: number, step: (node: RecordRef) => LineageEdge[]):
  { nodes: (RecordRef & { depth: number })[]; edges: LineageEdge[]; truncated: boolean; frontier: RecordRef[] } {
  const seen = new Set<string>([`${ref.kind}:${ref.id}`]);
  const nodes: (RecordRef & { depth: number })[] = [];
  const edges: LineageEdge[] = [];
  let frontier: RecordRef[] = [ref];
  let truncated = false;
  for (let depth = 1; depth <= maxDepth && frontier.length > 0; depth++) {
    const next: RecordRef[] = [];
    for (const node of frontier) {
      for (const e of step(node)) {
        edges.push(e);
        const other = direction === 'up' ? { kind: e.fromKind, id: e.fromId } : { kind: e.toKind, id: e.toId };
        const key = `${other.kind}:${other.id}`;
        if (seen.has(key)) continue;
        if (seen.size > maxNodes) {
          truncated = true;
          continue;
        }
        seen.add(key);
        nodes.push({ ...other, depth });
        next.push(other);
      }
    }
    frontier = next;
  }
  return { nodes, edges, truncated, frontier };
}

const toEdge = (r: EdgeRow): LineageEdge => ({ fromKind: r.from_kind, fromId: r.from_id, toKind: r.to_kind, toId: r.to_id, type: r.type });

export class LineageStore {
  private readonly db: Db;
  private readonly insert;
  constructor(db: Db) {
    this.db = db;
    this.insert = db.prepare(
      'INSERT OR IGNORE INTO lineage_edges (from_kind, from_id, to_kind, to_id, type, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
  }

  /** Adds an edge; adding the same edge twice is a no-op. Returns true when it was new. */
  addEdge(from: RecordRef, to: RecordRef, type: string): boolean {
    return this.insert.run(from.kind, from.id, to.kind, to.id, type, Date.now()).changes > 0;
  }

  /** Edges arriving at `ref` (its direct ancestors). */
  incoming(ref: RecordRef): LineageEdge[] {
    return (this.db.prepare('SELECT * FROM lineage_edges WHERE to_kind = ? AND to_id = ? ORDER BY id').all(ref.kind, ref.id) as EdgeRow[]).map(toEdge);
  }

  /** Edges leaving `ref` (its direct descendants). */
  outgoing(ref: RecordRef): LineageEdge[] {
    return (this.db.prepare('SELECT * FROM lineage_edges WHERE from_kind = ? AND from_id = ? ORDER BY id').all(ref.kind, ref.id) as EdgeRow[]).map(toEdge);
  }

  /**
   * Walks edges breadth-first from `ref` — `up` to ancestors (what it came from), `down` to
   * descendants (what came of it) — up to `maxDepth` hops and `maxNodes` records.
   * Returns the records reached (with their distance) and the edges walked.
   *
   * The edges come from one recursive query (every edge within `maxDepth - 1` hops of `ref`,
   * each once), and one more asks whether the last ring goes on; the breadth-first order,
   * the depths and the cut at `maxNodes` are then worked out in memory exactly as a walk
   * node by node would. A neighbourhood far larger than `maxNodes` (a base model a thousand
   * runs start from) is walked node by node instead, which stops expanding at `maxNodes`.
   */
  walk(ref: RecordRef, direction: 'up' | 'down', maxDepth = 10, maxNodes = 500): { nodes: (RecordRef & { depth: number })[]; edges: LineageEdge[]; truncated: boolean } {
    const reach = maxDepth > 0 ? this.edgesWithin(ref, direction, maxDepth, (maxNodes + 1) * WALK_FANOUT) : new Map<string, LineageEdge[]>();
    if (reach === null) return this.walkNodeByNode(ref, direction, maxDepth, maxNodes);
    const step = (node: RecordRef): LineageEdge[] => reach.get(`${node.kind}:${node.id}`) ?? [];
    const walked = breadthFirst(ref, direction, maxDepth, maxNodes, step);
    const { frontier } = walked;
    const truncated = walked.truncated || (frontier.length > 0 && maxDepth > 0 && this.anyEdgeFrom(frontier, direction));
    return { nodes: walked.nodes, edges: walked.edges, truncated };
  }

  /**
   * Edges leaving (`down`) or arriving at (`up`) every record within `maxDepth - 1` hops of
   * `ref`, by record, in id order: one recursive query. Null when more than `cap` edges
   * are in reach (the caller walks node by node).
   */
  private edgesWithin(ref: RecordRef, direction: 'up' | 'down', maxDepth: number, cap: number): Map<string, LineageEdge[]> | null {
    // `near` is the end of an edge the walk arrives from, `far` the end it goes to.
    const [near, far] = direction === 'up' ? ['to', 'from'] : ['from', 'to'];
    const rows = this.db.prepare(`
      WITH RECURSIVE reach(kind, id, depth) AS (
        SELECT @kind, @id, 0
        UNION
        SELECT e.${far}_kind, e.${far}_id, r.depth + 1 FROM reach r
          JOIN lineage_edges e ON e.${near}_kind = r.kind AND e.${near}_id = r.id
          WHERE r.depth + 1 < @maxDepth
      ),
      nodes AS (SELECT DISTINCT kind, id FROM reach)
      SELECT e.* FROM nodes n JOIN lineage_edges e ON e.${near}_kind = n.kind AND e.${near}_id = n.id
      ORDER BY e.id LIMIT @limit`).all({ kind: ref.kind, id: ref.id, maxDepth, limit: cap + 1 }) as EdgeRow[];
    if (rows.length > cap) return null;
    const byNode = new Map<string, LineageEdge[]>();
    for (const r of rows) {
      const key = direction === 'up' ? `${r.to_kind}:${r.to_id}` : `${r.from_kind}:${r.from_id}`;
      let list = byNode.get(key);
      if (!list) byNode.set(key, (list = []));
      list.push(toEdge(r));
    }
    return byNode;
  }

  /** True when any of `nodes` has an edge onwards in `direction` (one query, whatever their number). */
  private anyEdgeFrom(nodes: readonly RecordRef[], direction: 'up' | 'down'): boolean {
    const near = direction === 'up' ? 'to' : 'from';
    return this.db.prepare(`SELECT 1 FROM json_each(?) j JOIN lineage_edges e
      ON e.${near}_kind = json_extract(j.value, '$[0]') AND e.${near}_id = json_extract(j.value, '$[1]') LIMIT 1`)
      .get(JSON.stringify(nodes.map((n) => [n.kind, n.id]))) !== undefined;
  }

  /** The walk a query per record (see walk): for neighbourhoods too large to read at once. */
  private walkNodeByNode(ref: RecordRef, direction: 'up' | 'down', maxDepth: number, maxNodes: number): { nodes: (RecordRef & { depth: number })[]; edges: LineageEdge[]; truncated: boolean } {
    const step = (node: RecordRef): LineageEdge[] => (direction === 'up' ? this.incoming(node) : this.outgoing(node));
    const walked = breadthFirst(ref, direction, maxDepth, maxNodes, step);
    const truncated = walked.truncated || (walked.frontier.length > 0 && maxDepth > 0 && walked.frontier.some((n) => step(n).length > 0));
    return { nodes: walked.nodes, edges: walked.edges, truncated };
  }

  /**
   * Makes the edges of `types` arriving at `to` exactly `edges`: others of those types are
   * removed, missing ones added. One transaction. Returns true when anything changed.
   */
  replaceIncoming(to: RecordRef, types: readonly string[], edges: readonly { from: RecordRef; type: string }[]): boolean {
    return this.db.transaction(() => {
      const wanted = new Set(edges.map((e) => `${e.from.kind}:${e.from.id}:${e.type}`));
      let changed = false;
      for (const e of this.incoming(to)) {
        if (!types.includes(e.type) || wanted.has(`${e.fromKind}:${e.fromId}:${e.type}`)) continue;
        this.db.prepare('DELETE FROM lineage_edges WHERE from_kind = ? AND from_id = ? AND to_kind = ? AND to_id = ? AND type = ?')
          .run(e.fromKind, e.fromId, to.kind, to.id, e.type);
        changed = true;
      }
      for (const e of edges) if (this.addEdge(e.from, to, e.type)) changed = true;
      return changed;
    })();
  }

  /** Removes every edge touching a record (when the record is deleted). */
  removeAll(ref: RecordRef): void {
    this.db
      .prepare('DELETE FROM lineage_edges WHERE (from_kind = @kind AND from_id = @id) OR (to_kind = @kind AND to_id = @id)')
      .run({ kind: ref.kind, id: ref.id });
  }
}

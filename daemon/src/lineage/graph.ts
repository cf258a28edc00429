/** The lineage graph around a record: where it came from and what came of it. */
import type { LineageGraph, RecordKind } from '../protocol/index.ts';
import type { Store } from '../store/index.ts';
import { describeNode, describeNodes } from './describe.ts';

export function lineageGraph(store: Store, kind: RecordKind, id: string, depth = 10): LineageGraph | undefined {
  const root = describeNode(store, kind, id);
  if (!root) return undefined;
  const up = store.lineage.walk({ kind, id }, 'up', depth);
  const down = store.lineage.walk({ kind, id }, 'down', depth);
  const seen = new Set<string>();
  const edges = [...up.edges, ...down.edges].filter((e) => {
    const k = `${e.fromKind}:${e.fromId}>${e.toKind}:${e.toId}:${e.type}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { root, ancestors: describeNodes(store, up.nodes), descendants: describeNodes(store, down.nodes), edges, truncated: up.truncated || down.truncated };
}

/** The runs a lineage view loads beside the graph. Pure. */
import type { LineageGraph } from '../../../daemon/src/protocol/index.ts';

/** At most this many runs are loaded beside the graph (their curves and configs). */
const MAX_RUNS = 8;

/** The runs of a graph, nearest first: the record itself, then the runs it came from, then the ones it led to. */
export function runsOfGraph(graph: LineageGraph): string[] {
  const runs = [
    ...(graph.root.kind === 'run' ? [{ id: graph.root.id, depth: 0 }] : []),
    ...graph.ancestors.filter((n) => n.kind === 'run'),
    ...graph.descendants.filter((n) => n.kind === 'run'),
  ].sort((a, b) => a.depth - b.depth);
  return [...new Set(runs.map((r) => r.id))].slice(0, MAX_RUNS);
}

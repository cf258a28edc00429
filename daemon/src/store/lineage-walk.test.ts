/**
 * Lineage walks read their edges with one recursive query: on a real store, over random
 * graphs with cycles, shared ancestors and fan-out, the walk gives exactly what a walk of a
 * query per record gives (records, depths, order, edges, the cut at maxNodes and whether the
 * last ring goes on), and a neighbourhood too large to read at once still walks right.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RecordKind } from '../protocol/index.ts';
import { Store, type RecordRef } from './index.ts';
import { seededRandom } from '../dispatch/sweep.ts';
import { useTempStore } from '../../../test/support/temp-store.ts';

type Walk = ReturnType<Store['lineage']['walk']>;
type ByNode = (ref: RecordRef, direction: 'up' | 'down', maxDepth: number, maxNodes: number) => Walk;

describe('lineage walk in one query', () => {
  const { store } = useTempStore('keel-walk-');
  let byNode: ByNode;
  /** Walks that fell back to a query per record. */
  let fallbacks = 0;
  before(() => {
    const lineage = store.lineage as unknown as { walkNodeByNode: ByNode };
    byNode = lineage.walkNodeByNode.bind(store.lineage);
    lineage.walkNodeByNode = (...args) => {
      fallbacks++;
      return byNode(...args);
    };
  });

  it('matches a walk of a query per record on random graphs, both ways, at every depth and cut', () => {
    let walks = 0;
    const kinds: RecordKind[] = ['dataset_version', 'config', 'run', 'checkpoint', 'eval'];
    for (let g = 0; g < 6; g++) {
      const next = seededRandom(1000 + g); // deterministic, so a failure can be replayed
      const nodes = Array.from({ length: 40 }, (_, i): RecordRef => ({ kind: kinds[i % kinds.length] as RecordKind, id: `g${g}_n${i}` }));
      // Mostly forward edges (a DAG, as lineage is), some back edges (reruns make cycles), some fan-out.
      for (let e = 0; e < 90; e++) {
        const a = Math.floor(next() * nodes.length);
        const b = next() < 0.15 ? Math.floor(next() * nodes.length) : Math.min(nodes.length - 1, a + 1 + Math.floor(next() * 6));
        if (a !== b) store.lineage.addEdge(nodes[a] as RecordRef, nodes[b] as RecordRef, next() < 0.5 ? 'produced' : 'used_data');
      }
      for (const start of [nodes[0], nodes[7], nodes[20], nodes[39]] as RecordRef[]) {
        for (const direction of ['up', 'down'] as const) {
          for (const [depth, max] of [[0, 500], [1, 500], [2, 500], [3, 4], [10, 500], [10, 5], [4, 1]] as const) {
            assert.deepEqual(store.lineage.walk(start, direction, depth, max), byNode(start, direction, depth, max), `graph ${g}, ${start.id} ${direction} depth ${depth} max ${max}`);
            walks++;
          }
        }
      }
    }
    assert.ok(fallbacks < walks / 10, `${fallbacks} of ${walks} walks went node by node`);
  });

  it('walks a neighbourhood too large to read at once node by node, with the same answer', () => {
    const base: RecordRef = { kind: 'model', id: 'base' };
    for (let i = 0; i < 120; i++) {
      const run: RecordRef = { kind: 'run', id: `wide_${i}` };
      store.lineage.addEdge(base, run, 'base_model');
      store.lineage.addEdge(run, { kind: 'checkpoint', id: `wide_ck_${i}` }, 'produced');
    }
    // maxNodes 2 reads at most 60 edges at once: 240 are in reach.
    const before = fallbacks;
    const small = store.lineage.walk(base, 'down', 3, 2);
    assert.equal(fallbacks, before + 1, 'walked node by node');
    assert.deepEqual(small, byNode(base, 'down', 3, 2));
    assert.equal(small.truncated, true);
    assert.equal(small.nodes.length, 2);
    const whole = store.lineage.walk(base, 'down', 3, 500);
    assert.equal(fallbacks, before + 1, 'read at once');
    assert.deepEqual(whole, byNode(base, 'down', 3, 500));
    assert.equal(whole.nodes.length, 240);
    assert.equal(whole.truncated, false);
  });
});

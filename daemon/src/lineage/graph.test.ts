/**
 * A lineage graph describes its nodes in bulk (runs in one query): on a real store, every node
 * of a big graph is exactly what describing it alone gives, in the walk's order, with its
 * depth; a run deleted since is left out, as it always was.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeNode, describeNodes } from './describe.ts';
import { lineageGraph } from './graph.ts';
import { useTempStore } from '../../../test/support/temp-store.ts';

describe('lineage graph of a dataset many runs trained on', () => {
  const { store } = useTempStore('keel-graph-');
  let versionId: string;
  before(() => {
    const ds = store.datasets.ensure({ projectId: null, path: 'data/train.jsonl', absPath: '/p/data/train.jsonl', kind: 'file' });
    versionId = store.datasets.addVersion(ds.id, { hash: `sha256:${'a'.repeat(64)}`, sizeBytes: 10, fileCount: 1, profile: null, files: [] }).version.id;
    for (let r = 0; r < 40; r++) {
      const run = store.runs.create({
        projectId: null, source: r % 2 ? 'import' : 'launch', name: `run-${r}`, status: 'succeeded',
        ...(r % 2 ? {} : { launch: { kind: 'train', overrides: [`learning_rate=${r}e-5`, 'epochs=2'] } }),
      });
      store.lineage.addEdge({ kind: 'dataset_version', id: versionId }, { kind: 'run', id: run.id }, 'trained_on');
      const c = store.checkpoints.upsert({ location: `/p/out/${r}/checkpoint-10`, kind: 'full', runId: run.id, step: 10 }).checkpoint;
      store.lineage.addEdge({ kind: 'run', id: run.id }, { kind: 'checkpoint', id: c.id }, 'produced');
    }
  });

  it('gives each node as describing it alone does, in order, with its depth', () => {
    const graph = lineageGraph(store, 'dataset_version', versionId);
    assert.ok(graph);
    assert.equal(graph.descendants.length, 80, '40 runs and their checkpoints');
    const walked = store.lineage.walk({ kind: 'dataset_version', id: versionId }, 'down', 10).nodes;
    assert.deepEqual(graph.descendants.map((n) => `${n.kind}:${n.id}:${n.depth}`), walked.map((n) => `${n.kind}:${n.id}:${n.depth}`));
    for (const n of graph.descendants) {
      const { depth, ...node } = n;
      assert.deepEqual(node, describeNode(store, n.kind, n.id), `${n.kind} ${n.id}`);
      assert.equal(typeof depth, 'number');
    }
    const launched = graph.descendants.find((n) => n.kind === 'run' && n.label === 'run-0');
    assert.equal(launched?.details.overrides, 'learning_rate=0e-5 epochs=2');
  });

  it('leaves out records that no longer exist', () => {
    const [kept, gone] = store.runs.list({}).slice(0, 2);
    assert.ok(kept && gone);
    const refs = [{ kind: 'run' as const, id: gone.id, depth: 1 }, { kind: 'run' as const, id: kept.id, depth: 1 }, { kind: 'run' as const, id: 'run_nosuchrun', depth: 2 }];
    store.runs.delete(gone.id);
    assert.deepEqual(describeNodes(store, refs).map((n) => n.id), [kept.id]);
  });
});

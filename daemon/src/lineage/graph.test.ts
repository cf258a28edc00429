/**
 * A lineage graph describes its nodes in bulk (runs and checkpoints a few queries for all): on
 * a real store, every node of a big graph — checkpoints with aliases, a second location, a base
 * model, one deleted — is exactly what describing it alone gives, in the walk's order, with its
 * depth; a record deleted since is left out, as it always was.
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
    const base = store.baseModels.ensure({ kind: 'hub', ref: 'Qwen/Qwen2.5-0.5B', location: 'Qwen/Qwen2.5-0.5B' });
    const ds = store.datasets.ensure({ projectId: null, path: 'data/train.jsonl', absPath: '/p/data/train.jsonl', kind: 'file' });
    versionId = store.datasets.addVersion(ds.id, { hash: `sha256:${'a'.repeat(64)}`, sizeBytes: 10, fileCount: 1, profile: null, files: [] }).version.id;
    for (let r = 0; r < 40; r++) {
      const run = store.runs.create({
        projectId: null, source: r % 2 ? 'import' : 'launch', name: `run-${r}`, status: 'succeeded',
        ...(r % 2 ? {} : { launch: { kind: 'train', overrides: [`learning_rate=${r}e-5`, 'epochs=2'] } }),
      });
      store.lineage.addEdge({ kind: 'dataset_version', id: versionId }, { kind: 'run', id: run.id }, 'trained_on');
      const weights = { files: [{ path: 'model.safetensors', size: 100 + r, hash: `sha256:${String(r).padStart(64, '0')}` }] };
      const c = store.checkpoints.upsert({ location: `/p/out/${r}/checkpoint-10`, kind: 'full', runId: run.id, step: 10, manifest: weights }).checkpoint;
      store.lineage.addEdge({ kind: 'run', id: run.id }, { kind: 'checkpoint', id: c.id }, 'produced');
      // The output folder's final save of the same weights: a second location of checkpoint-10.
      if (r % 4 === 0) store.checkpoints.upsert({ location: `/p/out/${r}`, kind: 'full', runId: run.id, step: 10, manifest: weights });
      if (r % 5 === 0) store.models.tag(null, `best-${r}`, c.id);
      if (r === 10) store.models.tag(null, 'prod', c.id);
      if (r % 3 === 0) store.lineage.addEdge({ kind: 'model', id: base.id }, { kind: 'checkpoint', id: c.id }, 'base_model');
      // Two gone from their folder: run 7's for good, run 12's still live in its output folder.
      if (r === 7 || r === 12) store.checkpoints.setPresence(`/p/out/${r}/checkpoint-10`, false);
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
    // The bulk read carries what each checkpoint has: aliases (sorted), its other location, its deletion.
    const ckpt = (r: number) => graph.descendants.find((n) => n.kind === 'checkpoint' && n.label === `/p/out/${r}/checkpoint-10`);
    assert.equal(ckpt(10)?.details.aliases, 'best-10, prod');
    assert.equal(ckpt(8)?.details.alsoAt, '/p/out/8');
    assert.equal(ckpt(8)?.details.final, true);
    assert.equal(typeof ckpt(7)?.details.deletedAt, 'number');
    assert.equal(ckpt(12)?.details.deletedAt, null, 'gone from checkpoint-10 but live at /p/out/12');
    assert.equal(ckpt(1)?.details.aliases, null);
    // …and the bulk read of checkpoints is each one's own read, base model and locations included.
    const ids = graph.descendants.filter((n) => n.kind === 'checkpoint').map((n) => n.id);
    const many = store.checkpoints.getMany([...ids, 'ckpt_nosuch']);
    assert.equal(many.size, 40);
    for (const id of ids) assert.deepEqual(many.get(id), store.checkpoints.get(id), id);
    assert.ok([...many.values()].some((c) => c.base?.kind === 'model'), 'some have a base model');
  });

  it('leaves out records that no longer exist', () => {
    const [kept, gone] = store.runs.list({}).slice(0, 2);
    assert.ok(kept && gone);
    const ckpt = store.checkpoints.byRun(kept.id)[0];
    assert.ok(ckpt);
    const refs = [
      { kind: 'run' as const, id: gone.id, depth: 1 }, { kind: 'run' as const, id: kept.id, depth: 1 }, { kind: 'run' as const, id: 'run_nosuchrun', depth: 2 },
      { kind: 'checkpoint' as const, id: 'ckpt_nosuch', depth: 2 }, { kind: 'checkpoint' as const, id: ckpt.id, depth: 2 },
    ];
    store.runs.delete(gone.id);
    assert.deepEqual(describeNodes(store, refs).map((n) => n.id), [kept.id, ckpt.id]);
  });
});

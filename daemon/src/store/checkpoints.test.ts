import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BEST_CHECKPOINT_EDGE, EdgeTypes } from './index.ts';
import { useTempStore } from '../../../test/support/temp-store.ts';

describe('CheckpointStore', () => {
  const { store } = useTempStore('keel-ckpt-');
  const run = store.runs.create({ projectId: null, source: 'watch', name: 'fine_tuned_model', status: 'running', outputDir: '/data/out/fine_tuned_model' });

  it('upserts by location: a second upsert with the same values changes nothing', () => {
    const input = {
      location: '/data/out/fine_tuned_model/checkpoint-200', runId: run.id, step: 200, kind: 'adapter' as const,
      hash: 'sha256:' + 'a'.repeat(64), sizeBytes: 3253104, baseModel: 'gpt2', manifest: { files: [{ path: 'adapter_model.safetensors', size: 3253104 }] },
    };
    const first = store.checkpoints.upsert(input);
    assert.equal(first.created, true);
    assert.equal(first.checkpoint.step, 200);
    assert.equal(first.checkpoint.kind, 'adapter');
    assert.equal(first.checkpoint.baseModel, 'gpt2');
    const again = store.checkpoints.upsert(input);
    assert.deepEqual([again.created, again.changed, again.checkpoint.id], [false, false, first.checkpoint.id]);
    const grown = store.checkpoints.upsert({ ...input, sizeBytes: 3253105, hash: 'sha256:' + 'b'.repeat(64) });
    assert.deepEqual([grown.created, grown.changed], [false, true]);
    assert.equal(store.checkpoints.byLocation(input.location)?.sizeBytes, 3253105);
    assert.deepEqual(store.checkpoints.manifest(first.checkpoint.id), input.manifest);
    // Fields left out keep their stored values.
    const partial = store.checkpoints.upsert({ location: input.location, kind: 'adapter' });
    assert.equal(partial.changed, false);
    assert.equal(partial.checkpoint.runId, run.id);
  });

  it('finds by id, id prefix, location, run, hash and last path segment', () => {
    const c = store.checkpoints.byLocation('/data/out/fine_tuned_model/checkpoint-200');
    assert.ok(c);
    assert.equal(store.checkpoints.get(c.id)?.location, c.location);
    assert.equal(store.checkpoints.find(c.id.slice(0, 9))?.id, c.id);
    assert.equal(store.checkpoints.find(c.location)?.id, c.id);
    store.checkpoints.upsert({ location: '/data/out/fine_tuned_model', runId: run.id, step: 200, kind: 'adapter', hash: 'sha256:' + 'b'.repeat(64) });
    assert.deepEqual(store.checkpoints.byRun(run.id).map((x) => x.location), ['/data/out/fine_tuned_model', '/data/out/fine_tuned_model/checkpoint-200']);
    assert.equal(store.checkpoints.byHash('sha256:' + 'b'.repeat(64)).length, 2);
    assert.deepEqual(store.checkpoints.byLastSegment('checkpoint-200').map((x) => x.id), [c.id]);
    assert.deepEqual(store.checkpoints.byLastSegment('checkpoint-20'), []);
  });

  it('registers a base model once, as a model record, whatever location it is seen at', () => {
    const base = store.baseModels.ensure({ kind: 'hub', ref: 'meta-llama/Llama-3.2-1B', location: 'meta-llama/Llama-3.2-1B' });
    assert.deepEqual([base.kind, base.ref, base.revision, base.locations], ['hub', 'meta-llama/Llama-3.2-1B', '', ['meta-llama/Llama-3.2-1B']]);
    assert.equal(store.baseModels.ensure({ kind: 'hub', ref: 'meta-llama/Llama-3.2-1B', location: 'meta-llama/Llama-3.2-1B' }).id, base.id);
    assert.notEqual(store.baseModels.ensure({ kind: 'hub', ref: 'meta-llama/Llama-3.2-1B', revision: 'abc123', location: 'x' }).id, base.id, 'another revision is another model');
    // A local folder seen at two paths with the same weights is one record.
    const a = store.baseModels.ensure({ kind: 'local', ref: '/p/base-models/tiny', location: '/p/base-models/tiny', hash: 'sha256:' + 'c'.repeat(64) });
    const b = store.baseModels.ensure({ kind: 'local', ref: '/home/u/.keel/code/x/base-models/tiny', location: '/home/u/.keel/code/x/base-models/tiny', hash: 'sha256:' + 'c'.repeat(64) });
    assert.equal(b.id, a.id);
    assert.deepEqual(b.locations.sort(), ['/home/u/.keel/code/x/base-models/tiny', '/p/base-models/tiny']);
    assert.equal(store.checkpoints.byLocation('meta-llama/Llama-3.2-1B'), undefined, 'a base model is not a checkpoint');
  });

  it('keeps one best checkpoint per run as a lineage edge', () => {
    const [root, ck200] = store.checkpoints.byRun(run.id);
    assert.ok(root && ck200);
    assert.equal(store.checkpoints.setBest(run.id, ck200.id), true);
    assert.equal(store.checkpoints.setBest(run.id, ck200.id), false);
    assert.equal(store.checkpoints.bestOf(run.id)?.id, ck200.id);
    store.checkpoints.setBest(run.id, root.id);
    const best = store.lineage.outgoing({ kind: 'run', id: run.id }).filter((e) => e.type === BEST_CHECKPOINT_EDGE);
    assert.deepEqual(best.map((e) => e.toId), [root.id]);
    store.checkpoints.setBest(run.id, null);
    assert.equal(store.checkpoints.bestOf(run.id), undefined);
    assert.notEqual(BEST_CHECKPOINT_EDGE, EdgeTypes.Produced);
  });
});

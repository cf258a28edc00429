import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Store, evalGroupId } from './index.ts';
import type { EvalInput } from './index.ts';
import { useTempStore } from '../../../test/support/temp-store.ts';

// Values from fixtures/real/lm_eval/groups-na-stderr-dict-model-args_qwen3-8b (lm_eval 0.4.13.dev0).
const source = '/evals/Qwen__Qwen3-8B/results_2026-07-08T16-04-34.219874.json';
const rows: EvalInput[] = [
  { subjectKind: 'model', subjectId: null, subjectRef: 'Qwen/Qwen3-8B', sourcePath: source, task: 'negotiationtom_belief', metric: 'acc', filter: 'none', value: 0.45, stderr: 0.11413288653790232, nShot: 0, higherIsBetter: true },
  { subjectKind: 'model', subjectId: null, subjectRef: 'Qwen/Qwen3-8B', sourcePath: source, task: 'negotiationtom_intention', metric: 'micro_f1', filter: 'none', value: 0.30188679245283023, stderr: null, nShot: 0 },
  { subjectKind: 'model', subjectId: null, subjectRef: 'Qwen/Qwen3-8B', sourcePath: source, task: 'negotiationtom', metric: 'acc', value: 0.525, stderr: 0.08009040943964843, isGroup: true, createdAt: 1783526520543 },
];

describe('EvalStore', () => {
  const { dir, store } = useTempStore('keel-evals-');

  it('upserts on (source, task, metric, filter): the same file twice adds no row', () => {
    assert.deepEqual(store.evals.upsertMany(rows), { created: 3, updated: 0 });
    assert.deepEqual(store.evals.upsertMany(rows), { created: 0, updated: 3 });
    const stored = store.evals.bySource(source);
    assert.equal(stored.length, 3);
    const group = stored[0];
    assert.ok(group);
    assert.deepEqual([group.task, group.isGroup, group.value, group.filter, group.createdAt], ['negotiationtom', true, 0.525, 'none', 1783526520543]);
    const f1 = stored.find((r) => r.metric === 'micro_f1');
    assert.deepEqual([f1?.value, f1?.stderr, f1?.higherIsBetter, f1?.subjectRef], [0.30188679245283023, null, null, 'Qwen/Qwen3-8B']);
    assert.equal(stored.find((r) => r.task === 'negotiationtom_belief')?.higherIsBetter, true);
  });

  it('keeps the row id on update and stores NaN as null', () => {
    const before = store.evals.bySource(source).find((r) => r.task === 'negotiationtom_belief');
    const after = store.evals.upsert({ ...(rows[0] as EvalInput), value: NaN });
    assert.equal(after.id, before?.id);
    assert.equal(after.value, null);
    store.evals.upsert(rows[0] as EvalInput);
  });

  it('lists one eval group by its stable id, derived from the source path', () => {
    const id = evalGroupId(source);
    assert.match(id, /^evg_[a-z2-9]{12}$/);
    assert.equal(evalGroupId(source), id);
    assert.equal(store.evals.groupIdForSource(source), id);
    assert.equal(store.evals.groupIdForSource('/elsewhere.json'), undefined);
    assert.equal(store.evals.group(id).length, 3);
    assert.ok(store.evals.group(id).every((r) => r.groupId === id));
    assert.deepEqual(store.evals.group('ckpt_notagroupid'), []);
    // A second Store on the same file finds the group without having written it.
    const other = new Store(join(dir, 'keel.db'));
    assert.equal(other.evals.group(id).length, 3);
    other.close();
  });

  it('lists by subject, by eval run and by task', () => {
    const run = store.runs.create({ projectId: null, source: 'launch', kind: 'eval' });
    const ckpt = store.checkpoints.upsert({ location: '/out/run1/checkpoint-200', kind: 'full' }).checkpoint;
    store.evals.upsertMany([{ subjectKind: 'checkpoint', subjectId: ckpt.id, evalRunId: run.id, sourcePath: '/out/eval/results.json', task: 'arc_easy', metric: 'acc', value: 0.81, stderr: 0.008 }]);
    assert.deepEqual(store.evals.bySubject('checkpoint', ckpt.id).map((r) => r.value), [0.81]);
    assert.equal(store.evals.bySubject('model', 'Qwen/Qwen3-8B').length, 3);
    assert.deepEqual(store.evals.byEvalRun(run.id).map((r) => r.task), ['arc_easy']);
    assert.deepEqual(store.evals.list({ task: 'negotiationtom_belief' }).map((r) => r.value), [0.45]);
    assert.equal(store.evals.list().length, 4);
  });
});

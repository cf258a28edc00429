import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EdgeTypes, Store, evalGroupId } from '../../store/index.ts';
import { createHashPool, createMemoryHashCache } from '../hash/index.ts';
import type { HashPool } from '../hash/index.ts';
import { RunIngester } from './index.ts';
import { REAL_FIXTURES } from '../../../../test/support/fixtures.ts';
import { useTempStore } from '../../../../test/support/temp-store.ts';

const fixtureRoot = REAL_FIXTURES;
const fixturePath = (...parts: string[]): string => join(fixtureRoot, ...parts);
const NL2FOAM = fixturePath('lm_eval', 'finetuned-local-path-vllm-empty-model-name_nl2foam', 'results_2025-12-17T20-28-43.535870.json');
const LLAMA = fixturePath('lm_eval', 'groups-subtask-aliases-local-path_llama-3-8b', 'result-steer.jsonl',
  '__data__public_models__huggingface__meta-llama__Meta-Llama-3-8B', 'results_2024-06-03T01-54-29.600792.json');
const QWEN = fixturePath('lm_eval', 'groups-na-stderr-dict-model-args_qwen3-8b', 'Qwen__Qwen3-8B', 'results_2026-07-08T16-04-34.219874.json');

/** A copy of an lm-eval results file whose `pretrained=` path is replaced by `model`. */
function withModel(source: string, oldPath: string, model: string, dest: string): string {
  mkdirSync(join(dest, '..'), { recursive: true });
  writeFileSync(dest, readFileSync(source, 'utf8').split(oldPath).join(model));
  return dest;
}

describe('ingestEvalFile', () => {
  const { dir: tmp, store } = useTempStore('keel-evals-', { closeFirst: () => pool.close() });
  let project: string;
  let pool: HashPool;
  let ingester: RunIngester;
  let projectId: string;
  before(async () => {
    project = join(tmp, 'project');
    pool = createHashPool({ size: 1 });
    ingester = new RunIngester({ store, hasher: pool, hashCache: createMemoryHashCache() });
    projectId = store.projects.upsert(project, 'project', { name: 'project' }, []).project.id;
    // Two finished runs in the project: an HF run with checkpoint-200, and the nl2foam run (final weights at its root).
    const run1 = join(project, 'outputs', 'run1');
    mkdirSync(join(run1, 'checkpoint-200', 'adapter_model'), { recursive: true });
    writeFileSync(join(run1, 'checkpoint-200', 'adapter_model', 'adapter_model.bin'), 'adapter');
    writeFileSync(join(run1, 'checkpoint-200', 'trainer_state.json'), '{"global_step": 200, "max_steps": 200, "log_history": [{"loss": 1.5, "step": 200}]}');
    writeFileSync(join(run1, 'trainer_state.json'), '{"global_step": 200, "max_steps": 200, "log_history": [{"loss": 1.5, "step": 200}]}');
    const foam = join(project, 'outputs', 'nl2foam_sft_0__8__1765350318');
    mkdirSync(foam, { recursive: true });
    writeFileSync(join(foam, 'model.safetensors'), 'full weights');
    writeFileSync(join(foam, 'all_results.json'), '{"train_loss": 0.25}');
    for (const dir of [run1, foam]) {
      const r = await ingester.ingestRunDir(dir, { projectId, source: 'watch' });
      assert.deepEqual(r.issues, []);
    }
  });
  it('links an eval of a checkpoint on this machine (exact real path) and keeps N/A stderr as null', async () => {
    const ckpt = store.checkpoints.byLocation(join(project, 'outputs', 'run1', 'checkpoint-200'));
    assert.equal(ckpt?.kind, 'adapter');
    const file = withModel(NL2FOAM, '/scratch/hieu/nl2foam_sft_0/outputs/nl2foam_sft_0__8__1765350318', join(project, 'outputs', 'run1', 'checkpoint-200'), join(project, 'evals', 'exact', 'results.json'));
    const report = await ingester.ingestEvalFile(file, { projectId });
    assert.deepEqual([report.evals, report.issues, report.subject], [3, [], { kind: 'checkpoint', id: ckpt?.id }]);
    const rows = store.evals.bySource(file);
    const word = rows.find((r) => r.metric === 'word_perplexity');
    assert.deepEqual([word?.task, word?.value, word?.stderr, word?.higherIsBetter, word?.nShot, word?.filter], ['nl2foam_perplexity_original', 2.606616650368937, null, false, 0, 'none']);
    assert.equal(word?.createdAt, Math.round(1766003122.6865718 * 1000));
    const group = evalGroupId(file);
    assert.deepEqual(store.lineage.incoming({ kind: 'eval', id: group }).map((e) => [e.fromKind, e.fromId, e.type]), [['checkpoint', ckpt?.id, EdgeTypes.Evaluated]]);
    assert.equal(store.evals.group(group).length, 3);
    // Ingesting the file again adds no row and no edge.
    await ingester.ingestEvalFile(file, { projectId });
    assert.equal(store.evals.bySource(file).length, 3);
    assert.equal(store.lineage.incoming({ kind: 'eval', id: group }).length, 1);
  });

  it('resolves a relative path against the project root, a path inside a checkpoint folder, and one inside a run folder', async () => {
    const ckpt = store.checkpoints.byLocation(join(project, 'outputs', 'run1', 'checkpoint-200'));
    const rel = withModel(NL2FOAM, '/scratch/hieu/nl2foam_sft_0/outputs/nl2foam_sft_0__8__1765350318', 'outputs/run1/checkpoint-200', join(project, 'evals', 'relative', 'results.json'));
    assert.deepEqual((await ingester.ingestEvalFile(rel, { projectId })).subject, { kind: 'checkpoint', id: ckpt?.id });
    const inside = withModel(NL2FOAM, '/scratch/hieu/nl2foam_sft_0/outputs/nl2foam_sft_0__8__1765350318', join(project, 'outputs', 'run1', 'checkpoint-200', 'adapter_model'), join(project, 'evals', 'inside', 'results.json'));
    assert.deepEqual((await ingester.ingestEvalFile(inside, { projectId })).subject, { kind: 'checkpoint', id: ckpt?.id });
    // A folder of a run that is no checkpoint: the run itself.
    mkdirSync(join(project, 'outputs', 'run1', 'merged'));
    const merged = withModel(NL2FOAM, '/scratch/hieu/nl2foam_sft_0/outputs/nl2foam_sft_0__8__1765350318', join(project, 'outputs', 'run1', 'merged'), join(project, 'evals', 'merged', 'results.json'));
    const run1 = store.runs.findByOutputDir(join(project, 'outputs', 'run1'));
    assert.deepEqual((await ingester.ingestEvalFile(merged, { projectId })).subject, { kind: 'run', id: run1?.id });
    // An unregistered checkpoint-10/ of the nl2foam run is not its final weights (the root checkpoint): only the run matches.
    const foam = join(project, 'outputs', 'nl2foam_sft_0__8__1765350318');
    mkdirSync(join(foam, 'checkpoint-10'));
    const early = withModel(NL2FOAM, '/scratch/hieu/nl2foam_sft_0/outputs/nl2foam_sft_0__8__1765350318', join(foam, 'checkpoint-10'), join(project, 'evals', 'early', 'results.json'));
    assert.deepEqual((await ingester.ingestEvalFile(early, { projectId })).subject, { kind: 'run', id: store.runs.findByOutputDir(foam)?.id });
  });

  it('matches a path from another machine by its trailing folders (the real nl2foam file, unchanged)', async () => {
    const file = join(project, 'evals', 'foreign', 'results_2025-12-17T20-28-43.535870.json');
    mkdirSync(join(file, '..'), { recursive: true });
    copyFileSync(NL2FOAM, file);
    const root = store.checkpoints.byLocation(join(project, 'outputs', 'nl2foam_sft_0__8__1765350318'));
    assert.equal(root?.kind, 'full');
    const report = await ingester.ingestEvalFile(file, { projectId });
    assert.deepEqual(report.subject, { kind: 'checkpoint', id: root?.id });
    assert.equal(store.evals.bySource(realpathSync(file))[0]?.subjectRef, '/scratch/hieu/nl2foam_sft_0/outputs/nl2foam_sft_0__8__1765350318');
    // A foreign checkpoint-200 of an unknown run is not enough: one generic segment does not match.
    const other = withModel(NL2FOAM, '/scratch/hieu/nl2foam_sft_0/outputs/nl2foam_sft_0__8__1765350318', '/home/someone/elsewhere/checkpoint-200', join(project, 'evals', 'generic', 'results.json'));
    // …so the eval's subject is the model as named (a path on another machine), not a checkpoint.
    const unmatched = (await ingester.ingestEvalFile(other, { projectId })).subject;
    assert.deepEqual([unmatched?.kind, store.baseModels.get(unmatched?.id ?? '')?.kind], ['model', 'path']);
    const foreignCkpt = withModel(NL2FOAM, '/scratch/hieu/nl2foam_sft_0/outputs/nl2foam_sft_0__8__1765350318', '/home/someone/outputs/run1/checkpoint-200', join(project, 'evals', 'suffix', 'results.json'));
    assert.equal((await ingester.ingestEvalFile(foreignCkpt, { projectId })).subject?.id, store.checkpoints.byLocation(join(project, 'outputs', 'run1', 'checkpoint-200'))?.id);
  });

  it('stores an eval of a model on another machine with a model record as its subject', async () => {
    const report = await ingester.ingestEvalFile(LLAMA, { projectId: null });
    const model = store.baseModels.byLocation('/data/public_models/huggingface/meta-llama/Meta-Llama-3-8B');
    assert.deepEqual([model?.kind, report.subject, report.evals, report.issues], ['path', { kind: 'model', id: model?.id }, 6, []]);
    const rows = store.evals.bySource(LLAMA);
    const steer2 = rows.find((r) => r.task === 'steer2');
    assert.deepEqual([steer2?.subjectKind, steer2?.subjectId, steer2?.subjectRef, steer2?.value, steer2?.stderr],
      ['model', model?.id, '/data/public_models/huggingface/meta-llama/Meta-Llama-3-8B', 0.7166324435318275, 0.00481334881354423]);
    assert.equal(rows.find((r) => r.task === 'steer')?.isGroup, true);
    assert.equal(store.evals.bySubject('model', model?.id ?? '').length, 6);
  });

  it('links an eval of a base model known by its hub id, and records the eval run', async () => {
    const base = store.baseModels.ensure({ kind: 'hub', ref: 'Qwen/Qwen3-8B', location: 'Qwen/Qwen3-8B' });
    const evalRun = store.runs.create({ projectId, source: 'launch', kind: 'eval', name: 'eval-qwen' });
    const report = await ingester.ingestEvalFile(QWEN, { projectId, runId: evalRun.id });
    assert.deepEqual(report.subject, { kind: 'model', id: base.id });
    const f1 = store.evals.byEvalRun(evalRun.id).find((r) => r.task === 'negotiationtom_intention' && r.metric === 'micro_f1');
    assert.deepEqual([f1?.value, f1?.stderr], [0.30188679245283023, null]);
    const group = { kind: 'eval' as const, id: evalGroupId(QWEN) };
    assert.deepEqual(store.lineage.incoming(group).map((e) => e.type).sort(), [EdgeTypes.Evaluated, EdgeTypes.Produced]);
  });

  it('reports a bad file without throwing', async () => {
    const broken = join(project, 'evals', 'broken', 'results.json');
    mkdirSync(join(broken, '..'), { recursive: true });
    writeFileSync(broken, readFileSync(QWEN, 'utf8').slice(0, 500));
    const report = await ingester.ingestEvalFile(broken, { projectId });
    assert.equal(report.evals, 0);
    assert.match(report.issues[0] ?? '', /results\.json: .*line \d+/);
    const missing = await ingester.ingestEvalFile(join(project, 'nope.json'), { projectId });
    assert.deepEqual(missing.issues, [`${join(project, 'nope.json')}: file not found`]);
  });
});

describe('lm-eval results inside a run folder', () => {
  it('are ingested with the run, once', async () => {
    const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'keel-evals-in-run-')));
    const store = new Store(join(tmp, 'keel.db'));
    const pool = createHashPool({ size: 1 });
    try {
      const ingester = new RunIngester({ store, hasher: pool, hashCache: createMemoryHashCache() });
      const run = join(tmp, 'outputs', 'run2');
      mkdirSync(join(run, 'checkpoint-50'), { recursive: true });
      writeFileSync(join(run, 'checkpoint-50', 'model.safetensors'), 'weights');
      writeFileSync(join(run, 'checkpoint-50', 'trainer_state.json'), '{"global_step": 50, "max_steps": 100, "log_history": [{"loss": 2.5, "step": 50}]}');
      withModel(NL2FOAM, '/scratch/hieu/nl2foam_sft_0/outputs/nl2foam_sft_0__8__1765350318', join(run, 'checkpoint-50'), join(run, 'eval', 'results_2025-12-17T20-28-43.535870.json'));
      writeFileSync(join(run, 'eval', 'results.json'), '{"note": "not an lm-eval file"}');
      const first = await ingester.ingestRunDir(run, { projectId: null, source: 'watch' });
      assert.deepEqual([first.evals, first.checkpoints, first.issues], [3, 1, []]);
      const ckpt = store.checkpoints.byLocation(join(run, 'checkpoint-50'));
      assert.equal(store.evals.bySubject('checkpoint', ckpt?.id ?? '').find((r) => r.metric === 'bits_per_byte')?.value, 0.16634296163172285);
      const again = await ingester.ingestRunDir(run, { projectId: null, source: 'watch' });
      assert.deepEqual([again.evals, again.checkpoints, again.points], [0, 0, 0]);
    } finally {
      store.close();
      await pool.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

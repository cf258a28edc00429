import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EdgeTypes, Store } from '../../store/index.ts';
import { createHashPool, createMemoryHashCache } from '../hash/index.ts';
import type { HashPool } from '../hash/index.ts';
import { RunIngester } from './index.ts';
import { REAL_FIXTURES } from '../../../../test/support/fixtures.ts';
import { useTempStore } from '../../../../test/support/temp-store.ts';

const fixtureRoot = REAL_FIXTURES;
const fixturePath = (...parts: string[]): string => join(fixtureRoot, ...parts);
const WHISPER = fixturePath('trainer_state', 'old-schema-foreign-best-path_whisper-large-v2-ja');
const TRL = fixturePath('trainer_state', 'interrupted-trl-sft-peft_fine-tune-ai-model', 'fine_tuned_model');
const TF = fixturePath('tfevents', 'torch-summarywriter-simple-value_tensorboard-reducer');

/**
 * Creates every file of a checkpoint_layout listing (`path<TAB>size<TAB>storage`) that does not
 * exist yet, with small stand-in content: `fill(path)` when it returns something, else a few
 * bytes that differ per path.
 */
function buildFromListing(listing: string, dest: string, fill: (rel: string) => Buffer | string | undefined): void {
  for (const line of readFileSync(listing, 'utf8').split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const [rel] = line.split('\t');
    if (rel === undefined || existsSync(join(dest, rel))) continue;
    mkdirSync(dirname(join(dest, rel)), { recursive: true });
    writeFileSync(join(dest, rel), fill(rel) ?? (rel.endsWith('.json') ? '{}\n' : `stand-in for ${rel}\n`));
  }
}

function copyFixtureFolder(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
  // Fixtures are read-only; the copies must be writable to grow them.
  const chmodAll = (p: string): void => {
    chmodSync(p, 0o755);
    if (statSync(p).isDirectory()) for (const e of readdirSync(p)) chmodAll(join(p, e));
  };
  chmodAll(to);
}

function seriesTotal(store: Store, runId: string): number {
  return store.metrics.series(runId).reduce((sum, s) => sum + s.points, 0);
}

function valueAt(store: Store, runId: string, key: string, step: number): number | null | undefined {
  return store.metrics.points(runId, key, { fromStep: step, toStep: step })[0]?.value;
}

describe('RunIngester on Hugging Face output folders', () => {
  const { dir: tmp, store } = useTempStore('keel-ingest-', { closeFirst: () => pool.close() });
  let pool: HashPool;
  let ingester: RunIngester;
  const cache = createMemoryHashCache();
  before(() => {
    pool = createHashPool({ size: 2 });
    ingester = new RunIngester({ store, hasher: pool, hashCache: cache, quietMs: 3_600_000 });
  });
  it('imports a finished full fine-tune: metrics, results, TensorBoard curves, checkpoints, base model', async () => {
    const dir = join(tmp, 'whisper-large-v2-ja');
    copyFixtureFolder(WHISPER, dir);
    const events = new Map([
      ['runs/Jan28_15-12-11_gpu07.cyverse.org/events.out.tfevents.1674944078.gpu07.cyverse.org.12415.0', join(TF, 'strict', 'run_1', 'events.out.tfevents.1622543341.janoshs-mbp.lan.86862.0')],
      ['runs/Jan28_23-42-14_gpu07.cyverse.org/events.out.tfevents.1674974582.gpu07.cyverse.org.94170.0', join(TF, 'lax', 'run_1', 'events.out.tfevents.1622543341.janoshs-mbp.lan.86862.3')],
    ]);
    const minimal = fixturePath('tfevents', 'r-tfevents-minimal-plugin-metadata_tfevents-js', 'events.out.tfevents.1687811641.v2');
    buildFromListing(fixturePath('checkpoint_layout', 'hf-full-finetune_whisper-large-v2-ja_output-dir.txt'), dir, (rel) => {
      if (rel.includes('events.out.tfevents')) return readFileSync(events.get(rel) ?? minimal);
      if (rel.endsWith('config.json') && !rel.includes('preprocessor') && !rel.includes('tokenizer')) return '{"_name_or_path": "openai/whisper-large-v2", "model_type": "whisper"}\n';
      return undefined;
    });
    const report = await ingester.ingestRunDir(dir, { projectId: null, source: 'import' });
    assert.deepEqual(report.issues, []);
    assert.equal(report.created, true);
    const run = store.runs.get(report.runId);
    assert.deepEqual([run?.name, run?.status, run?.outputDir, run?.source], ['whisper-large-v2-ja', 'succeeded', dir, 'import']);
    assert.ok(run?.startedAt !== null && run?.endedAt !== null);
    // log_history (625 step/key pairs), then 100 + 330 + 1 TensorBoard points; the end-of-training
    // entry and the results files are summary values, not points.
    assert.equal(seriesTotal(store, report.runId), 625 + 100 + 330 + 1);
    assert.equal(valueAt(store, report.runId, 'train/loss', 25), 0.3048);
    assert.equal(valueAt(store, report.runId, 'train/learning_rate', 4850), 3.422222222222223e-7);
    assert.equal(valueAt(store, report.runId, 'eval/wer', 2000), 0.7478299577119965);
    const summary = new Map(store.summaries.list(report.runId).map((v) => [v.key, v.value]));
    assert.equal(summary.get('train/train_runtime'), 77350.9963);
    assert.equal(summary.get('eval/samples'), 4485);
    // The curve keeps log_history's eval at step 5000 (1710.8673); eval_results.json's 1712.6978 is the run's summary value.
    assert.equal(valueAt(store, report.runId, 'eval/runtime', 5000), 1710.8673);
    assert.equal(summary.get('eval/runtime'), 1712.6978);
    const foo = store.metrics.points(report.runId, 'strict/foo', { fromStep: 495, toStep: 495 })[0];
    assert.deepEqual([foo?.value, foo?.wallTime], [1.212090253829956, 1622543341.7694452]);
    assert.equal(valueAt(store, report.runId, 'lax/bar_2', 109), 1.4685683250427246);

    const ckpts = store.checkpoints.byRun(report.runId);
    assert.deepEqual(ckpts.map((c) => [c.location, c.step, c.kind]), [[dir, 5000, 'full'], [join(dir, 'last-checkpoint'), 5000, 'full']]);
    assert.equal(report.checkpoints, 2);
    const rootFiles = (store.checkpoints.manifest(ckpts[0]?.id ?? '') as { files: { path: string }[] }).files.map((f) => f.path);
    assert.ok(rootFiles.includes('pytorch_model.bin') && rootFiles.includes('config.json'));
    assert.ok(!rootFiles.some((p) => p === 'trainer_state.json' || p.endsWith('_results.json') || p.startsWith('runs/') || p.startsWith('last-checkpoint/')));
    assert.match(ckpts[1]?.hash ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(ckpts[1]?.baseModel, 'openai/whisper-large-v2');
    const base = store.baseModels.byLocation('openai/whisper-large-v2');
    assert.deepEqual([base?.kind, base?.ref, store.checkpoints.byLocation('openai/whisper-large-v2')], ['hub', 'openai/whisper-large-v2', undefined]);
    const runRef = { kind: 'run' as const, id: report.runId };
    assert.deepEqual(store.lineage.incoming(runRef).map((e) => [e.fromKind, e.fromId, e.type]), [['model', base?.id, EdgeTypes.BaseModel]]);
    assert.deepEqual(store.lineage.outgoing(runRef).filter((e) => e.type === EdgeTypes.Produced).map((e) => e.toId).sort(), ckpts.map((c) => c.id).sort());
    // best_model_checkpoint is /storage/elsayedissa/whisper-large-v2-japanese-24h/checkpoint-3000: not in this folder.
    assert.equal(store.checkpoints.bestOf(report.runId), undefined);
  });

  it('ingesting the same folder again adds nothing', async () => {
    const dir = join(tmp, 'whisper-large-v2-ja');
    const run = store.runs.findByOutputDir(dir);
    assert.ok(run);
    const before = { points: seriesTotal(store, run.id), ckpts: store.checkpoints.byRun(run.id).length, edges: store.lineage.outgoing({ kind: 'run', id: run.id }).length, cursors: store.cursors.list(`run:${run.id}`).length };
    const again = await ingester.ingestRunDir(dir, { projectId: null, source: 'watch' });
    assert.deepEqual([again.runId, again.created, again.points, again.checkpoints, again.issues], [run.id, false, 0, 0, []]);
    const after = { points: seriesTotal(store, run.id), ckpts: store.checkpoints.byRun(run.id).length, edges: store.lineage.outgoing({ kind: 'run', id: run.id }).length, cursors: store.cursors.list(`run:${run.id}`).length };
    assert.deepEqual(after, before);
    assert.equal(store.runs.get(run.id)?.source, 'import');
  });

  it('matches best_model_checkpoint by folder name once that checkpoint is in the folder', async () => {
    const dir = join(tmp, 'whisper-large-v2-ja');
    const ck = join(dir, 'checkpoint-3000');
    mkdirSync(ck);
    writeFileSync(join(ck, 'pytorch_model.bin'), 'weights at step 3000\n');
    writeFileSync(join(ck, 'trainer_state.json'), '{"global_step": 3000, "max_steps": 5000, "log_history": []}\n');
    const report = await ingester.ingestRunDir(dir, { projectId: null, source: 'watch' });
    assert.deepEqual([report.checkpoints, report.points, report.issues], [1, 0, []]);
    const best = store.checkpoints.bestOf(report.runId);
    assert.deepEqual([best?.location, best?.step, best?.kind], [ck, 3000, 'full']);
  });
});

describe('RunIngester on a PEFT run that is still training (watched)', () => {
  const { dir: tmp, store } = useTempStore('keel-ingest-peft-', { closeFirst: () => pool.close() });
  let dir: string;
  let pool: HashPool;
  let ingester: RunIngester;
  let runId: string;
  const adapterConfig = readFileSync(fixturePath('checkpoint_layout', 'peft-lora-trl-sft_gpt2_checkpoint-200_adapter_config.json'));
  const state200 = JSON.parse(readFileSync(join(TRL, 'checkpoint-200', 'trainer_state.json'), 'utf8')) as { log_history: Record<string, number>[]; global_step: number; best_model_checkpoint: string | null };
  before(() => {
    dir = join(tmp, 'project', 'fine_tuned_model');
    copyFixtureFolder(TRL, dir);
    buildFromListing(fixturePath('checkpoint_layout', 'peft-lora-trl-sft_gpt2_output-dir.txt'), dir, (rel) => (rel.endsWith('adapter_config.json') ? adapterConfig : undefined));
    pool = createHashPool({ size: 2 });
    ingester = new RunIngester({ store, hasher: pool, hashCache: createMemoryHashCache(), quietMs: 3_600_000 });
  });
  it('creates a running run, reads checkpoint-200 metrics and registers it as an adapter of gpt2', async () => {
    const report = await ingester.ingestRunDir(dir, { projectId: null, source: 'watch' });
    runId = report.runId;
    assert.deepEqual(report.issues, []);
    assert.equal(store.runs.get(runId)?.status, 'running'); // global_step 200 of max_steps 36969
    assert.equal(seriesTotal(store, runId), 20 * 6);
    assert.equal(valueAt(store, runId, 'train/loss', 10), 10.9959);
    assert.equal(valueAt(store, runId, 'train/mean_token_accuracy', 200), 0.8661274537444115);
    assert.equal(valueAt(store, runId, 'train/num_tokens', 200), 819200);
    assert.deepEqual(store.metrics.seriesSummary(runId, 'train/loss')?.aliases, ['loss']);
    const [ck200] = store.checkpoints.byRun(runId);
    assert.deepEqual([ck200?.location, ck200?.step, ck200?.kind, ck200?.baseModel], [join(dir, 'checkpoint-200'), 200, 'adapter', 'gpt2']);
    const gpt2 = store.baseModels.byLocation('gpt2');
    assert.equal(gpt2?.kind, 'hub');
    // The adapter points at its base, and so does the run.
    assert.deepEqual(store.lineage.outgoing({ kind: 'model', id: gpt2?.id ?? '' }).map((e) => e.toId).sort(), [ck200?.id, runId].sort());
    assert.deepEqual(ck200?.base, { kind: 'model', id: gpt2?.id });
    // The root's final adapter may still be being written: seen once, not registered yet.
    assert.deepEqual(report.pending, [dir]);
    assert.equal(store.checkpoints.byLocation(dir), undefined);
  });

  it('registers the root adapter on a second look that sees the same files', async () => {
    const report = await ingester.ingestRunDir(dir, { projectId: null, source: 'watch' });
    assert.deepEqual([report.created, report.points, report.checkpoints, report.pending], [false, 0, 1, []]);
    const root = store.checkpoints.byLocation(dir);
    assert.deepEqual([root?.kind, root?.step, root?.runId, root?.baseModel], ['adapter', 200, runId, 'gpt2']);
  });

  it('after the folder grows, adds only the new points and the new checkpoint, and finds the best by name', async () => {
    const before = seriesTotal(store, runId);
    const ck = join(dir, 'checkpoint-300');
    cpSync(join(dir, 'checkpoint-200'), ck, { recursive: true });
    const grown = { ...state200, global_step: 300, best_model_checkpoint: '/content/drive/MyDrive/fine_tuned_model/checkpoint-200' };
    for (let step = 210; step <= 300; step += 10) grown.log_history.push({ epoch: step / 12324, grad_norm: 0.2, learning_rate: 0.0002, loss: 0.6 - step / 10000, mean_token_accuracy: 0.87, num_tokens: step * 4096, step });
    writeFileSync(join(ck, 'trainer_state.json'), JSON.stringify(grown, null, 2));
    const report = await ingester.ingestRunDir(dir, { projectId: null, source: 'watch' });
    assert.deepEqual(report.issues, []);
    assert.equal(seriesTotal(store, runId) - before, 10 * 6);
    assert.equal(valueAt(store, runId, 'train/loss', 300), 0.57);
    assert.equal(valueAt(store, runId, 'train/loss', 200), 0.6604);
    assert.equal(report.checkpoints, 1);
    assert.equal(store.checkpoints.byLocation(ck)?.step, 300);
    assert.equal(store.checkpoints.bestOf(runId)?.location, join(dir, 'checkpoint-200'));
  });

  it('reports a truncated trainer_state.json, keeps nothing of it, and reads it once it is whole', async () => {
    const before = seriesTotal(store, runId);
    const ck = join(dir, 'checkpoint-400');
    cpSync(join(dir, 'checkpoint-300'), ck, { recursive: true });
    const whole = readFileSync(join(dir, 'checkpoint-300', 'trainer_state.json'), 'utf8').replace('"global_step": 300', '"global_step": 400')
      .replace(/\n  \],\n/, ',\n    {"epoch": 0.0325, "grad_norm": 0.2, "learning_rate": 0.0002, "loss": 0.55, "mean_token_accuracy": 0.88, "num_tokens": 1638400, "step": 400}\n  ],\n');
    writeFileSync(join(ck, 'trainer_state.json'), whole.slice(0, Math.floor(whole.length / 2)));
    const cut = await ingester.ingestRunDir(dir, { projectId: null, source: 'watch' });
    assert.equal(cut.issues.length, 1);
    // Refused before a byte of log_history is read: it does not end with its closing '}'.
    assert.match(cut.issues[0] ?? '', /^checkpoint-400\/trainer_state\.json: unfinished JSON: the file stops at byte \d+ without its closing '}' \(the file may still be being written\); read again next time$/);
    assert.equal(seriesTotal(store, runId), before);
    // The checkpoint is not registered while its trainer_state.json is unfinished.
    assert.deepEqual([cut.checkpoints, cut.pending], [0, [ck]]);
    assert.equal(store.checkpoints.byLocation(ck), undefined);
    writeFileSync(join(ck, 'trainer_state.json'), whole);
    const fixed = await ingester.ingestRunDir(dir, { projectId: null, source: 'watch' });
    assert.deepEqual([fixed.issues, fixed.checkpoints], [[], 1]);
    assert.equal(store.checkpoints.byLocation(ck)?.step, 400);
    assert.equal(seriesTotal(store, runId) - before, 6);
    assert.equal(valueAt(store, runId, 'train/loss', 400), 0.55);
    assert.equal(store.runs.get(runId)?.status, 'running');
  });
});

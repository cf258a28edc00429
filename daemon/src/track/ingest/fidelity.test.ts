/**
 * The record matches the disk, on files the real tools wrote (test/fixtures/generated: a real
 * Hugging Face Trainer + PEFT LoRA run with `report_to tensorboard`, `save_total_limit 2` and
 * `trainer.save_model(output_dir)`, and a real lm-eval 0.4.13 run with
 * `pretrained=BASE,peft=CHECKPOINT`). The real-tools suite (`npm run test:real-tools`) runs the
 * tools themselves; this file keeps the same facts in `npm test`.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Store } from '../../store/index.ts';
import { createHashPool, createMemoryHashCache } from '../hash/index.ts';
import type { HashPool } from '../hash/index.ts';
import { RunIngester } from './index.ts';
import { useTempStore } from '../../../../test/support/temp-store.ts';

const GENERATED = resolve(import.meta.dirname, '..', '..', '..', '..', 'test', 'fixtures', 'generated');
const RUN = join(GENERATED, 'hf-peft-lora-run');
const LM_EVAL = join(GENERATED, 'lm-eval-peft', 'results_2026-12-07T00-00-00.000000.json');
/** Where make-fixtures.sh ran: the paths inside the lm-eval file start with it. */
const GENERATED_AT = '/tmp/keel-make-fixtures-fIOG7O/outputs/lora';

/** Each quantity the run logs, once (trainer_state.json's `loss` and TensorBoard's `train/loss` are one). */
const CURVES = ['eval/loss', 'eval/runtime', 'eval/samples_per_second', 'eval/steps_per_second', 'train/epoch', 'train/grad_norm', 'train/learning_rate', 'train/loss'];
const SUMMARY = ['train/total_flos', 'train/train_loss', 'train/train_runtime', 'train/train_samples_per_second', 'train/train_steps_per_second'];

describe('the record of a real HF Trainer + PEFT run matches its files', () => {
  const { dir: tmp, store } = useTempStore('keel-fidelity-', { closeFirst: () => pool.close() });
  let dir: string;
  let pool: HashPool;
  let ingester: RunIngester;
  let runId: string;
  before(async () => {
    dir = join(tmp, 'outputs', 'lora');
    cpSync(RUN, dir, { recursive: true });
    pool = createHashPool({ size: 2 });
    ingester = new RunIngester({ store, hasher: pool, hashCache: createMemoryHashCache(), quietMs: 3_600_000 });
    const report = await ingester.ingestRunDir(dir, { projectId: null, source: 'import' });
    runId = report.runId;
    assert.deepEqual(report.issues, []);
  });
  it('keeps one series per quantity, equal to trainer_state.json, its names as aliases', () => {
    assert.deepEqual(store.metrics.series(runId).map((s) => s.key).sort(), CURVES);
    assert.deepEqual(store.metrics.seriesSummary(runId, 'train/loss')?.aliases, ['loss']);
    assert.deepEqual(store.metrics.seriesSummary(runId, 'eval/loss')?.aliases, ['eval_loss']);
    const history = (JSON.parse(readFileSync(join(RUN, 'checkpoint-60', 'trainer_state.json'), 'utf8')) as { log_history: Record<string, number>[] }).log_history;
    for (const entry of history) {
      for (const [k, v] of Object.entries(entry)) {
        if (k === 'step') continue;
        const key = k.startsWith('eval_') ? `eval/${k.slice(5)}` : `train/${k}`;
        const stored = store.metrics.points(runId, key, { fromStep: entry.step, toStep: entry.step });
        // One point per step (the event file's float32 copy merged in), with trainer_state.json's float64 value.
        assert.deepEqual(stored.map((p) => p.value), [v], `${key}@${entry.step}`);
      }
    }
    assert.ok(store.metrics.points(runId, 'train/loss').every((p) => p.wallTime !== null), 'the event files\' wall times are kept');
  });

  it('keeps the end-of-run values as summary values, not one-point curves', () => {
    const summary = store.summaries.list(runId);
    assert.deepEqual(summary.map((v) => v.key).sort(), SUMMARY);
    assert.ok(summary.every((v) => v.step === 60 && typeof v.value === 'number'));
    for (const key of SUMMARY) assert.equal(store.metrics.seriesSummary(runId, key), undefined, `${key} is no curve`);
  });

  it('lists the checkpoints on disk; the output folder\'s final adapter is checkpoint-60\'s second location', () => {
    const cks = store.checkpoints.byRun(runId);
    assert.deepEqual(cks.map((c) => [c.location, c.step, c.kind]), [[join(dir, 'checkpoint-40'), 40, 'adapter'], [join(dir, 'checkpoint-60'), 60, 'adapter']]);
    const last = cks[1];
    assert.equal(last?.final, true);
    assert.deepEqual(last?.locations, [{ location: dir, role: 'final', deletedAt: null }]);
    assert.equal(store.checkpoints.byLocation(dir)?.id, last?.id, 'the output folder finds checkpoint-60, not a second step-60 checkpoint');
  });

  it('attaches lm-eval results to the adapter named by peft=, model_args being a dict', async () => {
    const text = readFileSync(LM_EVAL, 'utf8');
    const written = JSON.parse(text) as { config: { model_args: unknown }; model_name: string };
    assert.equal(typeof written.config.model_args, 'object', 'lm-eval 0.4.13 writes model_args as a dict');
    assert.equal(written.model_name, `${GENERATED_AT}/checkpoint-60`);
    const file = join(tmp, 'outputs', 'lora-eval', 'results_2026-12-07T00-00-00.000000.json');
    cpSync(LM_EVAL, file);
    writeFileSync(file, text.replaceAll(GENERATED_AT, dir));
    const report = await ingester.ingestEvalFile(file, { projectId: null });
    const ck60 = store.checkpoints.byLocation(join(dir, 'checkpoint-60'));
    assert.deepEqual(report.subject, { kind: 'checkpoint', id: ck60?.id });
    const rows = store.evals.bySubject('checkpoint', ck60?.id ?? '');
    assert.deepEqual(rows.map((r) => r.metric).sort(), ['acc', 'acc_norm']);
    // An eval of the final model in the output folder (peft=OUTPUT_DIR) is an eval of checkpoint-60: one model, two locations.
    const ofRoot = join(tmp, 'outputs', 'lora-eval-final', 'results_2026-12-07T00-00-00.000000.json');
    cpSync(LM_EVAL, ofRoot);
    writeFileSync(ofRoot, text.replaceAll(`${GENERATED_AT}/checkpoint-60`, dir));
    assert.deepEqual((await ingester.ingestEvalFile(ofRoot, { projectId: null })).subject, { kind: 'checkpoint', id: ck60?.id });
    assert.equal(store.evals.bySubject('checkpoint', ck60?.id ?? '').length, 4, 'both files\' results are on checkpoint-60');
  });

  it('never attaches an eval of an unknown adapter to its base (pretrained=), even when the base is a known checkpoint', async () => {
    const text = readFileSync(LM_EVAL, 'utf8');
    const file = join(tmp, 'elsewhere-eval', 'results_2026-12-07T00-00-00.000000.json');
    cpSync(LM_EVAL, file);
    const ck40 = store.checkpoints.byLocation(join(dir, 'checkpoint-40'));
    writeFileSync(file, text.replaceAll(`${GENERATED_AT}/checkpoint-60`, '/elsewhere/unknown-adapter')
      .replaceAll('/tmp/keel-make-fixtures-fIOG7O/base-models/tiny-llama', join(dir, 'checkpoint-40')));
    const report = await ingester.ingestEvalFile(file, { projectId: null });
    assert.equal(report.subject?.kind, 'model', 'the adapter as named, a model record');
    assert.equal(store.baseModels.get(report.subject?.id ?? '')?.ref, '/elsewhere/unknown-adapter');
    assert.equal(store.evals.bySubject('checkpoint', ck40?.id ?? '').length, 0, 'not the base\'s results');
    assert.ok(store.evals.bySource(file).every((r) => r.subjectRef === '/elsewhere/unknown-adapter'));
  });

  it('marks a checkpoint seen gone as deleted: kept as history, never offered', async () => {
    const ck40 = store.checkpoints.byLocation(join(dir, 'checkpoint-40'));
    rmSync(join(dir, 'checkpoint-40'), { recursive: true });
    await ingester.ingestRunDir(dir, { projectId: null, source: 'import' });
    const all = store.checkpoints.byRunAll(runId);
    const gone = all.find((c) => c.id === ck40?.id);
    assert.equal(typeof gone?.deletedAt, 'number', 'checkpoint-40 is marked deleted');
    assert.deepEqual(store.checkpoints.byRun(runId).map((c) => c.step), [60], 'present ones only');
    assert.equal(store.checkpoints.bestOrLatest(runId)?.step, 60);
    // Even when the run's best was the deleted one, the automatic eval picks a present checkpoint.
    store.checkpoints.setBest(runId, ck40?.id ?? '');
    assert.equal(store.checkpoints.bestOrLatest(runId)?.step, 60);
  });
});

describe('two files that disagree on a step', () => {
  it('keep the higher-precision value (trainer_state.json\'s float64), count the disagreement and say so once', async () => {
    const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'keel-fidelity-disagree-')));
    const store = new Store(join(tmp, 'keel.db'));
    const pool = createHashPool({ size: 1 });
    try {
      const dir = join(tmp, 'outputs', 'lora');
      cpSync(RUN, dir, { recursive: true });
      // Change loss at step 10 in trainer_state.json only: TensorBoard's event file keeps the real one.
      const stateFile = join(dir, 'checkpoint-60', 'trainer_state.json');
      const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { log_history: Record<string, number>[] };
      const entry = state.log_history.find((e) => e.step === 10 && 'loss' in e) as Record<string, number>;
      const tensorboard = entry.loss as number;
      entry.loss = tensorboard + 0.5;
      writeFileSync(stateFile, JSON.stringify(state, null, 2));
      const ingester = new RunIngester({ store, hasher: pool, hashCache: createMemoryHashCache(), quietMs: 3_600_000 });
      const report = await ingester.ingestRunDir(dir, { projectId: null, source: 'import' });
      assert.deepEqual(store.metrics.points(report.runId, 'train/loss', { fromStep: 10, toStep: 10 }).map((p) => p.value), [tensorboard + 0.5]);
      assert.equal(store.metrics.seriesSummary(report.runId, 'train/loss')?.disagreements, 1);
      assert.equal(store.metrics.series(report.runId).filter((s) => s.key.endsWith('loss')).length, 2, 'still one series per quantity (train/loss, eval/loss)');
      assert.equal(report.issues.length, 1, JSON.stringify(report.issues));
      assert.match(report.issues[0] ?? '', /events\.out\.tfevents.*: train\/loss at step 10 is 3\.30\d+ here but 3\.80\d+ in trainer_state\.json; Keel keeps the more precise value \(trainer_state\.json's\) and shows the series once$/);
    } finally {
      store.close();
      await pool.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

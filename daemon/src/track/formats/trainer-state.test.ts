import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { parseTrainerState, lastPathSegment } from './trainer-state.ts';
import type { TrainerState } from './trainer-state.ts';
import { FormatError } from './types.ts';
import { realFixture } from '../../../../test/support/fixtures.ts';

function fixturePath(...parts: string[]): string {
  return realFixture(...parts);
}

function load(...parts: string[]): TrainerState {
  const file = fixturePath('trainer_state', ...parts);
  return parseTrainerState(fs.readFileSync(file, 'utf8'), file);
}

function value(state: TrainerState, step: number, key: string): number | undefined {
  return state.points.find((p) => p.step === step && p.key === key)?.value;
}

function keysAt(state: TrainerState, step: number): string[] {
  return state.points.filter((p) => p.step === step).map((p) => p.key).sort();
}

void test('modern schema with six named eval sets (trainer_state_viz)', () => {
  const s = load('modern-named-eval-sets_trainer_state_viz', 'trainer_state.json');
  assert.equal(s.globalStep, 12030);
  assert.equal(s.maxSteps, 12030);
  assert.equal(s.numTrainEpochs, 30);
  assert.equal(s.epoch, 30);
  assert.equal(s.loggingSteps, 500);
  assert.equal(s.evalSteps, 500);
  assert.equal(s.shouldTrainingStop, true);
  // best_* are all null: absent, not errors.
  assert.equal(s.bestMetric, undefined);
  assert.equal(s.bestGlobalStep, undefined);
  assert.equal(s.bestModelCheckpoint, undefined);
  assert.deepEqual(s.summary, {});
  assert.deepEqual(s.issues, []);
  // Step-0 evaluation, epoch written as the int 0.
  assert.equal(value(s, 0, 'eval_g0_accuracy'), 0.7082294264339152);
  assert.equal(value(s, 0, 'eval_g5_loss'), 3.7603373527526855);
  assert.equal(value(s, 0, 'epoch'), 0);
  // Per-epoch logging at step 401: train keys and all six eval sets share the step.
  assert.equal(value(s, 401, 'loss'), 1.1074);
  assert.equal(value(s, 401, 'grad_norm'), 5.49674654006958);
  assert.equal(value(s, 401, 'learning_rate'), 1e-5);
  assert.equal(value(s, 401, 'eval_g3_accuracy'), 0.28428927680798005);
  assert.equal(value(s, 802, 'eval_g5_loss'), 2.1838297843933105);
  assert.equal(value(s, 12030, 'loss'), 0.0549);
  assert.equal(value(s, 12030, 'eval_g5_accuracy'), 0.2518703241895262);
  assert.equal(keysAt(s, 401).length, 4 + 6 * 5, 'epoch/grad_norm/lr/loss + 6 sets × 5 metrics, epoch once');
  // 31 steps (0, 401 … 12030); unique per (step, key).
  assert.equal(new Set(s.points.map((p) => p.step)).size, 31);
  assert.equal(s.points.length, 1051);
  assert.equal(new Set(s.points.map((p) => `${p.step}/${p.key}`)).size, s.points.length);
});

void test('old schema with a foreign best_model_checkpoint and a summary entry (whisper)', () => {
  const s = load('old-schema-foreign-best-path_whisper-large-v2-ja', 'trainer_state.json');
  assert.equal(s.bestModelCheckpoint, '/storage/elsayedissa/whisper-large-v2-japanese-24h/checkpoint-3000');
  assert.equal(s.bestCheckpointName, 'checkpoint-3000');
  assert.equal(s.bestMetric, 0.7431560204762965);
  assert.equal(s.bestGlobalStep, undefined);
  assert.equal(s.numInputTokensSeen, undefined);
  assert.equal(s.shouldTrainingStop, undefined);
  assert.equal(s.globalStep, 5000);
  assert.equal(s.epoch, 38.16793893129771);
  assert.equal(s.numTrainEpochs, 39);
  assert.equal(value(s, 25, 'loss'), 0.3048);
  assert.equal(value(s, 25, 'learning_rate'), 4.6000000000000004e-7);
  assert.equal(value(s, 3000, 'eval_wer'), 0.7431560204762965, 'best_metric is the step-3000 eval_wer');
  assert.equal(value(s, 5000, 'eval_wer'), 0.7449365679946583);
  assert.deepEqual(s.summary, {
    epoch: 38.17,
    total_flos: 5.27162132754432e20,
    train_loss: 0.01890342615880072,
    train_runtime: 77350.9963,
    train_samples_per_second: 3.232,
    train_steps_per_second: 0.065,
  });
  // The summary is not a series.
  assert.equal(value(s, 5000, 'train_runtime'), undefined);
  assert.equal(s.points.filter((p) => p.key === 'eval_wer').length, 5);
  assert.equal(s.points.length, 625);
});

void test('last-checkpoint copy of the same run yields the same points, minus the summary', () => {
  const root = load('old-schema-foreign-best-path_whisper-large-v2-ja', 'trainer_state.json');
  const last = load('old-schema-foreign-best-path_whisper-large-v2-ja', 'last-checkpoint', 'trainer_state.json');
  assert.deepEqual(last.points, root.points);
  assert.deepEqual(last.summary, {});
  assert.equal(last.bestCheckpointName, 'checkpoint-3000');
});

void test('oldest SageMaker schema: two entries, summary without train_loss (bart)', () => {
  const s = load('oldest-schema-sagemaker_bart-large-cnn-samsum', 'trainer_state.json');
  assert.equal(s.globalStep, 693);
  assert.equal(s.maxSteps, 693);
  assert.equal(s.totalFlos, 3.5424926764630016e16);
  assert.deepEqual(s.points, [
    { step: 500, key: 'epoch', value: 2.16 },
    { step: 500, key: 'learning_rate', value: 1.3924963924963927e-5 },
    { step: 500, key: 'loss', value: 1.2342 },
  ]);
  assert.deepEqual(s.summary, { epoch: 3, total_flos: 3.5424926764630016e16, train_runtime: 363.7124, train_samples_per_second: 1.905 });
  assert.equal('train_loss' in s.summary, false);
  const mid = load('oldest-schema-sagemaker_bart-large-cnn-samsum', 'checkpoint-500', 'trainer_state.json');
  assert.equal(mid.globalStep, 500);
  assert.equal(mid.maxSteps, 693);
  assert.equal(mid.epoch, 2.1645021645021645);
  assert.equal(value(mid, 500, 'loss'), 1.2342);
  assert.deepEqual(mid.summary, {});
});

void test('interrupted TRL SFT run with PEFT (global_step 200 of 36969)', () => {
  const s = load('interrupted-trl-sft-peft_fine-tune-ai-model', 'fine_tuned_model', 'checkpoint-200', 'trainer_state.json');
  assert.equal(s.globalStep, 200);
  assert.equal(s.maxSteps, 36969);
  assert.equal(s.shouldTrainingStop, false);
  assert.equal(s.saveSteps, 100);
  assert.equal(value(s, 10, 'loss'), 10.9959);
  assert.equal(value(s, 100, 'mean_token_accuracy'), 0.8647058814764023);
  assert.equal(value(s, 100, 'num_tokens'), 409600);
  assert.equal(value(s, 200, 'loss'), 0.6604);
  assert.deepEqual(keysAt(s, 200), ['epoch', 'grad_norm', 'learning_rate', 'loss', 'mean_token_accuracy', 'num_tokens']);
  assert.equal(s.points.length, 120);
});

void test('TRL GRPO with Unsloth: slash keys, no summary, last logged step below global_step', () => {
  const s = load('modern-trl-unsloth_grpo-verified-reasoner', 'outputs', 'checkpoint-1134', 'trainer_state.json');
  assert.equal(s.globalStep, 1134);
  assert.equal(s.numInputTokensSeen, 6009260);
  assert.equal(s.totalFlos, 0);
  assert.deepEqual(s.summary, {});
  assert.equal(value(s, 500, 'rewards/correctness_reward_func/mean'), 0.775);
  assert.equal(value(s, 500, 'completions/clipped_ratio'), 0.025);
  assert.equal(value(s, 500, 'kl'), 0.34099234640598297);
  assert.equal(value(s, 5, 'loss'), 0.0121);
  assert.equal(Math.max(...s.points.map((p) => p.step)), 1130);
  assert.equal(new Set(s.points.map((p) => p.step)).size, 226);
  const sft = load('modern-trl-unsloth_grpo-verified-reasoner', 'outputs', 'checkpoint-60', 'trainer_state.json');
  assert.equal(sft.globalStep, 60);
  assert.equal(value(sft, 1, 'learning_rate'), 0);
  assert.equal(value(sft, 59, 'epoch'), 4.5600000000000005);
  assert.equal(value(sft, 60, 'loss'), 0.0822);
});

void test('NaN/Infinity kept, later (step, key) wins, bad entries become issues', () => {
  const text = `{
    "global_step": "12", "best_metric": NaN, "best_model_checkpoint": "C:\\\\runs\\\\out\\\\checkpoint-20\\\\",
    "best_global_step": 20,
    "log_history": [
      {"epoch": 0.1, "loss": NaN, "grad_norm": Infinity, "step": 10},
      {"epoch": 0.1, "loss": 2.5, "note": "hi", "flag": true, "nested": {"a": 1}, "step": 10},
      {"loss": 1.0},
      "junk",
      {"eval_loss": -Infinity, "step": 20},
      {"train_runtime": 1.0, "step": 20, "epoch": 1},
      {"train_runtime": 2.0, "train_loss": NaN, "step": 40}
    ]
  }`;
  const s = parseTrainerState(text, 'x/trainer_state.json');
  assert.equal(s.globalStep, undefined);
  assert.ok(Number.isNaN(s.bestMetric));
  assert.equal(s.bestCheckpointName, 'checkpoint-20');
  assert.equal(s.bestGlobalStep, 20);
  assert.equal(value(s, 10, 'loss'), 2.5, 'the later entry for (10, loss) wins');
  assert.equal(value(s, 10, 'grad_norm'), Infinity);
  assert.equal(value(s, 20, 'eval_loss'), -Infinity);
  assert.deepEqual(keysAt(s, 10), ['epoch', 'grad_norm', 'loss']);
  assert.equal(Object.keys(s.summary).join(), 'train_runtime,train_loss', 'the last summary entry wins');
  assert.ok(Number.isNaN(s.summary.train_loss));
  assert.deepEqual(s.issues.map((i) => i.message), [
    'global_step is not a number ("12"); ignored',
    'log_history[2] has no usable step (missing); skipped',
    'log_history[3] is not an object; skipped',
  ]);
});

void test('whole-file failures are FormatErrors naming the file', () => {
  const cut = fs.readFileSync(fixturePath('trainer_state', 'modern-named-eval-sets_trainer_state_viz', 'trainer_state.json'), 'utf8').slice(0, 20_000);
  assert.throws(() => parseTrainerState(cut, 'run/trainer_state.json'), (err: unknown) => err instanceof FormatError && err.code === 'E_TRUNCATED' && err.message.startsWith('run/trainer_state.json:'));
  assert.throws(() => parseTrainerState('[1, 2]', 'a.json'), (err: unknown) => err instanceof FormatError && err.code === 'E_SHAPE');
  assert.throws(() => parseTrainerState('{"a": }', 'a.json'), (err: unknown) => err instanceof FormatError && err.code === 'E_MALFORMED' && err.line === 1);
  const empty = parseTrainerState('{}');
  assert.deepEqual(empty, { points: [], summary: {}, issues: [] });
});

void test('lastPathSegment handles POSIX, Windows and trailing separators', () => {
  assert.equal(lastPathSegment('/a/b/checkpoint-3000'), 'checkpoint-3000');
  assert.equal(lastPathSegment('C:\\x\\checkpoint-5\\'), 'checkpoint-5');
  assert.equal(lastPathSegment('checkpoint-7'), 'checkpoint-7');
  assert.equal(lastPathSegment('/'), undefined);
});

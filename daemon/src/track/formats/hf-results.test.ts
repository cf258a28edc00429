import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { hfResultsKind, parseHfResults } from './hf-results.ts';
import type { HfResults } from './hf-results.ts';
import { FormatError } from './types.ts';
import { realFixture } from '../../../../test/support/fixtures.ts';

function fixturePath(...parts: string[]): string {
  return realFixture(...parts);
}

function load(...parts: string[]): HfResults {
  const file = fixturePath('trainer_state', ...parts);
  return parseHfResults(fs.readFileSync(file, 'utf8'), file);
}

const WHISPER = 'old-schema-foreign-best-path_whisper-large-v2-ja';
const BART = 'oldest-schema-sagemaker_bart-large-cnn-samsum';

void test('whisper all/train/eval results (4-space indent, rounded epoch, sample counts)', () => {
  const all = load(WHISPER, 'all_results.json');
  assert.equal(all.kind, 'all');
  assert.deepEqual(all.issues, []);
  assert.equal(Object.keys(all.metrics).length, 12);
  assert.equal(all.metrics.epoch, 38.17);
  assert.equal(all.metrics.eval_wer, 0.7449365679946583);
  assert.equal(all.metrics.eval_samples, 4485);
  assert.equal(all.metrics.train_samples, 6505);
  assert.equal(all.metrics.train_runtime, 77350.9963);
  const train = load(WHISPER, 'train_results.json');
  assert.equal(train.kind, 'train');
  assert.deepEqual(train.metrics, {
    epoch: 38.17,
    train_loss: 0.01890342615880072,
    train_runtime: 77350.9963,
    train_samples: 6505,
    train_samples_per_second: 3.232,
    train_steps_per_second: 0.065,
  });
  const evalRes = load(WHISPER, 'eval_results.json');
  assert.equal(evalRes.kind, 'eval');
  assert.equal(evalRes.metrics.eval_loss, 0.4200145900249481);
  assert.equal(Object.keys(evalRes.metrics).length, 7);
});

void test('bart results: test_ prefix, memory deltas, rouge and gen_len', () => {
  const all = load(BART, 'all_results.json');
  assert.equal(all.kind, 'all');
  assert.equal(Object.keys(all.metrics).length, 38);
  assert.equal(all.metrics.init_mem_gpu_alloc_delta, 1625362944);
  assert.equal(all.metrics.train_mem_gpu_peaked_delta, 12734977024);
  assert.equal(all.metrics.test_rougeLsum, 38.4149);
  const testRes = load(BART, 'test_results.json');
  assert.equal(testRes.kind, 'test');
  assert.equal(testRes.metrics.test_loss, 1.4224162101745605);
  assert.equal(testRes.metrics.test_samples, 819);
  assert.equal(testRes.metrics.test_gen_len, 60.0757);
  assert.equal(Object.keys(testRes.metrics).length, 13);
  const evalRes = load(BART, 'eval_results.json');
  assert.equal(evalRes.metrics.eval_rouge1, 42.621);
  assert.equal(evalRes.metrics.eval_mem_gpu_peaked_delta, 980464128);
  const train = load(BART, 'train_results.json');
  assert.equal(train.kind, 'train');
  assert.equal(train.metrics.train_samples, 14732);
  assert.equal(train.metrics.train_loss, undefined, 'this 2021 run wrote no train_loss');
});

void test('NaN kept, non-numbers reported, bad names and shapes refused', () => {
  const r = parseHfResults('{"eval_loss": NaN, "eval_acc": Infinity, "note": "x", "n": null}', '/o/eval_results.json');
  assert.ok(Number.isNaN(r.metrics.eval_loss));
  assert.equal(r.metrics.eval_acc, Infinity);
  assert.deepEqual(r.issues.map((i) => i.message), ['note is not a number ("x"); skipped', 'n is not a number (null); skipped']);
  assert.equal(parseHfResults('{"predict_loss": 1}', 'predict_results.json').kind, 'predict');
  assert.throws(() => parseHfResults('{}', 'results.json'), (e: unknown) => e instanceof FormatError && e.code === 'E_SHAPE');
  assert.throws(() => parseHfResults('[]', 'all_results.json'), (e: unknown) => e instanceof FormatError && e.code === 'E_SHAPE');
  assert.throws(() => parseHfResults('{"epoch": 3.0,\n', 'all_results.json'), (e: unknown) => e instanceof FormatError && e.code === 'E_TRUNCATED');
});

void test('hfResultsKind recognises names and paths only', () => {
  assert.equal(hfResultsKind('C:\\out\\train_results.json'), 'train');
  assert.equal(hfResultsKind('/out/all_results.json'), 'all');
  assert.equal(hfResultsKind('/out/my_all_results.json'), undefined);
  assert.equal(hfResultsKind('trainer_state.json'), undefined);
});

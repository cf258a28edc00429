import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { isLmEvalResultsFile, looksLikeLmEvalResults, parseLmEvalResults, parseModelArgs } from './lm-eval.ts';
import type { LmEvalResult, LmEvalResults } from './lm-eval.ts';
import { parseKeyValueList } from './lm-eval-model-args.ts';
import { parseTolerantJson } from './tolerant-json.ts';
import { FormatError } from './types.ts';
import { realFixture } from '../../../../test/support/fixtures.ts';

function fixturePath(...parts: string[]): string {
  return realFixture(...parts);
}

function load(...parts: string[]): LmEvalResults {
  const file = fixturePath('lm_eval', ...parts);
  assert.ok(isLmEvalResultsFile(file), `${file} should look like a results file`);
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(looksLikeLmEvalResults(parseTolerantJson(text)));
  return parseLmEvalResults(text, file);
}

function row(r: LmEvalResults, task: string, metric: string, filter = 'none'): LmEvalResult {
  const found = r.results.find((x) => x.task === task && x.metric === metric && x.filter === filter);
  assert.ok(found, `no row ${task} ${metric},${filter}`);
  return found;
}

void test('Qwen3-8B: groups, "N/A" stderr beside numeric stderr, dict model_args', () => {
  const r = load('groups-na-stderr-dict-model-args_qwen3-8b', 'Qwen__Qwen3-8B', 'results_2026-07-08T16-04-34.219874.json');
  assert.equal(r.model, 'hf');
  assert.equal(r.modelName, 'Qwen/Qwen3-8B');
  assert.equal(r.modelArgs.pretrained, 'Qwen/Qwen3-8B');
  assert.equal(r.modelArgs.peft, undefined);
  assert.deepEqual(r.modelArgs.raw, { pretrained: 'Qwen/Qwen3-8B', dtype: 'bfloat16', enable_thinking: false });
  assert.equal(r.date, 1783526520.5433393);
  assert.equal(r.lmEvalVersion, '0.4.13.dev0');
  assert.deepEqual(r.issues, []);
  assert.equal(r.results.length, 9, 'belief 1 + desire 1 + intention 3 + group 4; sample_len/sample_count are not metrics');
  const microF1 = row(r, 'negotiationtom_intention', 'micro_f1');
  assert.equal(microF1.value, 0.30188679245283023);
  assert.equal(microF1.stderr, null, '"N/A" stderr is unknown');
  assert.equal(row(r, 'negotiationtom_intention', 'exact_match').stderr, 0.0917662935482247);
  const group = row(r, 'negotiationtom', 'acc');
  assert.equal(group.isGroup, true);
  assert.equal(group.value, 0.525);
  assert.equal(group.stderr, 0.08009040943964843);
  assert.equal(group.version, '0', 'versions mixes "0" and 0; kept as written');
  assert.equal(r.results.filter((x) => x.task === 'negotiationtom').length, 4, 'a group in both results and groups appears once');
  const belief = row(r, 'negotiationtom_belief', 'acc');
  assert.deepEqual(belief, { task: 'negotiationtom_belief', alias: 'negotiationtom_belief', isGroup: false, nShot: 0, version: 0, metric: 'acc', filter: 'none', value: 0.45, stderr: 0.11413288653790232, higherIsBetter: true });
});

void test('nl2foam: eval of a fine-tune output via vLLM, empty model_name, perplexities lower-is-better', () => {
  const r = load('finetuned-local-path-vllm-empty-model-name_nl2foam', 'results_2025-12-17T20-28-43.535870.json');
  assert.equal(r.model, 'vllm');
  assert.equal(r.modelName, undefined);
  assert.equal(r.modelArgs.pretrained, '/scratch/hieu/nl2foam_sft_0/outputs/nl2foam_sft_0__8__1765350318');
  assert.equal(r.modelArgs.args.tensor_parallel_size, 8);
  assert.equal(r.lmEvalVersion, '0.4.9.2');
  assert.equal(r.date, 1766003122.6865718);
  assert.equal(r.results.length, 3);
  const wp = row(r, 'nl2foam_perplexity_original', 'word_perplexity');
  assert.equal(wp.value, 2.606616650368937);
  assert.equal(wp.stderr, null);
  assert.equal(wp.higherIsBetter, false);
  assert.equal(wp.isGroup, false, 'an empty group_subtasks list is not a group');
  assert.equal(row(r, 'nl2foam_perplexity_original', 'bits_per_byte').value, 0.16634296163172285);
  assert.ok(r.results.every((x) => x.higherIsBetter === false && x.stderr === null && x.nShot === 0 && x.version === 1));
});

void test('Llama-3-8B steer: string model_args with a local path, group with " - " subtask aliases', () => {
  const r = load('groups-subtask-aliases-local-path_llama-3-8b', 'result-steer.jsonl', '__data__public_models__huggingface__meta-llama__Meta-Llama-3-8B', 'results_2024-06-03T01-54-29.600792.json');
  assert.equal(r.modelArgs.pretrained, '/data/public_models/huggingface/meta-llama/Meta-Llama-3-8B');
  assert.equal(r.modelArgs.raw, 'pretrained=/data/public_models/huggingface/meta-llama/Meta-Llama-3-8B,parallelize=True,trust_remote_code=True');
  assert.deepEqual(r.modelArgs.args, { pretrained: '/data/public_models/huggingface/meta-llama/Meta-Llama-3-8B', parallelize: 'True', trust_remote_code: 'True' });
  assert.equal(r.lmEvalVersion, undefined);
  assert.equal(r.date, 1717379340.7998002);
  assert.equal(r.results.length, 6);
  const group = row(r, 'steer', 'acc');
  assert.equal(group.isGroup, true);
  assert.equal(group.version, undefined, 'the group is absent from versions');
  assert.equal(group.value, 0.4932116195412525);
  const steer2 = row(r, 'steer2', 'acc');
  assert.equal(steer2.alias, 'steer2', 'the " - " indentation is dropped');
  assert.equal(steer2.isGroup, false);
  assert.equal(steer2.value, 0.7166324435318275);
  assert.equal(steer2.stderr, 0.00481334881354423);
  assert.equal(steer2.version, 0);
  assert.equal(row(r, 'steer9', 'acc').value, 0.16666666666666666);
});

void test('FLOR-760M: output_path ending in .json, zero values and stderr, n-shot 5', () => {
  const r = load('output-path-json-stem_flor-760m', 'results_FLOR-760M%3A2025-07-21T1441-16_2025-07-21T14-41-47.889425.json');
  assert.equal(r.modelArgs.pretrained, '/gpfs/projects/bsc88/hf-models/FLOR-760M');
  assert.equal(r.lmEvalVersion, '0.4.8');
  assert.equal(r.results.length, 4);
  const eq = row(r, 'eqbench_ca', 'eqbench');
  assert.equal(eq.value, 0);
  assert.equal(eq.stderr, 0, 'a 0.0 stderr is known, not null');
  assert.equal(eq.nShot, 5);
  assert.equal(eq.higherIsBetter, true);
  assert.equal(row(r, 'eqbench_es', 'percent_parseable').value, 0);
});

void test('dog-steer: complete 0.4 file, custom model class, non-path model_args', () => {
  const r = load('complete-0.4-string-model-args_dog-steer', '__home__cs29824__matthew__lm-evaluation-harness__examples__dog_steer.csv', 'results_2025-01-21T00-40-03.356274.json');
  assert.equal(r.model, 'sae_steered_beta');
  assert.equal(r.modelName, '/home/cs29824/matthew/lm-evaluation-harness/examples/dog_steer.csv');
  assert.equal(r.modelArgs.pretrained, undefined);
  assert.equal(r.modelArgs.args.base_name, 'google/gemma-2-2b');
  assert.equal(r.modelArgs.args.csv_path, '/home/cs29824/matthew/lm-evaluation-harness/examples/dog_steer.csv');
  assert.equal(r.date, 1737419939.4888458);
  assert.deepEqual(r.results, [
    { task: 'mmlu_abstract_algebra', isGroup: false, alias: 'abstract_algebra', nShot: 0, version: 1, metric: 'acc', filter: 'none', value: 0.34, stderr: 0.047609522856952344, higherIsBetter: true },
  ]);
});

void test('legacy v0: no ",filter" suffix, only results and versions, no trailing newline', () => {
  const r = load('legacy-v0-no-filter-suffix', 'arc_challenge-v0-res.json');
  assert.equal(r.model, undefined);
  assert.deepEqual(r.modelArgs, { args: {}, raw: '' });
  assert.equal(r.date, undefined);
  assert.deepEqual(r.results, [
    { task: 'arc_challenge', isGroup: false, version: 0, metric: 'acc', filter: 'none', value: 0.24488054607508533, stderr: 0.012566273985131354 },
    { task: 'arc_challenge', isGroup: false, version: 0, metric: 'acc_norm', filter: 'none', value: 0.2440273037542662, stderr: 0.012551447627856257 },
  ]);
});

void test('filters split from metrics; NaN values kept; bad values are issues; group only in "groups"', () => {
  const text = `{
    "results": {
      "gsm8k": {"alias": "gsm8k", "exact_match,strict-match": 0.75, "exact_match_stderr,strict-match": 0.01,
                "exact_match,flexible-extract": NaN, "exact_match_stderr,flexible-extract": null, "bleu,none": "N/A"}
    },
    "groups": {"math": {"alias": "math", "exact_match,strict-match": 0.5}},
    "configs": {"gsm8k": {"num_fewshot": 5, "metric_list": [{"metric": "exact_match", "higher_is_better": true}]}},
    "config": {"model": "hf", "model_args": "pretrained=/runs/a,b/checkpoint-500,peft='/runs/lora',dtype=bfloat16", "num_fewshot": 3},
    "date": "1700000000.5"
  }`;
  const r = parseLmEvalResults(text, 'results_x.json');
  assert.equal(r.modelArgs.pretrained, '/runs/a,b/checkpoint-500');
  assert.equal(r.modelArgs.peft, '/runs/lora');
  assert.equal(r.date, 1700000000.5);
  const strict = row(r, 'gsm8k', 'exact_match', 'strict-match');
  assert.equal(strict.value, 0.75);
  assert.equal(strict.stderr, 0.01);
  assert.equal(strict.nShot, 5, 'configs[task].num_fewshot when n-shot is absent');
  assert.equal(strict.higherIsBetter, true, 'from configs[task].metric_list');
  const flexible = row(r, 'gsm8k', 'exact_match', 'flexible-extract');
  assert.ok(Number.isNaN(flexible.value));
  assert.equal(flexible.stderr, null);
  const math = row(r, 'math', 'exact_match', 'strict-match');
  assert.equal(math.isGroup, true);
  assert.equal(math.nShot, 3, 'falls back to config.num_fewshot');
  assert.deepEqual(r.issues, [{ message: 'results.gsm8k["bleu,none"] is not a number ("N/A"); skipped' }]);
});

void test('whole-file failures and non-lm-eval JSON', () => {
  assert.throws(() => parseLmEvalResults('{"results": {"a": {"acc,none": 0.5}', 'r.json'), (e: unknown) => e instanceof FormatError && e.code === 'E_TRUNCATED');
  assert.throws(() => parseLmEvalResults('{"loss": 1}', 'results.json'), (e: unknown) => e instanceof FormatError && e.code === 'E_SHAPE' && e.message.startsWith('results.json:'));
  assert.equal(looksLikeLmEvalResults({ results: { a: 1 }, versions: {} }), false);
  assert.equal(looksLikeLmEvalResults({ results: { a: {} } }), false);
});

void test('model_args strings: flags, "=" in values, quotes, JSON, and non-path commas', () => {
  assert.deepEqual(parseKeyValueList('pretrained=x,trust_remote_code,revision=a=b'), { pretrained: 'x', trust_remote_code: '', revision: 'a=b' });
  assert.deepEqual(parseKeyValueList(' pretrained = "/p q" , dtype=float16,'), { pretrained: '/p q', dtype: 'float16' });
  assert.deepEqual(parseKeyValueList('dtype=bf16,parallelize'), { dtype: 'bf16', parallelize: '' });
  const json = parseModelArgs('{"pretrained": "/ckpt/checkpoint-100", "lora_local_path": "/ckpt/adapter"}');
  assert.equal(json.pretrained, '/ckpt/checkpoint-100');
  assert.equal(json.peft, '/ckpt/adapter');
  assert.equal(json.raw, '{"pretrained": "/ckpt/checkpoint-100", "lora_local_path": "/ckpt/adapter"}');
  assert.deepEqual(parseModelArgs(42), { args: {}, raw: '' });
  assert.equal(parseModelArgs('pretrained=,peft=').pretrained, undefined);
});

void test('isLmEvalResultsFile', () => {
  for (const name of ['results_2024-06-03T01-54-29.600792.json', '/o/m/results.json', 'my_eval_2025-07-21T14-41-47.889425.json', 'results_FLOR-760M:2025-07-21T1441-16_2025-07-21T14-41-47.889425.json', 'arc_challenge-v0-res.json']) {
    assert.equal(isLmEvalResultsFile(name), true, name);
  }
  for (const name of ['samples_arc_easy_2024-06-03T01-54-29.600792.jsonl', 'samples_x_2024-06-03T01-54-29.json', 'trainer_state.json', 'all_results.json', 'results_2024.jsonl', 'myresults.json']) {
    assert.equal(isLmEvalResultsFile(name), false, name);
  }
});

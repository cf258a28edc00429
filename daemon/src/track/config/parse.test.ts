import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ErrorCode } from '../../protocol/errors.ts';
import { configContentHash, stableStringify } from './flatten.ts';
import { ConfigInvalidError, parseTrainingConfig } from './parse.ts';
import type { TrainingConfig } from './types.ts';
import { realFixture } from '../../../../test/support/fixtures.ts';

/** A file under test/fixtures/real. */
function fixturePath(...parts: string[]): string {
  return realFixture(...parts);
}

function parseFixture(...parts: string[]): TrainingConfig {
  const file = fixturePath(...parts);
  return parseTrainingConfig(readFileSync(file, 'utf8'), path.basename(file));
}

void test('axolotl fft-8b: learning_rate 2e-5 is a number (YAML 1.2), base model, dataset and output', () => {
  const config = parseFixture('axolotl', 'llama-3_fft-8b.yaml');
  assert.equal(config.format, 'yaml');
  assert.equal(config.flavor, 'axolotl');
  assert.equal(config.params.learning_rate, 2e-5);
  assert.equal(typeof config.params.learning_rate, 'number');
  assert.equal(config.params['special_tokens.pad_token'], '<|end_of_text|>');
  assert.equal(config.params['gradient_checkpointing_kwargs.use_reentrant'], false);
  assert.equal(config.params.dataset_prepared_path, 'last_run_prepared');
  assert.equal(config.params.bf16, 'auto');
  assert.equal(config.params.wandb_project, null);
  assert.deepEqual(config.refs, {
    baseModels: [{ role: 'base', ref: 'NousResearch/Meta-Llama-3.1-8B' }],
    datasets: [{ path: 'tatsu-lab/alpaca', role: 'train' }],
    outputDir: './outputs/out',
  });
  assert.deepEqual(config.issues, []);
});

void test('axolotl lora-1b: relative output_dir, and empty keys parse as null and give no refs', () => {
  const config = parseFixture('axolotl', 'llama-3_lora-1b.yml');
  assert.equal(config.flavor, 'axolotl');
  assert.equal(config.refs.outputDir, './outputs/lora-out');
  assert.equal(config.params.adapter, 'lora');
  assert.equal(config.params.lora_model_dir, null);
  assert.equal(config.params.resume_from_checkpoint, null);
  assert.equal(config.params.wandb_log_model, null);
  assert.equal(config.params['lora_target_modules.6'], 'o_proj');
  assert.equal(config.params.learning_rate, 0.0002);
  assert.equal(config.params.loss_watchdog_threshold, 5);
  // hub_model_id is only in a comment.
  assert.equal('hub_model_id' in config.params, false);
  assert.deepEqual(config.refs.baseModels, [{ role: 'base', ref: 'NousResearch/Llama-3.2-1B' }]);
  assert.deepEqual(config.refs.datasets, [{ path: 'teknium/GPT4-LLM-Cleaned', role: 'train' }]);
  assert.equal(config.refs.resumeFrom, undefined);
});

void test('axolotl instruct-dpo-lora-8b: nested dataset keys flatten with list indexes', () => {
  const config = parseFixture('axolotl', 'llama-3_instruct-dpo-lora-8b.yml');
  assert.equal(config.flavor, 'axolotl');
  assert.equal(config.params.rl, 'dpo');
  assert.equal(config.params['datasets.0.type'], 'chat_template.default');
  assert.equal(config.params['datasets.0.roles.assistant.0'], 'assistant');
  assert.equal(config.params['datasets.0.message_property_mappings.content'], 'content');
  assert.equal(config.params.load_in_8bit, true);
  assert.equal(config.params.dataset_prepared_path, null);
  assert.equal(config.params.model_type, 'LlamaForCausalLM');
  assert.deepEqual(config.refs.baseModels, [{ role: 'base', ref: 'meta-llama/Meta-Llama-3-8B-Instruct' }]);
  assert.deepEqual(config.refs.datasets, [{ path: 'fozziethebeat/alpaca_messages_2k_dpo_test', role: 'train' }]);
  assert.equal(config.refs.outputDir, './outputs/lora-out');
});

void test('torchtune lora: output_dir with trailing comment, ${output_dir}/logs resolved, base = checkpoint_dir + files', () => {
  const config = parseFixture('torchtune', 'llama3_2_1B_lora_single_device.yaml');
  const outputDir = '/tmp/torchtune/llama3_2_1B/lora_single_device';
  assert.equal(config.flavor, 'torchtune');
  assert.equal(config.refs.outputDir, outputDir);
  assert.equal(config.params['metric_logger.log_dir'], `${outputDir}/logs`);
  assert.equal(config.params['checkpointer.output_dir'], outputDir);
  assert.equal(config.params['profiler.output_dir'], `${outputDir}/profiling_outputs`);
  assert.equal(config.params['optimizer.lr'], 3e-4);
  assert.equal(config.params.seed, null);
  assert.equal(config.params.shuffle, true);
  assert.equal(config.params['dataset.packed'], false);
  assert.equal(config.params['model.lora_attn_modules.2'], 'output_proj');
  // model._component_ is the architecture builder, not a base model.
  assert.equal(config.params['model._component_'], 'torchtune.models.llama3_2.lora_llama3_2_1b');
  assert.deepEqual(config.refs.baseModels, [{ role: 'base', ref: '/tmp/Llama-3.2-1B-Instruct/', files: ['model.safetensors'] }]);
  assert.deepEqual(config.refs.datasets, [{ path: 'yahma/alpaca-cleaned', role: 'train' }]);
  assert.equal(config.refs.resumeFrom, undefined);
  assert.deepEqual(config.issues, []);
  const data = config.data as { metric_logger: { log_dir: string } };
  assert.equal(data.metric_logger.log_dir, `${outputDir}/logs`);
});

void test('torchtune 1B_full: ${batch_size} keeps its number type, train and val splits', () => {
  const config = parseFixture('torchtune', 'llama3_2_1B_full.yaml');
  assert.equal(config.params.batch_size_val, 4);
  assert.equal(config.params['optimizer.lr'], 2e-5);
  assert.equal(config.params.run_val_every_n_steps, null);
  assert.equal(config.params.resume_from_checkpoint, false);
  assert.equal(config.params['metric_logger.log_dir'], '/tmp/torchtune/llama3_2_1B/full/logs');
  assert.deepEqual(config.refs.datasets, [
    { path: 'yahma/alpaca-cleaned', role: 'train', split: 'train[:95%]' },
    { path: 'yahma/alpaca-cleaned', role: 'val', split: 'train[95%:]' },
  ]);
  assert.equal(config.refs.outputDir, '/tmp/torchtune/llama3_2_1B/full');
});

void test('torchtune KD: two base models, the teacher sharded into 4 files', () => {
  const config = parseFixture('torchtune', 'llama3_2_8B_to_1B_KD_lora_single_device.yaml');
  assert.equal(config.refs.baseModels.length, 2);
  assert.deepEqual(config.refs.baseModels[0], { role: 'base', ref: '/tmp/Llama-3.2-1B-Instruct/', files: ['model.safetensors'] });
  const teacher = config.refs.baseModels[1];
  assert.equal(teacher?.role, 'teacher');
  assert.equal(teacher?.ref, '/tmp/Meta-Llama-3.1-8B-Instruct/');
  assert.deepEqual(teacher?.files, [
    'model-00001-of-00004.safetensors',
    'model-00002-of-00004.safetensors',
    'model-00003-of-00004.safetensors',
    'model-00004-of-00004.safetensors',
  ]);
  assert.equal(config.params['teacher_model._component_'], 'torchtune.models.llama3_1.llama3_1_8b');
  assert.equal(config.params.kd_ratio, 0.5);
  assert.equal(config.params['teacher_checkpointer.output_dir'], '/tmp/torchtune/llama3_2_8B_to_1B/KD_lora_single_device');
});

void test('malformed YAML: E_CONFIG_INVALID with file, 1-based line and column, and the reason', () => {
  const text = readFileSync(fixturePath('axolotl', 'llama-3_lora-1b.yml'), 'utf8').replace('    type: alpaca', '   type: alpaca');
  const badLine = text.split('\n').indexOf('   type: alpaca') + 1;
  assert.equal(badLine, 7);
  assert.throws(
    () => parseTrainingConfig(text, 'lora-1b.yml'),
    (error: unknown) => {
      assert.ok(error instanceof ConfigInvalidError);
      assert.equal(error.code, ErrorCode.ConfigInvalid);
      assert.equal(error.file, 'lora-1b.yml');
      assert.equal(error.line, badLine);
      assert.equal(error.column, 1);
      assert.match(error.reason, /Sequence item without - indicator/);
      assert.match(error.message, /^lora-1b\.yml:7:1: /);
      assert.deepEqual(error.data, { file: 'lora-1b.yml', line: 7, column: 1, reason: error.reason });
      return true;
    },
  );
  assert.throws(() => parseTrainingConfig('a: 1\n\tb: 2\n', 'x.yaml'), { code: 'E_CONFIG_INVALID', line: 2, column: 1 });
});

void test('malformed JSON: a trailing comma is found at its line and column', () => {
  const text = '{\n  "output_dir": "out",\n  "learning_rate": 1e-4,\n}\n';
  assert.throws(() => parseTrainingConfig(text, 'args.json'), (error: unknown) => {
    assert.ok(error instanceof ConfigInvalidError);
    assert.equal(error.line, 4);
    assert.equal(error.column, 1);
    assert.match(error.reason, /expected a double-quoted property name/);
    return true;
  });
  assert.throws(() => parseTrainingConfig('{"a": }', 'a.json'), { line: 1, column: 7 });
});

void test('HF TrainingArguments JSON: model, files, resume checkpoint and output', () => {
  const text = JSON.stringify({
    model_name_or_path: 'gpt2',
    train_file: 'data/train.jsonl',
    validation_file: 'data/val.jsonl',
    output_dir: 'out/gpt2-sft',
    resume_from_checkpoint: 'out/gpt2-sft/checkpoint-200',
    learning_rate: 5e-5,
    per_device_train_batch_size: 8,
  });
  const config = parseTrainingConfig(text, 'train_args.json');
  assert.equal(config.format, 'json');
  assert.equal(config.flavor, 'hf');
  assert.equal(config.params.learning_rate, 5e-5);
  assert.deepEqual(config.refs, {
    baseModels: [
      { role: 'base', ref: 'gpt2' },
      { role: 'resume', ref: 'out/gpt2-sft/checkpoint-200' },
    ],
    datasets: [
      { path: 'data/train.jsonl', role: 'train' },
      { path: 'data/val.jsonl', role: 'val' },
    ],
    outputDir: 'out/gpt2-sft',
    resumeFrom: 'out/gpt2-sft/checkpoint-200',
  });
});

void test('axolotl local json dataset gives its data_files; output_dir defaults to ./model-out', () => {
  const yaml = 'base_model: gpt2\ndatasets:\n  - path: json\n    data_files: [data/a.jsonl, data/b.jsonl]\n    type: alpaca\nlora_model_dir: adapters/v1\nadapter: lora\n';
  const config = parseTrainingConfig(yaml, 'a.yml');
  assert.deepEqual(config.refs.datasets, [
    { path: 'data/a.jsonl', role: 'train' },
    { path: 'data/b.jsonl', role: 'train' },
  ]);
  assert.deepEqual(config.refs.baseModels, [
    { role: 'base', ref: 'gpt2' },
    { role: 'adapter', ref: 'adapters/v1' },
  ]);
  assert.equal(config.refs.outputDir, './model-out');
});

void test('torchtune compact checkpoint_files form expands to every shard', () => {
  const yaml = 'output_dir: /o\ncheckpointer:\n  _component_: x\n  checkpoint_dir: /m\n  checkpoint_files:\n    filename_format: model-{}-of-{}.safetensors\n    max_filename: "00003"\n';
  const config = parseTrainingConfig(yaml, 'c.yaml');
  assert.deepEqual(config.refs.baseModels[0]?.files, ['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors']);
});

void test('a duplicate key is an issue with its line; the last value wins, as in PyYAML', () => {
  const config = parseTrainingConfig('base_model: a\nlearning_rate: 1\nlearning_rate: 2\n', 'd.yml');
  assert.equal(config.params.learning_rate, 2);
  assert.deepEqual(config.issues, [{ message: '"learning_rate" is set twice; the last value is used', path: 'learning_rate', line: 3, column: 1 }]);
});

void test('an empty file is an issue, not a crash', () => {
  const config = parseTrainingConfig('# nothing yet\n', 'e.yaml');
  assert.equal(config.data, null);
  assert.deepEqual(config.params, {});
  assert.equal(config.issues[0]?.message, 'the config is empty');
});

void test('equal configs hash equal whatever their key order; interpolation is resolved first', () => {
  const a = parseTrainingConfig('out: /x\nlog: ${out}/logs\nopt: {lr: 1e-4, fused: true}\n', 'a.yaml');
  const b = parseTrainingConfig('opt:\n  fused: true\n  lr: 0.0001\nlog: /x/logs\nout: /x\n', 'b.yaml');
  assert.equal(stableStringify(a.data), '{"log":"/x/logs","opt":{"fused":true,"lr":0.0001},"out":"/x"}');
  assert.equal(configContentHash(a.data), configContentHash(b.data));
  assert.match(configContentHash(a.data), /^sha256:[0-9a-f]{64}$/);
  const c = parseTrainingConfig('out: /y\nlog: ${out}/logs\nopt: {lr: 1e-4, fused: true}\n', 'c.yaml');
  assert.notEqual(configContentHash(a.data), configContentHash(c.data));
  assert.equal(stableStringify({ x: Number.NaN, y: null }), '{"x":NaN,"y":null}');
});

void test('an unquoted value starting with * is an alias error at its position, not a crash', () => {
  assert.throws(() => parseTrainingConfig('base_model: m\nlora_target_modules:\n  - *_proj\n', 'a.yml'), (error: unknown) => {
    assert.ok(error instanceof ConfigInvalidError);
    assert.equal(error.line, 3);
    assert.equal(error.column, 5);
    assert.match(error.reason, /"\*_proj" is read as an alias .* quote values that start with \*/);
    return true;
  });
});

void test('torchtune local data: source json + data_files give the files; a list of datasets gives each', () => {
  const yaml = [
    'output_dir: /o',
    'checkpointer: {_component_: c, checkpoint_dir: /m, checkpoint_files: [a.safetensors]}',
    'dataset:',
    '  - _component_: torchtune.datasets.instruct_dataset',
    '    source: json',
    '    data_files: data/train.jsonl',
    '    split: train',
    '  - _component_: torchtune.datasets.chat_dataset',
    '    source: my-org/chats',
    'dataset_val:',
    '  _component_: torchtune.datasets.instruct_dataset',
    '  source: csv',
    '  data_files: {validation: data/val.csv}',
  ].join('\n');
  const config = parseTrainingConfig(yaml, 'local.yaml');
  assert.deepEqual(config.refs.datasets, [
    { path: 'data/train.jsonl', role: 'train', split: 'train' },
    { path: 'my-org/chats', role: 'train' },
    { path: 'data/val.csv', role: 'val' },
  ]);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { findPlaceholders } from './command-template.ts';
import { formatDiagnostic, parseProjectFile } from './keel-yaml.ts';
import { projectFileTemplate } from './template.ts';

const FULL = `name: llama-sft
datasets:
  - data/*.jsonl
  - data/images/
configs: [configs/*.yaml]
outputs:
  - outputs/*
evals:
  - "evals/**/results_*.json"
ignore:
  - "**/.cache/**"
train:
  setup: source .venv/bin/activate
  command: tune run lora_finetune_single_device --config {config} output_dir={output_dir}
  env:
    WANDB_MODE: offline
    OMP_NUM_THREADS: 4
    LR_SCALE: 0.10
eval:
  command: lm_eval --model hf --model_args pretrained={checkpoint} --output_path {output_dir}/{run}
`;

void test('a full keel.yaml parses into a typed project', () => {
  const result = parseProjectFile(FULL, 'keel.yaml');
  assert.deepEqual(result.errors, []);
  assert.deepEqual(result.warnings, []);
  assert.deepEqual(result.project, {
    name: 'llama-sft',
    datasets: ['data/*.jsonl', 'data/images/'],
    configs: ['configs/*.yaml'],
    outputs: ['outputs/*'],
    evals: ['evals/**/results_*.json'],
    ignore: ['**/.cache/**'],
    train: {
      setup: 'source .venv/bin/activate',
      command: 'tune run lora_finetune_single_device --config {config} output_dir={output_dir}',
      // Env values are kept as written: 0.10 stays "0.10".
      env: { WANDB_MODE: 'offline', OMP_NUM_THREADS: '4', LR_SCALE: '0.10' },
    },
    eval: { command: 'lm_eval --model hf --model_args pretrained={checkpoint} --output_path {output_dir}/{run}' },
  });
});

void test('defaults: lists default to [], train/eval are absent', () => {
  const result = parseProjectFile('name: tiny\ndatasets:\n', 'keel.yaml');
  assert.deepEqual(result.errors, []);
  assert.deepEqual(result.project, { name: 'tiny', datasets: [], configs: [], outputs: [], evals: [], ignore: [] });
});

void test('unknown keys warn with a suggestion, at their line and column', () => {
  const result = parseProjectFile('name: x\ndataset:\n  - d/*\ntrain:\n  comand: python t.py\n  command: python t.py\n', 'keel.yaml');
  assert.deepEqual(result.errors, []);
  assert.deepEqual(
    result.warnings.map((w) => [w.path, w.line, w.column, w.message]),
    [
      ['dataset', 2, 1, 'unknown key "dataset" (did you mean "datasets"?); Keel ignores it'],
      ['train.comand', 5, 3, 'unknown key "comand" in train (did you mean "command"?); Keel ignores it'],
    ],
  );
});

void test('wrong types fail naming the key path', () => {
  const text = 'name: 2024\ndatasets: data/*.jsonl\nconfigs:\n  - 7\ntrain: python train.py\neval:\n  command: [lm_eval]\n  env:\n    1BAD: x\n    EMPTY:\n';
  const { errors } = parseProjectFile(text, 'keel.yaml');
  assert.deepEqual(
    errors.map((e) => [e.path, e.line, e.column]),
    [
      ['name', 1, 7],
      ['datasets', 2, 11],
      ['configs[0]', 4, 5],
      ['train', 5, 8],
      ['eval.command', 7, 12],
      ['eval.env.1BAD', 9, 5],
      ['eval.env.EMPTY', 10, 5],
    ],
  );
  assert.match(errors[0]?.message ?? '', /name must be text/);
  assert.match(errors[1]?.message ?? '', /datasets must be a list of globs: write it as "datasets:" followed by a line " {2}- data\/\*\.jsonl"/);
  assert.match(errors[3]?.message ?? '', /train must be a mapping: write "train:" and then " {2}command: python train.py"/);
});

void test('a missing name and a missing command are errors', () => {
  const { errors, project } = parseProjectFile('datasets: [a]\ntrain:\n  setup: pip install x\n', 'keel.yaml');
  assert.deepEqual(errors.map((e) => [e.path, e.line, e.column, e.message]), [
    ['train.command', 3, 3, 'train.command is required'],
    ['name', 1, 1, 'name is required (e.g. "name: my-project")'],
  ]);
  assert.deepEqual(project.datasets, ['a']);
  assert.equal(project.train, undefined);
});

void test('an unknown placeholder is an error naming it, at its own column; ${VAR} and awk braces are fine', () => {
  const text = 'name: p\ntrain:\n  command: python t.py --cfg {config} --out {ouput_dir} --home ${HOME} | awk \'{print $1}\'\n';
  const { errors } = parseProjectFile(text, 'keel.yaml');
  assert.equal(errors.length, 1);
  const error = errors[0];
  assert.equal(error?.path, 'train.command');
  assert.equal(error?.line, 3);
  assert.equal(error?.column, 45);
  assert.match(error?.message ?? '', /^unknown placeholder \{ouput_dir\} in train\.command \(did you mean "\{output_dir\}"\?\); allowed: \{config\}, \{output_dir\}, \{run\}, \{checkpoint\}/);
  assert.equal(formatDiagnostic(error ?? assert.fail()), `keel.yaml:3:45: ${error?.message}`);
  assert.deepEqual(findPlaceholders('a {config} ${HOME} {x} {a,b}').map((p) => p.name), ['config', 'x']);
});

void test('placeholders in a block scalar are found on their own line', () => {
  const text = 'name: p\ntrain:\n  command: |\n    python t.py \\\n      --run {runn}\n';
  const { errors } = parseProjectFile(text, 'keel.yaml');
  assert.deepEqual(errors.map((e) => [e.path, e.line, e.column]), [['train.command', 5, 13]]);
});

void test('YAML syntax errors carry line and column; an unquoted *glob says to quote it', () => {
  const syntax = parseProjectFile('name: p\ndatasets:\n  - a\n  b: c\n', 'keel.yaml');
  assert.deepEqual(syntax.errors.map((e) => [e.path, e.line, e.column, e.message]), [['datasets', 4, 1, 'All mapping items must start at the same column']]);
  const alias = parseProjectFile('name: p\nignore:\n  - **/.cache/**\n', 'keel.yaml');
  assert.deepEqual(alias.errors.map((e) => [e.path, e.line, e.column]), [['ignore[0]', 3, 5]]);
  assert.match(alias.errors[0]?.message ?? '', /quote globs that start with \*/);
  const duplicate = parseProjectFile('name: a\nname: b\n', 'keel.yaml');
  assert.deepEqual(duplicate.errors.map((e) => [e.line, e.column, e.message]), [[2, 1, 'Map keys must be unique']]);
});

void test('an empty file or a non-mapping is an error, not a crash', () => {
  assert.deepEqual(parseProjectFile('', 'keel.yaml').errors.map((e) => e.path), ['name']);
  assert.deepEqual(parseProjectFile('- a\n- b\n', 'keel.yaml').errors.map((e) => [e.path, e.line]), [['', 1]]);
});

void test('the init template parses back cleanly and keeps awkward names intact', () => {
  for (const name of ['my-project', '2024', 'a: b #1', "it's"]) {
    const text = projectFileTemplate(name);
    const result = parseProjectFile(text, 'keel.yaml');
    assert.deepEqual(result.errors, [], name);
    assert.deepEqual(result.warnings, [], name);
    assert.equal(result.project.name, name);
  }
  const { project } = parseProjectFile(projectFileTemplate('demo'), 'keel.yaml');
  assert.deepEqual(project, {
    name: 'demo',
    datasets: ['data/*.jsonl'],
    configs: ['configs/*.yaml', 'configs/*.yml'],
    outputs: ['outputs/*'],
    evals: ['evals/**/results_*.json'],
    ignore: ['**/.cache/**', '**/wandb/**'],
  });
  // Every commented example line, uncommented, is a valid project too.
  const uncommented = projectFileTemplate('demo')
    .split('\n')
    .filter((line) => /^# (train|eval):|^# {3}(setup|command|env|  WANDB)/.test(line))
    .map((line) => line.slice(2))
    .join('\n');
  const examples = parse(uncommented) as Record<string, unknown>;
  assert.deepEqual(Object.keys(examples), ['train', 'eval']);
  const withJobs = parseProjectFile(`name: demo\n${uncommented}\n`, 'keel.yaml');
  assert.deepEqual(withJobs.errors, []);
  assert.equal(withJobs.project.train?.command, 'axolotl train {config}');
  assert.deepEqual(withJobs.project.train?.env, { WANDB_MODE: 'offline' });
});

void test('a glob Keel cannot use is an error at its own line and column; the valid globs are kept', () => {
  const bomb = `data/${'{a,b}'.repeat(20)}`;
  const text = `name: p\ndatasets:\n  - data/*.jsonl\n  - data/{a,b\nconfigs:\n  - "${bomb}"\n  - configs/*.yaml\n`;
  const { errors, project } = parseProjectFile(text, 'keel.yaml');
  assert.deepEqual(errors.map((e) => [e.path, e.line, e.column]), [['datasets[1]', 4, 5], ['configs[0]', 6, 5]]);
  assert.match(errors[0]?.message ?? '', /^datasets\[1\] "data\/\{a,b" has a "\{" that is never closed \(character 6\); write \{a,b\} or escape it as \\\{$/);
  assert.match(errors[1]?.message ?? '', /expands to more than 256 patterns/);
  assert.deepEqual(project.datasets, ['data/*.jsonl']);
  assert.deepEqual(project.configs, ['configs/*.yaml']);
});

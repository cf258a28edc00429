import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { pathTokenAt } from './path-token.ts';
import { realFixture } from '../../../test/support/fixtures.ts';

const fixturePath = (...parts: string[]): string => realFixture(...parts);
/** Line `n` (1-based) of a real fixture file. */
const lineOf = (file: string, n: number): string => readFileSync(file, 'utf8').split('\n')[n - 1] ?? '';
/** The token with the cursor on the first character of `needle` in `line`. */
const at = (line: string, needle: string, offset = 0): ReturnType<typeof pathTokenAt> => {
  const i = line.indexOf(needle);
  assert.ok(i >= 0, `"${needle}" is in "${line}"`);
  return pathTokenAt(line, i + offset);
};

describe('pathTokenAt: paths in real config files', () => {
  const torchtune = fixturePath('torchtune', 'llama3_2_1B_lora_single_device.yaml');
  const axolotl = fixturePath('axolotl', 'llama-3_lora-1b.yml');

  it('finds an absolute path before a trailing YAML comment (torchtune output_dir, line 18)', () => {
    const line = lineOf(torchtune, 18);
    assert.equal(line.startsWith('output_dir: /tmp/torchtune/llama3_2_1B/lora_single_device # /tmp may'), true);
    assert.deepEqual(at(line, 'llama3_2_1B', 3), { text: '/tmp/torchtune/llama3_2_1B/lora_single_device', start: 12, end: 57, kind: 'path' });
  });

  it('keeps a trailing slash and finds a relative ./ path (torchtune line 37, axolotl line 10)', () => {
    assert.equal(at(lineOf(torchtune, 37), '/tmp/')?.text, '/tmp/Llama-3.2-1B-Instruct/');
    assert.deepEqual(at(lineOf(axolotl, 10), 'lora-out'), { text: './outputs/lora-out', start: 12, end: 30, kind: 'path' });
  });

  it('gives nothing for an interpolation or a placeholder (torchtune lines 78 and 14)', () => {
    assert.equal(at(lineOf(torchtune, 78), 'logs'), undefined);
    assert.equal(at(lineOf(torchtune, 14), '<YOUR_CHECKPOINT_DIR>', 3), undefined);
  });

  it('finds a path in a quoted JSON value (lm-eval pretrained=)', () => {
    const file = fixturePath('lm_eval', 'finetuned-local-path-vllm-empty-model-name_nl2foam', 'results_2025-12-17T20-28-43.535870.json');
    const line = lineOf(file, 57);
    assert.deepEqual(at(line, 'nl2foam_sft_0/outputs'), {
      text: '/scratch/hieu/nl2foam_sft_0/outputs/nl2foam_sft_0__8__1765350318', start: line.indexOf('/scratch'), end: line.indexOf('/scratch') + 64, kind: 'path',
    });
  });
});

describe('pathTokenAt: the shapes a person writes', () => {
  it('reads a quoted path with spaces as one token, quotes excluded', () => {
    const line = `model = load("runs/my run/checkpoint-500")`;
    assert.deepEqual(at(line, 'my run'), { text: 'runs/my run/checkpoint-500', start: 14, end: 40, kind: 'path' });
  });

  it('reads host:/path and host:~/path as remote', () => {
    assert.deepEqual(at('rsync gpu-box:/data/ckpt/checkpoint-50 .', 'ckpt'), { text: 'gpu-box:/data/ckpt/checkpoint-50', start: 6, end: 38, kind: 'remote' });
    assert.equal(at("dest: 'a100.lab:~/keel/out'", 'keel')?.kind, 'remote');
  });

  it('reads a run id anywhere, even inside other text', () => {
    assert.deepEqual(at('see run_b3r6s9brn9yw.', 'b3r6'), { text: 'run_b3r6s9brn9yw', start: 4, end: 20, kind: 'id' });
    assert.equal(at('keel compare run_b3r6s9brn9yw run_fvrdxfhdv3ca', 'run_fv')?.text, 'run_fvrdxfhdv3ca');
  });

  it('strips --flag= prefixes and sentence punctuation', () => {
    assert.equal(at('python3 train.py --config=configs/baseline.yaml', 'baseline')?.text, 'configs/baseline.yaml');
    assert.equal(at('Then open outputs/baseline/checkpoint-250.', 'checkpoint')?.text, 'outputs/baseline/checkpoint-250');
    assert.equal(at('(see data/train.jsonl)', 'train')?.text, 'data/train.jsonl');
  });

  it('accepts a bare file name only when it has an extension', () => {
    assert.deepEqual(at('train_file: train.jsonl', 'train.'), { text: 'train.jsonl', start: 12, end: 23, kind: 'path' });
    assert.equal(at('model: tinyllama', 'tiny'), undefined);
  });

  it('answers at the token end too (the cursor just after the last character)', () => {
    const line = 'x = "data/eval.jsonl"';
    assert.equal(pathTokenAt(line, line.length - 1)?.text, 'data/eval.jsonl');
  });
});

describe('pathTokenAt: text that only looks like a path gives nothing', () => {
  const none = (line: string, needle: string): void => assert.equal(at(line, needle), undefined, line);
  it('URLs, globs, comments and arithmetic', () => {
    none('see https://huggingface.co/datasets/tatsu-lab/alpaca', 'datasets');
    none('datasets:\n  - data/*.jsonl', 'data');
    none('// outputs/ is ignored', '//');
    none('ratio = 1/2', '1/2');
    none('steps 100/250', '100');
  });
  it('prose with slashes, version numbers, python attributes and YAML keys', () => {
    none('use and/or here', 'and');
    none('version 1.2.3', '1.2');
    none('self.model.train()', 'model');
    none('learning_rate: 0.05', 'learning');
    none('key:value', 'key');
  });
  it('whitespace and out-of-range columns', () => {
    assert.equal(pathTokenAt('a   b', 2), undefined);
    assert.equal(pathTokenAt('data/x.jsonl', 99), undefined);
    assert.equal(pathTokenAt('', 0), undefined);
  });
  it('does not read a whole file of one line', () => {
    assert.equal(pathTokenAt(`data/${'x'.repeat(30_000)}.jsonl`, 3), undefined);
  });
});

describe('pathTokenAt is cheap', () => {
  it('handles a 2,000-character line 10,000 times in well under a second', () => {
    const line = `${'word '.repeat(300)}"outputs/run a/checkpoint-10" ${'x/y '.repeat(100)}`;
    const col = line.indexOf('checkpoint');
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) pathTokenAt(line, col);
    const ms = performance.now() - t0;
    assert.equal(pathTokenAt(line, col)?.text, 'outputs/run a/checkpoint-10');
    assert.ok(ms < 2_000, `${ms} ms`);
  });
});

/**
 * Config flavour by distinctive keys, on real configs: Axolotl and torchtune files from their
 * repositories, and the plain HF Trainer and TRL configs the real-tools suite trains with. A
 * plain Trainer YAML was labelled "axolotl config" (it has `base_model`).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { flavorLabel } from './flavor.ts';
import { parseTrainingConfig } from './parse.ts';
import { realFixture } from '../../../../test/support/fixtures.ts';

const REAL_TOOLS_CONFIGS = resolve(import.meta.dirname, '..', '..', '..', '..', 'test', 'real-tools', 'project', 'configs');

function flavorOf(file: string): [string, string] {
  const config = parseTrainingConfig(readFileSync(file, 'utf8'), basename(file));
  return [config.flavor, flavorLabel(config.flavor, config.format)];
}

describe('config flavour', () => {
  it('a plain HF Trainer YAML (base_model, train_file, TrainingArguments keys) is an HF TrainingArguments config, not Axolotl', () => {
    assert.deepEqual(flavorOf(join(REAL_TOOLS_CONFIGS, 'lora.yaml')), ['hf', 'HF TrainingArguments config']);
  });

  it('a TRL SFTConfig YAML is a TRL config', () => {
    assert.deepEqual(flavorOf(join(REAL_TOOLS_CONFIGS, 'sft.yaml')), ['trl', 'TRL config']);
  });

  it('Axolotl and torchtune configs keep their flavour', () => {
    for (const f of ['llama-3_fft-8b.yaml', 'llama-3_lora-1b.yml', 'llama-3_instruct-dpo-lora-8b.yml']) assert.equal(flavorOf(realFixture('axolotl', f))[0], 'axolotl', f);
    assert.equal(flavorOf(realFixture('torchtune', 'llama3_2_1B_lora_single_device.yaml'))[0], 'torchtune');
  });

  it('a config with no tool\'s distinctive keys is a plain YAML/JSON config: no guess presented as fact', () => {
    const plain = parseTrainingConfig('base_model: m\nlr: 0.1\nsteps: 10\n', 'x.yaml');
    assert.deepEqual([plain.flavor, flavorLabel(plain.flavor, plain.format)], ['unknown', 'YAML config']);
    const json = parseTrainingConfig('{"learning_rate": 0.1, "seed": 1}', 'x.json');
    assert.equal(flavorLabel(json.flavor, json.format), 'JSON config');
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { applyOverrides, ConfigOverrideError, renderConfig } from './overrides.ts';
import { parseTrainingConfig } from './parse.ts';
import { realFixture } from '../../../../test/support/fixtures.ts';

function fixturePath(...parts: string[]): string {
  return realFixture(...parts);
}

const fft = parseTrainingConfig(readFileSync(fixturePath('axolotl', 'llama-3_fft-8b.yaml'), 'utf8'), 'llama-3_fft-8b.yaml');
const lora = readFileSync(fixturePath('torchtune', 'llama3_2_1B_lora_single_device.yaml'), 'utf8');

void test('values are read as YAML scalars: 1e-4 is a number, true a boolean, [..] a list', () => {
  const data = applyOverrides(fft.data, ['learning_rate=1e-4', 'sample_packing=false', 'special_tokens.pad_token=<|pad|>', 'datasets.0.path=org/other', 'wandb_project=my-proj']) as Record<string, unknown>;
  assert.equal(data.learning_rate, 1e-4);
  assert.equal(data.sample_packing, false);
  assert.deepEqual(data.special_tokens, { pad_token: '<|pad|>' });
  assert.deepEqual(data.datasets, [{ path: 'org/other', type: 'alpaca' }]);
  assert.equal(data.wandb_project, 'my-proj');
  // The input is not changed.
  assert.equal((fft.data as Record<string, unknown>).learning_rate, 2e-5);
  const more = applyOverrides({ a: 1, b: 'x' }, ['a=[1, 2]', 'b=#not-a-comment']) as Record<string, unknown>;
  assert.deepEqual(more, { a: [1, 2], b: '#not-a-comment' });
});

void test('an unknown key is rejected with close matches listed', () => {
  assert.throws(
    () => applyOverrides(fft.data, ['learning_rat=1e-4', 'num_epoch=3']),
    (error: unknown) => {
      assert.ok(error instanceof ConfigOverrideError);
      assert.equal(error.code, 'E_CONFIG_INVALID');
      assert.equal(error.problems.length, 2);
      assert.equal(error.problems[0]?.suggestions[0], 'learning_rate');
      assert.equal(error.problems[1]?.suggestions[0], 'num_epochs');
      assert.match(error.message, /unknown config key "learning_rat" in "learning_rat=1e-4"; close matches: learning_rate/);
      return true;
    },
  );
  const tune = parseTrainingConfig(lora, 'lora.yaml');
  assert.throws(() => applyOverrides(tune.data, ['lr=1e-5']), (error: unknown) => {
    assert.ok(error instanceof ConfigOverrideError);
    assert.deepEqual(error.problems[0]?.suggestions, ['optimizer.lr']);
    return true;
  });
});

void test('knownKeys and +key add keys the file leaves out; ~key removes one', () => {
  const known = applyOverrides(fft.data, ['seed=42'], ['seed']) as Record<string, unknown>;
  assert.equal(known.seed, 42);
  const added = applyOverrides(fft.data, ['+hub.model_id=me/model', '~wandb_entity']) as Record<string, unknown>;
  assert.deepEqual(added.hub, { model_id: 'me/model' });
  assert.equal('wandb_entity' in added, false);
});

void test('overrides given to parseTrainingConfig apply before interpolation (torchtune output_dir moves log_dir)', () => {
  const config = parseTrainingConfig(lora, 'lora.yaml', { overrides: ['output_dir=/runs/r1', 'optimizer.lr=1e-5'] });
  assert.equal(config.refs.outputDir, '/runs/r1');
  assert.equal(config.params['metric_logger.log_dir'], '/runs/r1/logs');
  assert.equal(config.params['checkpointer.output_dir'], '/runs/r1');
  assert.equal(config.params['optimizer.lr'], 1e-5);
});

void test('renderConfig writes the effective config back; it reads back equal', () => {
  const data = applyOverrides(fft.data, ['learning_rate=1e-4']);
  const yamlText = renderConfig(data, 'yaml');
  assert.match(yamlText, /^learning_rate: 0\.0001$/m);
  assert.match(yamlText, /^wandb_project: null$/m);
  assert.deepEqual(parse(yamlText), data);
  const again = parseTrainingConfig(yamlText, 'effective.yaml');
  assert.equal(again.params.learning_rate, 1e-4);
  const jsonText = renderConfig(data, 'json');
  assert.deepEqual(JSON.parse(jsonText), data);
  assert.ok(jsonText.endsWith('}\n'));
});

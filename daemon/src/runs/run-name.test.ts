/** Default run names: the config's stem plus what the launch changed, unique by a short counter; and the rules a new name must follow. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { baseRunName, overrideLabel, uniqueRunName } from './run-name.ts';

describe('default run names', () => {
  it('name a launch after its config file and its overrides, with common keys shortened', () => {
    assert.equal(baseRunName('/p/configs/lora-r8.yaml', []), 'lora-r8');
    assert.equal(baseRunName('/p/configs/lora-r8.yaml', ['learning_rate=0.01']), 'lora-r8 · lr=0.01');
    assert.equal(baseRunName('/p/configs/run.json', ['optimizer.lr=1e-4', 'lora_r=16', 'num_train_epochs=2']), 'run · lr=1e-4 · lora_r=16 · epochs=2');
  });

  it('keep names on one line without "/" (a pulled checkpoint goes to a folder named after its run)', () => {
    assert.equal(overrideLabel('model_name_or_path=meta-llama/Llama-3.2-1B'), 'model_name_or_path=Llama-3.2-1B');
    assert.equal(overrideLabel('+datasets.0.path=data/extra.jsonl'), 'path=extra.jsonl');
    assert.equal(overrideLabel('~warmup_steps'), '-warmup_steps');
    assert.doesNotMatch(baseRunName('/p/c.yaml', ['note=a/b\nc']), /[/\n]/);
  });

  it('cap long names, counting the overrides left out', () => {
    const many = Array.from({ length: 12 }, (_, i) => `some_fairly_long_key_${i}=${i}`);
    const name = baseRunName('/p/configs/base.yaml', many);
    assert.ok(name.length <= 80, name);
    assert.match(name, /^base · some_fairly_long_key_0=0 · .* \+\d+$/);
  });

  it('add a counter when the name is taken', () => {
    assert.equal(uniqueRunName('baseline', new Set()), 'baseline');
    assert.equal(uniqueRunName('baseline', new Set(['baseline'])), 'baseline #2');
    assert.equal(uniqueRunName('baseline', new Set(['baseline', 'baseline #2', 'baseline #3'])), 'baseline #4');
  });
});

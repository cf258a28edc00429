/** Default run names: the config's stem plus what the launch changed, unique by a short counter; and the rules a new name must follow. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useTempStore } from '../../../test/support/temp-store.ts';
import { baseRunName, checkedRunName, defaultRunName, overrideLabel, uniqueRunName } from './run-name.ts';

describe('default run names', () => {
  const { store } = useTempStore('keel-names-');
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

  it('read only the names a new one could clash with, and find the same free name as a look at every run', () => {
    const taken = ['baseline', 'baseline #2', 'baseline #10', 'baseline #x', 'baselines', 'baseline#3', 'Baseline #3', 'base', 'lr 50% · a_b', 'lr 50% · a_b #2', 'lr 50% · aXb #3'];
    for (const name of taken) store.runs.create({ projectId: null, source: 'import', name, status: 'succeeded' });
    assert.deepEqual([...store.runs.namesNumberedFrom('baseline')].sort(), ['baseline', 'baseline #10', 'baseline #2', 'baseline #x']);
    assert.deepEqual([...store.runs.namesNumberedFrom('lr 50% · a_b')].sort(), ['lr 50% · a_b', 'lr 50% · a_b #2'], '% and _ in a name are plain characters (a key range, no pattern)');
    for (const [config, overrides] of [['/p/configs/baseline.yaml', []], ['/p/configs/base.yaml', []], ['/p/configs/new.yaml', []]] as const) {
      const everyName = new Set(store.runs.list({ limit: Number.MAX_SAFE_INTEGER }).map((r) => r.name));
      assert.equal(defaultRunName(store, config, overrides), uniqueRunName(baseRunName(config, overrides), everyName));
    }
    assert.equal(defaultRunName(store, '/p/configs/baseline.yaml', []), 'baseline #3');
    const mine = store.runs.list({}).find((r) => r.name === 'baselines');
    assert.ok(mine);
    assert.equal(checkedRunName(store, mine.id, ' baselines '), 'baselines', 'its own name is not a clash');
    assert.throws(() => checkedRunName(store, mine.id, 'baseline #2'), /already named "baseline #2"/);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { realFixture } from '../../../test/support/fixtures.ts';
import { useTempStore } from '../../../test/support/temp-store.ts';

const fixturePath = (...parts: string[]): string => realFixture(...parts);

describe('runs of a config file (the CodeLens count: every version of the file)', () => {
  const { dir, store } = useTempStore('keel-runs-by-config-');

  it('counts runs of an edited config file under both versions, and not runs of another file', () => {
    const lora = join(dir, 'configs', 'lora.yaml');
    const text = readFileSync(fixturePath('torchtune', 'llama3_2_1B_lora_single_device.yaml'), 'utf8');
    assert.match(text, /^output_dir: /m);
    const record = (hash: string, absPath: string, body: string): string =>
      store.configs.record({ hash, format: 'yaml', flavor: 'torchtune', text: body, params: {}, projectId: null, absPath }).config.id;
    const v1 = record('sha256:aaaa', lora, text);
    const v2 = record('sha256:bbbb', lora, text.replace(/^lr: .*$/m, 'lr: 1e-4'));
    const other = record('sha256:cccc', join(dir, 'configs', 'full.yaml'), readFileSync(fixturePath('torchtune', 'llama3_2_1B_full.yaml'), 'utf8'));
    const r1 = store.runs.create({ projectId: null, source: 'launch', name: 'first', configId: v1 });
    const r2 = store.runs.create({ projectId: null, source: 'launch', name: 'second', configId: v2 });
    store.runs.create({ projectId: null, source: 'launch', name: 'full', configId: other });
    store.runs.create({ projectId: null, source: 'import', name: 'no config' });
    // As runs/list reads them (the CodeLens asks it with configPaths).
    assert.deepEqual(store.runs.summaries({ configPaths: [lora] }).runs.map((r) => r.id).sort(), [r1.id, r2.id].sort());
    assert.deepEqual(store.runs.summaries({ configPaths: [join(dir, 'configs', 'nope.yaml')] }).runs, []);
    assert.deepEqual(store.runs.summaries({ configPaths: [] }).runs, []);
  });
});

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { createHashPool, type HashPool } from '../hash/index.ts';
import { trackDataset } from '../datasets/track-dataset.ts';
import { trackConfig } from './track-config.ts';
import { realFixture } from '../../../../test/support/fixtures.ts';
import { useTempStore } from '../../../../test/support/temp-store.ts';

const fixturePath = (...parts: string[]): string =>
  realFixture(...parts);

const AXOLOTL_LORA = fixturePath('axolotl', 'llama-3_lora-1b.yml');
const TORCHTUNE_LORA = fixturePath('torchtune', 'llama3_2_1B_lora_single_device.yaml');
/** configContentHash of the resolved axolotl lora-1b fixture. */
const AXOLOTL_LORA_HASH = 'sha256:5b1b90854cc924dd4ff6292d4a0758c158e9cd3078d0218febf0624914d1be54';

/** The same YAML with top-level keys in reverse order, other quoting/indentation and new comments. */
function reformat(text: string): string {
  const data = parseDocument(text).toJS() as Record<string, unknown>;
  const reversed = Object.fromEntries(Object.entries(data).reverse());
  return `# reformatted by hand\n${stringify(reversed, { indent: 4, defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' })}# the end\n`;
}

describe('trackConfig', () => {
  const { dir, store } = useTempStore('keel-configs-', { closeFirst: () => pool.close() });
  let root: string;
  let pool: HashPool;
  let project: { id: string; root: string };

  before(() => {
    root = join(dir, 'proj');
    mkdirSync(join(root, 'configs'), { recursive: true });
    pool = createHashPool();
    project = { id: store.projects.upsert(root, 'proj', {}, []).project.id, root };
  });

  it('records the axolotl lora-1b config once, with params and an edge to the dataset it reads', async () => {
    // `datasets.load_dataset("teknium/GPT4-LLM-Cleaned")` reads a local folder of that name when
    // one exists, so a project can hold the hub dataset's files at that path.
    const data = join(root, 'teknium', 'GPT4-LLM-Cleaned');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'train.jsonl'), '{"instruction": "Say hi", "input": "", "output": "hi"}\n');
    const tracked = await trackDataset({ store, hasher: pool, hashCache: store.fileHashes }, project, data);
    const configPath = join(root, 'configs', 'lora-1b.yml');
    copyFileSync(AXOLOTL_LORA, configPath);

    const first = await trackConfig({ store }, project, configPath);
    assert.equal(first.created, true);
    assert.equal(first.config.hash, AXOLOTL_LORA_HASH);
    assert.equal(first.config.flavor, 'axolotl');
    assert.equal(first.config.format, 'yaml');
    assert.deepEqual(first.config.paths, [configPath]);
    assert.deepEqual(first.refs.baseModels, [{ role: 'base', ref: 'NousResearch/Llama-3.2-1B' }]);
    assert.equal(first.refs.outputDir, './outputs/lora-out');
    assert.deepEqual(first.issues, []);
    assert.equal(first.linkedDatasets.length, 1);
    assert.equal(first.linkedDatasets[0]?.dataset.path, 'teknium/GPT4-LLM-Cleaned');
    assert.equal(first.linkedDatasets[0]?.version.id, tracked.version?.id);
    assert.deepEqual(store.lineage.incoming({ kind: 'config', id: first.config.id }), [
      { fromKind: 'dataset_version', fromId: tracked.version?.id, toKind: 'config', toId: first.config.id, type: 'references' },
    ]);

    const params = store.configs.params(first.config.id);
    assert.equal(Object.keys(params).length, 44);
    assert.equal(params.learning_rate, 0.0002);
    assert.equal(params.lora_r, 16);
    assert.equal(params['lora_target_modules.6'], 'o_proj');
    assert.equal(params['datasets.0.type'], 'alpaca');
    assert.equal(params.lora_model_dir, null);
    assert.equal(params['special_tokens.pad_token'], '<|end_of_text|>');
    assert.equal(store.configs.content(first.config.id), readFileSync(AXOLOTL_LORA, 'utf8'));
    assert.equal(store.configs.byPath(configPath)?.id, first.config.id);

    const again = await trackConfig({ store }, project, configPath);
    assert.equal(again.created, false);
    assert.equal(again.config.id, first.config.id);
    assert.equal(store.lineage.incoming({ kind: 'config', id: first.config.id }).length, 1);
  });

  it('gives a reformatted or JSON copy the same hash, and a changed learning rate a new one', async () => {
    const original = readFileSync(AXOLOTL_LORA, 'utf8');
    const reformattedPath = join(root, 'configs', 'lora copy "2" $(x) é.yaml');
    writeFileSync(reformattedPath, reformat(original));
    const reformatted = await trackConfig({ store }, project, reformattedPath);
    assert.equal(reformatted.created, false);
    assert.equal(reformatted.config.hash, AXOLOTL_LORA_HASH);
    assert.equal(reformatted.config.paths.length, 2);
    // The stored text stays the first one seen.
    assert.equal(store.configs.content(reformatted.config.id), original);

    const jsonPath = join(root, 'configs', 'lora-1b.json');
    writeFileSync(jsonPath, JSON.stringify(parseDocument(original).toJS(), null, 1));
    const json = await trackConfig({ store }, project, jsonPath);
    assert.equal(json.config.id, reformatted.config.id);

    const configPath = join(root, 'configs', 'lora-1b.yml');
    writeFileSync(configPath, original.replace('learning_rate: 0.0002', 'learning_rate: 0.0001'));
    const changed = await trackConfig({ store }, project, configPath);
    assert.equal(changed.created, true);
    assert.notEqual(changed.config.hash, AXOLOTL_LORA_HASH);
    assert.equal(store.configs.params(changed.config.id).learning_rate, 0.0001);
    assert.equal(store.configs.byPath(configPath)?.id, changed.config.id);
    // Changing the file back makes the old config the one at that path again.
    writeFileSync(configPath, original);
    await trackConfig({ store }, project, configPath);
    assert.equal(store.configs.byPath(configPath)?.hash, AXOLOTL_LORA_HASH);
  });

  it('resolves torchtune interpolations before hashing and returns refs it cannot link', async () => {
    const original = readFileSync(TORCHTUNE_LORA, 'utf8');
    const path = join(root, 'configs', 'tt.yaml');
    writeFileSync(path, original);
    const tt = await trackConfig({ store }, project, path);
    assert.equal(tt.config.flavor, 'torchtune');
    assert.equal(tt.config.hash, 'sha256:a2745cfb225e611201968f4f24ee6f1239c26430b806c3dacf937c228f97e6a5');
    const params = store.configs.params(tt.config.id);
    assert.equal(params['optimizer.lr'], 0.0003);
    assert.equal(params['metric_logger.log_dir'], '/tmp/torchtune/llama3_2_1B/lora_single_device/logs');
    assert.deepEqual(tt.refs.baseModels, [{ role: 'base', ref: '/tmp/Llama-3.2-1B-Instruct/', files: ['model.safetensors'] }]);
    assert.deepEqual(tt.unlinkedDatasets, [{ ref: { path: 'yahma/alpaca-cleaned', role: 'train' } }]);
    assert.deepEqual(tt.linkedDatasets, []);

    const literal = join(root, 'configs', 'tt-literal.yaml');
    writeFileSync(literal, original.replace('log_dir: ${output_dir}/logs', 'log_dir: /tmp/torchtune/llama3_2_1B/lora_single_device/logs'));
    assert.equal((await trackConfig({ store }, project, literal)).config.id, tt.config.id);
  });

  it('resolves a dataset path against the config folder first, then the project root', async () => {
    mkdirSync(join(root, 'configs', 'data'), { recursive: true });
    mkdirSync(join(root, 'data', 'shards'), { recursive: true });
    writeFileSync(join(root, 'configs', 'data', 'chat.jsonl'), '{"messages": []}\n');
    writeFileSync(join(root, 'data', 'chat.jsonl'), '{"messages": [1]}\n');
    writeFileSync(join(root, 'data', 'shards', 'a.jsonl'), '{"text": "a"}\n');
    const deps = { store, hasher: pool, hashCache: store.fileHashes };
    const nearConfig = await trackDataset(deps, project, join(root, 'configs', 'data', 'chat.jsonl'));
    await trackDataset(deps, project, join(root, 'data', 'chat.jsonl'));
    const shards = await trackDataset(deps, project, join(root, 'data', 'shards'));
    const text = readFileSync(AXOLOTL_LORA, 'utf8').replace(
      '  - path: teknium/GPT4-LLM-Cleaned\n    type: alpaca\n',
      '  - path: data/chat.jsonl\n    type: chat_template\n  - path: json\n    data_files: data/shards/*.jsonl\n  - path: missing/local.jsonl\n',
    );
    const path = join(root, 'configs', 'local-data.yml');
    writeFileSync(path, text);
    const tracked = await trackConfig({ store }, project, path);
    assert.deepEqual(tracked.linkedDatasets.map((l) => [l.ref.path, l.version.id]), [
      ['data/chat.jsonl', nearConfig.version?.id],
      ['data/shards/*.jsonl', shards.version?.id],
    ]);
    assert.deepEqual(tracked.unlinkedDatasets, [{ ref: { path: 'missing/local.jsonl', role: 'train' } }]);
    assert.equal(store.lineage.incoming({ kind: 'config', id: tracked.config.id }).length, 2);
  });

  it('refuses malformed YAML with E_CONFIG_INVALID naming the file and line', async () => {
    const path = join(root, 'configs', 'broken.yml');
    writeFileSync(path, 'base_model: x\nlora_target_modules: [q_proj, v_proj\nlearning_rate: 1\n');
    await assert.rejects(trackConfig({ store }, project, path), (err: unknown) => {
      const e = err as { code: string; data: { file: string; line: number } };
      assert.equal(e.code, 'E_CONFIG_INVALID');
      assert.equal(e.data.file, path);
      assert.equal(e.data.line, 3);
      return true;
    });
    assert.equal(store.configs.byPath(path), undefined);
    await assert.rejects(trackConfig({ store }, project, join(root, 'configs', 'none.yml')), { code: 'E_NOT_FOUND' });
  });
});

/**
 * keel.yaml completion and hover: the shipped schema names exactly the keys the daemon's
 * parser knows (so completion never offers a key the daemon warns about), the placeholders
 * are the daemon's, and the cursor's place in the file decides what is offered.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { parseProjectFile } from '../../../daemon/src/track/project/keel-yaml.ts';
import { projectFileTemplate } from '../../../daemon/src/track/project/template.ts';
import { COMMAND_PLACEHOLDERS } from '../../../daemon/src/track/project/command-template.ts';
import { cursorPlace, hoverDoc, keySnippet, missingKeys, PLACEHOLDERS, readSchemaDocs } from './keel-yaml-schema.ts';

const repo = resolve(import.meta.dirname, '..', '..', '..');
const docs = readSchemaDocs(JSON.parse(readFileSync(join(repo, 'media', 'keel.schema.json'), 'utf8')));

describe('keel.yaml schema', () => {
  it('declares every key the daemon reads, and no key it warns about', () => {
    const yaml = ['name: demo', 'datasets: [data/*.jsonl]', 'configs: [configs/*.yaml]', 'outputs: [outputs/*]', "evals: ['outputs/**/results_*.json']", "ignore: ['**/.cache/**']", 'secrets: [private/**]',
      'train:', '  command: python3 train.py --config {config} --output-dir {output_dir}', '  setup: pip install -r requirements.txt', '  env:', '    WANDB_MODE: offline',
      'eval:', '  command: python3 eval.py --checkpoint {checkpoint} --out {output_dir}', ''].join('\n');
    const r = parseProjectFile(yaml, 'keel.yaml');
    assert.deepEqual([...r.errors, ...r.warnings], []);
    const used = Object.keys(parse(yaml) as object);
    assert.deepEqual(docs.root.map((d) => d.key).sort(), used.sort(), 'the schema\'s top-level keys are the ones a full keel.yaml uses');
    assert.deepEqual(docs.job.map((d) => d.key).sort(), ['command', 'env', 'setup']);
    const unknown = parseProjectFile('name: demo\nmodels: [x]\n', 'keel.yaml');
    assert.match(unknown.warnings[0]?.message ?? '', /unknown key "models"/, 'the daemon does warn about keys outside the schema');
  });

  it('covers the template keel init writes, and gives each key a description', () => {
    const template = parse(projectFileTemplate('demo')) as Record<string, unknown>;
    for (const key of Object.keys(template)) assert.ok(docs.root.some((d) => d.key === key), `the schema has ${key}`);
    assert.ok([...docs.root, ...docs.job].every((d) => d.description.length > 20));
  });

  it('offers the daemon\'s command placeholders', () => {
    assert.deepEqual(PLACEHOLDERS.map((p) => p.name), [...COMMAND_PLACEHOLDERS]);
  });
});

describe('keel.yaml completion and hover', () => {
  const lines = ['name: demo', 'datasets:', '  - data/*.jsonl', 'train:', '  command: python3 train.py --config {con', '  ', 'ev'];

  it('offers top-level keys at the top level, job keys under train:, placeholders after { in a command', () => {
    assert.deepEqual(cursorPlace(lines, 6, 2), { kind: 'rootKey' });
    assert.deepEqual(cursorPlace(lines, 5, 2), { kind: 'jobKey', job: 'train' });
    assert.deepEqual(cursorPlace(lines, 4, lines[4]?.length ?? 0), { kind: 'placeholder' });
    assert.deepEqual(cursorPlace(lines, 2, 4), { kind: 'none' }, 'not inside a list item');
    assert.deepEqual(cursorPlace(['# na'], 0, 4), { kind: 'none' }, 'not in a comment');
  });

  it('leaves out the keys the block already has', () => {
    assert.deepEqual(missingKeys(lines, 6, docs.root).map((d) => d.key), ['configs', 'outputs', 'evals', 'ignore', 'secrets', 'eval']);
    assert.deepEqual(missingKeys(lines, 5, docs.job).map((d) => d.key), ['setup', 'env']);
  });

  it('inserts a key with a starting value YAML reads as meant (a glob starting with * is quoted)', () => {
    const ignore = docs.root.find((d) => d.key === 'ignore');
    assert.ok(ignore);
    assert.equal(keySnippet(ignore, ''), 'ignore:\n  - \\${1:"**/.cache/**"}'.replace('\\$', '$'));
    const train = docs.root.find((d) => d.key === 'train');
    assert.ok(train);
    assert.equal(keySnippet(train, ''), 'train:\n  command: ${1:}');
  });

  it('explains the key or placeholder under the mouse', () => {
    assert.match(hoverDoc(docs, lines, 1, 3)?.description ?? '', /^Globs of datasets to track/);
    assert.equal(hoverDoc(docs, lines, 4, 4)?.title, 'train.command');
    assert.equal(hoverDoc(docs, ['  command: x --out {output_dir}'], 0, 22)?.title, '{output_dir}');
    assert.equal(hoverDoc(docs, lines, 2, 6), undefined);
  });
});

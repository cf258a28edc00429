import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob, matchingAncestor } from './glob.ts';

describe('globs', () => {
  it('match like the shell, with ** across folders', () => {
    const cases: [string, string, boolean][] = [
      ['data/*.jsonl', 'data/train.jsonl', true],
      ['data/*.jsonl', 'data/sub/train.jsonl', false],
      ['data/**/*.jsonl', 'data/sub/deep/train.jsonl', true],
      ['data/**/*.jsonl', 'data/train.jsonl', true],
      ['outputs/*', 'outputs/run 1', true],
      ['outputs/*', 'outputs/run1/checkpoint-5', false],
      ['configs/{a,b}.yaml', 'configs/b.yaml', true],
      ['configs/{a,b}.yaml', 'configs/c.yaml', false],
      ['./data/file?.csv', 'data/file1.csv', true],
      ['data/[ab]*.csv', 'data/b2.csv', true],
      ['data/[!ab]*.csv', 'data/b2.csv', false],
      ['outputs/**/results_*.json', 'outputs/r/m/results_2025-01-01T00-00-00.json', true],
      ['data/$(x).txt', 'data/$(x).txt', true],
    ];
    for (const [glob, path, want] of cases) assert.equal(compileGlob(glob).regex.test(path), want, `${glob} vs ${path}`);
  });

  it('know where to start walking', () => {
    assert.equal(compileGlob('data/*.jsonl').base, 'data');
    assert.equal(compileGlob('outputs/**/x').base, 'outputs');
    assert.equal(compileGlob('*.yaml').base, '');
    assert.equal(compileGlob('data/train.jsonl').base, 'data/train.jsonl');
  });

  it('find the matched ancestor of a file inside a run folder', () => {
    const globs = [compileGlob('outputs/*')];
    assert.equal(matchingAncestor(globs, 'outputs/run1/checkpoint-5/model.safetensors'), 'outputs/run1');
    assert.equal(matchingAncestor(globs, 'elsewhere/x'), undefined);
  });
});

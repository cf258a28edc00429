import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob, globProblem, GlobLimits, matchesAny, matchingAncestor } from './glob.ts';

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
      ['data/*', 'data/.hidden', true],
      ['outputs/**', 'outputs', false],
      ['data/+(a|b)', 'data/+(a|b)', true],
      ['#notes/*.md', '#notes/a.md', true],
      ['!x', '!x', true],
      ['data/a\\{b', 'data/a{b', true],
      ['data/[{]x', 'data/{x', true],
    ];
    for (const [glob, path, want] of cases) assert.equal(matchesAny([compileGlob(glob)], path) !== undefined, want, `${glob} vs ${path}`);
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

  it('match a long name against a glob with many stars in linear time (a backtracking matcher froze 40 s)', () => {
    const glob = compileGlob('data/*a*a*a*a*a*a*a*a*b');
    const name = `data/${'a'.repeat(64)}`;
    // One match first: a backtracking matcher blocks here (synchronously, so no test timeout helps).
    const first = performance.now();
    assert.equal(matchesAny([glob], name), undefined);
    assert.ok(performance.now() - first < 100, `first match took ${(performance.now() - first).toFixed(0)} ms`);
    const samples: number[] = [];
    for (let i = 0; i < 200; i++) {
      const started = performance.now();
      assert.equal(matchesAny([glob], name), undefined);
      samples.push(performance.now() - started);
    }
    samples.sort((a, b) => a - b);
    const p99 = samples[Math.floor(samples.length * 0.99)] ?? Infinity;
    assert.ok(p99 < 5, `p99 ${p99.toFixed(2)} ms`);
    assert.equal(matchesAny([glob], `data/${'a'.repeat(64)}b`) !== undefined, true);
  });

  it('refuse globs that cannot be used, saying why', () => {
    const problems: [string, RegExp][] = [
      ['data/{a,b', /has a "\{" that is never closed \(character 6\)/],
      ['data/a}b', /has a "\}" with no "\{" before it \(character 7\)/],
      [`data/${'{a,b}'.repeat(20)}`, new RegExp(`expands to more than ${GlobLimits.maxPatterns} patterns`)],
      ['data/{1..100000}', /expands to more than/],
      [`data/${'x'.repeat(GlobLimits.maxLength)}*`, /characters long, over Keel's 1024-character limit/],
      ['', /is empty/],
      ['./', /is empty/],
    ];
    for (const [glob, want] of problems) {
      assert.match(globProblem(glob) ?? '', want, JSON.stringify(glob).slice(0, 40));
      assert.throws(() => compileGlob(glob), { name: 'GlobError' });
    }
    for (const fine of ['data/*.jsonl', 'data/a\\{b', 'data/[{}]', `data/${'{a,b}'.repeat(8)}`, 'configs/{a,{b,c}}.yaml']) {
      assert.equal(globProblem(fine), undefined, fine);
    }
  });

  it('check a brace bomb quickly and without expanding it', () => {
    const bomb = `data/${'{a,b}'.repeat(20)}`;
    const started = performance.now();
    for (let i = 0; i < 20; i++) assert.notEqual(globProblem(bomb), undefined);
    const each = (performance.now() - started) / 20;
    assert.ok(each < 50, `${each.toFixed(1)} ms per check`);
  });
});


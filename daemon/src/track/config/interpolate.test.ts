import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveInterpolations } from './interpolate.ts';
import { parseTrainingConfig } from './parse.ts';

void test('absolute, list-index, relative and chained references resolve', () => {
  const { data, issues } = resolveInterpolations({
    root: '/r',
    a: { b: '${root}/a', c: '${.b}/c', d: { e: '${..b}' } },
    files: ['x', 'y'],
    first: '${files[0]}',
    second: '${files.1}',
    chain: '${a.d.e}',
  });
  assert.deepEqual(issues, []);
  assert.deepEqual(data, {
    root: '/r',
    a: { b: '/r/a', c: '/r/a/c', d: { e: '/r/a' } },
    files: ['x', 'y'],
    first: 'x',
    second: 'y',
    chain: '/r/a',
  });
});

void test('a whole-value reference keeps the type; inside text it reads like Python str()', () => {
  const { data } = resolveInterpolations({ n: 4, flag: true, none: null, sub: { k: 1 }, m: '${n}', s: 'bs=${n} ${flag} ${none}', whole: '${sub}' });
  assert.deepEqual(data, { n: 4, flag: true, none: null, sub: { k: 1 }, m: 4, s: 'bs=4 True None', whole: { k: 1 } });
});

void test('a missing key is an issue at the key that refers to it, with its line; the text stays', () => {
  const config = parseTrainingConfig('output_dir: /o\nmetric_logger:\n  log_dir: ${ouput_dir}/logs\n', 'tt.yaml');
  assert.equal(config.params['metric_logger.log_dir'], '${ouput_dir}/logs');
  assert.deepEqual(config.issues, [
    { message: '${ouput_dir} refers to "ouput_dir", which is not in the config', path: 'metric_logger.log_dir', line: 3, column: 12 },
  ]);
});

void test('a cycle is reported once and does not crash', () => {
  const { data, issues } = resolveInterpolations({ a: '${b}', b: '${c}/x', c: '${a}' });
  assert.equal(issues.length, 1);
  assert.match(issues[0]?.message ?? '', /^interpolation cycle: a → b → c → a$/);
  assert.deepEqual(data, { a: '${b}', b: '${c}/x', c: '${a}' });
  const self = resolveInterpolations({ x: '${x}' });
  assert.equal(self.issues.length, 1);
});

void test('resolvers and escapes are left as written', () => {
  const { data, issues } = resolveInterpolations({ home: '${oc.env:HOME}', literal: 'cost \\${x}' });
  assert.deepEqual(data, { home: '${oc.env:HOME}', literal: 'cost ${x}' });
  assert.equal(issues.length, 1);
  assert.match(issues[0]?.message ?? '', /resolvers are not evaluated/);
});

void test('axolotl configs are not interpolated: ${…} there is literal text', () => {
  // Axolotl by two of its own keys (`base_model` alone is no proof: plain Trainer YAMLs use it too).
  const config = parseTrainingConfig('base_model: m\nsequence_len: 512\nsystem_prompt: "use ${name}"\n', 'a.yml');
  assert.equal(config.flavor, 'axolotl');
  assert.equal(config.params.system_prompt, 'use ${name}');
  assert.deepEqual(config.issues, []);
});

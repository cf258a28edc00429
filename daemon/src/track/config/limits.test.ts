import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configContentHash } from './flatten.ts';
import { applyOverrides, ConfigOverrideError } from './overrides.ts';
import { ConfigInvalidError, parseTrainingConfig } from './parse.ts';

void test('a string interpolation that would grow past 64 KiB stays as written, with one issue where it crossed the cap', () => {
  const lines = ['s0: "0123456789"'];
  for (let i = 1; i <= 40; i++) lines.push(`s${i}: "\${s${i - 1}}\${s${i - 1}}"`);
  const t0 = performance.now();
  const c = parseTrainingConfig(lines.join('\n'), 'bomb.yaml');
  assert.ok(performance.now() - t0 < 2_000);
  assert.equal((c.params.s12 as string).length, 10 * 2 ** 12);
  assert.equal(c.params.s13, '${s12}${s12}', '81,920 characters would be over 64 KiB');
  assert.equal(c.params.s40, '${s39}${s39}');
  assert.deepEqual(c.issues.map((i) => [i.path, i.message, i.line]), [['s13', '"${s12}${s12}" would resolve to more than 64 KiB of text; left as written', 14]]);
});

void test('whole-value references that would expand the config past 16 Mi stay as written, and params stop at 10,000 with a count', () => {
  const lines = ['o0: [1, 2, 3, 4, 5, 6, 7, 8]'];
  for (let i = 1; i <= 60; i++) lines.push(`o${i}: ["\${o${i - 1}}", "\${o${i - 1}}"]`);
  const t0 = performance.now();
  const c = parseTrainingConfig(lines.join('\n'), 'tree-bomb.yaml');
  const ms = performance.now() - t0;
  assert.ok(ms < 15_000, `${ms} ms`);
  assert.equal(Object.keys(c.params).length, 10_000);
  // 8 × 2^20 values fit in 16 Mi; o21 would double that, so it stays as written (and so does every level above).
  assert.deepEqual((c.data as Record<string, unknown>).o21, ['${o20}', '${o20}']);
  assert.deepEqual((c.data as Record<string, unknown>).o60, ['${o59}', '${o59}']);
  const messages = c.issues.map((i) => i.message);
  assert.ok(messages.includes('resolving "${o20}" would make the config larger than 16 Mi characters; left as written'), messages.join('\n'));
  assert.match(messages.at(-1) ?? '', /^the config has [\d,]+ values; Keel records the first 10,000 as params and dropped [\d,]+$/);
  assert.match(configContentHash(c.data), /^sha256:/);
});

void test('a chain of 5,000 references is followed at most 1,000 deep, the rest left as written, without overflowing the stack', () => {
  const lines = ['k0: end'];
  for (let i = 1; i < 5_000; i++) lines.push(`k${i}: \${k${i - 1}}`);
  const c = parseTrainingConfig(lines.reverse().join('\n'), 'chain.yaml');
  assert.equal(c.params.k3, 'end', 'references within the limit resolve');
  assert.equal(c.params.k4999, '${k4998}');
  assert.ok(c.issues.some((i) => /chained more than 1000 deep/.test(i.message)));
  assert.ok(c.issues.length <= 101, 'issues are capped');
});

void test('12,000 keys: the first 10,000 are params and the issue names how many were dropped', () => {
  const data = Object.fromEntries(Array.from({ length: 12_000 }, (_, i) => [`key_${i}`, i]));
  const c = parseTrainingConfig(JSON.stringify(data), 'wide.json');
  assert.equal(Object.keys(c.params).length, 10_000);
  assert.equal(c.params.key_9999, 9999);
  assert.equal(c.params.key_10000, undefined);
  assert.deepEqual(c.issues.map((i) => i.message), ['the config has 12,000 values; Keel records the first 10,000 as params and dropped 2,000']);
});

void test('100,000 nested brackets are refused with the file and a reason, in JSON and in YAML', () => {
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  for (const file of ['deep.json', 'deep.yaml']) {
    assert.throws(() => parseTrainingConfig(deep, file), (err: unknown) => {
      assert.ok(err instanceof ConfigInvalidError, String(err));
      assert.equal(err.file, file);
      assert.match(err.reason, /nested (more than 256 levels deep|too deeply)|Maximum call stack/);
      return true;
    });
  }
  const justOver = `a: ${'['.repeat(300)}1${']'.repeat(300)}`;
  assert.throws(() => parseTrainingConfig(justOver, 'over.yaml'), /nested more than 256 levels deep/);
  assert.equal(parseTrainingConfig(`a: ${'['.repeat(200)}1${']'.repeat(200)}`, 'ok.yaml').issues.length, 0);
});

void test('a YAML alias bomb (billion laughs) is refused before it is expanded', () => {
  const lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i <= 9; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
  const t0 = performance.now();
  assert.throws(() => parseTrainingConfig(lines.join('\n'), 'lol.yaml'), (err: unknown) => err instanceof ConfigInvalidError && /aliases \(\*name\) would expand it more than 100 times over/.test(err.reason));
  assert.ok(performance.now() - t0 < 1_000);
  // A few ordinary aliases (anchors for shared settings) still read.
  const shared = parseTrainingConfig('base: &b {lr: 1.0e-4, wd: 0}\nrun1: *b\nrun2: *b\n', 'shared.yaml');
  assert.deepEqual([shared.params['run1.lr'], shared.params['run2.wd']], [1e-4, 0]);
});

void test('overrides still check keys against the tree and suggest close ones, on a large config too', () => {
  const data = { optimizer: { lr: 1e-4 }, ...Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, { v: i }])) };
  const t0 = performance.now();
  const out = applyOverrides(data, ['optimizer.lr=2e-4', 'k49999.v=1']) as { optimizer: { lr: number }; k49999: { v: number } };
  assert.deepEqual([out.optimizer.lr, out.k49999.v], [2e-4, 1]);
  assert.ok(performance.now() - t0 < 2_000);
  assert.throws(() => applyOverrides({ optimizer: { lr: 1 }, list: [1] }, ['optimizer.lrr=2', 'list.01=3']), (err: unknown) => {
    assert.ok(err instanceof ConfigOverrideError);
    assert.deepEqual(err.problems.map((p) => p.suggestions), [['optimizer.lr', 'optimizer'], ['list.0', 'list']]);
    return true;
  });
});

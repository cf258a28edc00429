import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { anyShellCommand, shellCommand, shellQuote, ShellQuoteError } from './quote.ts';

const scratch = mkdtempSync(join(tmpdir(), 'keel-quote-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const canary = join(scratch, `pwned-${process.pid}`);

/** Everything a shell could treat specially, plus text that must survive byte for byte. */
const NASTY = [
  'plain', 'two words', '  lead and trail  ', `it's`, `''`, `'`, '"double"', '"', `mixed '"' quotes`,
  `$(touch ${canary})`, `\`touch ${canary}\``, '${HOME}', '$HOME', '$1', '$@', '$$', '!!', '!x',
  'a;touch x', 'a|b', 'a&b', 'a&&b', 'a||b', '(sub)', '{a,b}', '<in', '>out', '2>&1',
  'line1\nline2', '\n', 'tab\there', '\r\n', '*', '?', '[a-z]', '~', '~root', '-rf', '--', '-',
  '', ' ', '\\', '\\\'', 'back\\slash\\n', '#comment', 'a=b', 'é', '日本', '🎉', 'e\u0301', '\u00a0nbsp',
];

/** Runs `printf '%s\0' <command>` through `shell -c` and returns the arguments it saw. */
function echoBack(shell: string, words: string): string[] {
  const result = spawnSync(shell, ['-c', `printf '%s\\0' ${words}`], { cwd: scratch });
  assert.equal(result.status, 0, result.stderr.toString());
  const out = result.stdout.toString('utf8');
  return out === '' ? [] : out.slice(0, -1).split('\0');
}

void test('shellQuote wraps in single quotes and writes each quote as \'\\\'\'', () => {
  assert.equal(shellQuote('abc'), `'abc'`);
  assert.equal(shellQuote(''), `''`);
  assert.equal(shellQuote(`it's`), `'it'\\''s'`);
  assert.equal(shellQuote(`$(x) \`y\` "z"`), `'$(x) \`y\` "z"'`);
  assert.equal(shellCommand(['bash', 'start.sh', 'my dir']), `'bash' 'start.sh' 'my dir'`);
  assert.equal(shellCommand([]), '');
});

void test('every nasty argument comes back byte for byte from bash and from dash, and nothing runs', () => {
  for (const shell of ['bash', 'sh']) {
    assert.deepEqual(echoBack(shell, shellCommand(NASTY)), NASTY, shell);
    for (const arg of NASTY) assert.deepEqual(echoBack(shell, shellQuote(arg)), [arg], `${shell}: ${JSON.stringify(arg)}`);
  }
  assert.equal(existsSync(canary), false);
  assert.equal(existsSync(join(scratch, 'x')), false);
  assert.equal(existsSync(join(scratch, 'out')), false);
});

void test('the bytes of non-ASCII arguments arrive as UTF-8', () => {
  const result = spawnSync('bash', ['-c', `printf '%s' ${shellCommand(['é日本🎉'])} | od -An -tx1`]);
  assert.equal(result.stdout.toString().replace(/\s+/g, ' ').trim(), 'c3 a9 e6 97 a5 e6 9c ac f0 9f 8e 89');
});

void test('NUL bytes and lone surrogates are refused, with the value in the message', () => {
  assert.throws(() => shellQuote('a\0b'), (error: unknown) => error instanceof ShellQuoteError && error.message.includes('NUL') && error.message.includes('"a\\u0000b"'));
  assert.throws(() => shellCommand(['ok', '\0']), ShellQuoteError);
  assert.throws(() => shellQuote('\ud83d'), /not valid Unicode/);
});

void test('anyShellCommand carries only base64 inside plain single quotes, and runs the same command', () => {
  const command = anyShellCommand(['printf', '%s\\0', ...NASTY]);
  assert.match(command, /^bash -c 'eval "\$\(printf %s [A-Za-z0-9+/=]+ \| base64 -d\)"'$/);
  for (const shell of ['bash', 'sh']) {
    const result = spawnSync(shell, ['-c', command], { cwd: scratch });
    assert.equal(result.status, 0, result.stderr.toString());
    assert.deepEqual(result.stdout.toString('utf8').slice(0, -1).split('\0'), NASTY, shell);
  }
  assert.equal(existsSync(canary), false);
});

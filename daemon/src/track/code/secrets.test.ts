import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseProjectFile } from '../project/keel-yaml.ts';
import { isProjectFile, redactKeelYaml, secretFileMatcher } from './secrets.ts';

describe('secretFileMatcher', () => {
  it('matches the built-in names at any depth, files and folders', () => {
    const m = secretFileMatcher();
    for (const path of ['.env', 'app/.env.local', '.env.production', 'certs/server.pem', 'tls.key', 'keystore.p12',
      'deploy/id_rsa', 'id_ed25519.pub', 'keys/id_ecdsa', 'id_dsa', '.aws/credentials', 'gcp-credentials.json',
      '.netrc', 'home/.pypirc', 'credentials/token.txt']) {
      assert.ok(m(path), `${path} is a secret`);
    }
    for (const path of ['env.py', 'src/environment.yaml', 'keyboard.py', 'monkey.txt', 'README.md', 'keel.yaml', 'data/train.jsonl']) {
      assert.equal(m(path), undefined, `${path} is not a secret`);
    }
  });

  it('adds keel.yaml `secrets:` globs: bare names at any depth, paths from the project folder', () => {
    const m = secretFileMatcher(['*.token', 'private/', 'config/prod.yaml', '/hf_*.txt'], 'projects/llm');
    assert.equal(m('projects/llm/a/b.token'), '*.token');
    assert.equal(m('other/b.token'), '*.token', 'a bare name matches anywhere, like .gitignore');
    assert.equal(m('projects/llm/src/private/x.json'), 'private');
    assert.equal(m('projects/llm/config/prod.yaml'), 'config/prod.yaml');
    assert.equal(m('config/prod.yaml'), undefined, 'a path glob is relative to the project folder');
    assert.equal(m('projects/llm/config/dev.yaml'), undefined);
    assert.equal(m('projects/llm/hf_login.txt'), 'hf_*.txt');
    assert.equal(m('projects/llm/sub/hf_login.txt'), undefined, 'a leading / anchors at the project folder');
  });

  it('`!glob` ships on purpose what the patterns would keep home', () => {
    const m = secretFileMatcher(['!auth/credentials.py', '!.env.example', '*.token'], 'p');
    assert.equal(m('p/auth/credentials.py'), undefined);
    assert.equal(m('p/other/credentials.py'), '*credentials*', 'only the named exception');
    assert.equal(m('p/.env.example'), undefined);
    assert.equal(m('p/sub/.env.example'), undefined, 'a bare name excepts it anywhere');
    assert.equal(m('p/.env'), '.env');
    assert.equal(m('p/x.token'), '*.token');
  });

  it('reads `secrets:` from keel.yaml as a list of globs', () => {
    const parsed = parseProjectFile('name: p\nsecrets:\n  - "*.token"\n  - private/\n', 'keel.yaml');
    assert.deepEqual(parsed.errors, []);
    assert.deepEqual(parsed.warnings, []);
    assert.deepEqual(parsed.project.secrets, ['*.token', 'private/']);
    assert.equal(parseProjectFile('name: p\n', 'keel.yaml').project.secrets, undefined);
  });

  it('knows a project file by name', () => {
    assert.ok(isProjectFile('keel.yaml'));
    assert.ok(isProjectFile('sub/dir/keel.yaml'));
    assert.ok(!isProjectFile('notkeel.yaml'));
    assert.ok(!isProjectFile('keel.yaml.bak'));
  });
});

describe('redactKeelYaml', () => {
  const original = [
    'name: p',
    'train:',
    '  command: python3 train.py --config {config}',
    '  env:',
    '    HF_TOKEN: "hf_secret_2"   # a comment stays',
    '    PLAIN: plain_secret_3',
    '    NUMBER: 0.10',
    '    BLOCK: |',
    '      block_secret_4',
    '      block_secret_5',
    '    AFTER: after_secret_6',
    'eval: {command: "python3 eval.py", env: {A: \'flow_secret_7\', B: flow_secret_8}}',
    '',
  ].join('\n');

  it('replaces every env value, keeps names, comments, commands and the line count', () => {
    const red = redactKeelYaml(original);
    for (let i = 2; i <= 8; i++) assert.doesNotMatch(red, new RegExp(`secret_${i}`), `value ${i} is gone`);
    assert.doesNotMatch(red, /0\.10/);
    assert.equal(red.split('\n').length, original.split('\n').length, 'one line for one line');
    assert.match(red, /^ {4}HF_TOKEN: '\[redacted\]' {3}# a comment stays$/m);
    assert.match(red, /^ {2}command: python3 train\.py --config \{config\}$/m);
    const parsed = parseProjectFile(red, 'keel.yaml');
    assert.deepEqual(parsed.errors, [], 'still a valid keel.yaml');
    assert.deepEqual(Object.keys(parsed.project.train?.env ?? {}), ['HF_TOKEN', 'PLAIN', 'NUMBER', 'BLOCK', 'AFTER']);
    assert.equal(parsed.project.train?.env?.HF_TOKEN, '[redacted]');
    assert.deepEqual(parsed.project.eval?.env, { A: '[redacted]', B: '[redacted]' });
  });

  it('follows aliases and merge keys to where the value is written', () => {
    const text = 'name: p\ncommon: &c {SHARED: shared_secret_1}\ntoken: &t alias_secret_2\ntrain:\n  command: x\n  env:\n    <<: *c\n    T: *t\n';
    const red = redactKeelYaml(text);
    assert.doesNotMatch(red, /shared_secret_1|alias_secret_2/);
    assert.match(red, /^common: &c \{SHARED: '\[redacted\]'\}$/m);
  });

  it('leaves a keel.yaml without env alone, and is stable', () => {
    const plain = 'name: p\ntrain:\n  command: run {config}\n';
    assert.equal(redactKeelYaml(plain), plain);
    assert.equal(redactKeelYaml(redactKeelYaml(original)), redactKeelYaml(original));
  });

  it('redacts every value of a file that does not parse, keeping keys', () => {
    const broken = 'name: p\ntrain:\n  env:\n    HF_TOKEN: "hf_broken_secret\n  - [oops\n';
    const red = redactKeelYaml(broken);
    assert.doesNotMatch(red, /hf_broken_secret|oops/);
    assert.match(red, /^ {4}HF_TOKEN: '\[redacted\]'$/m);
    assert.equal(red.split('\n').length, broken.split('\n').length);
  });
});

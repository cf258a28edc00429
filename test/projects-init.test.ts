/**
 * `projects/init` (the editor's `keel init`): writes the commented keel.yaml template when
 * there is none, never overwrites one, and registers the project either way.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestHome, waitFor } from './support/keel-home.ts';
import { KeelClient } from '../daemon/src/client/client.ts';
import { RpcError } from '../daemon/src/protocol/index.ts';

describe('projects/init', () => {
  const h = new TestHome('keel-init-');
  let client: KeelClient;
  before(async () => {
    h.keelJson(['daemon', 'start']);
    client = await KeelClient.connect({ socketPath: h.socket, client: { name: 'test', version: '0' } });
  });
  after(() => {
    client.close();
    h.cleanup();
  });

  it('writes the template named after the given name and registers the project', async () => {
    const root = join(h.dir, 'fresh project');
    mkdirSync(root);
    const r = await client.call('projects/init', { root, name: 'reverse-words' });
    assert.equal(r.wroteProjectFile, true);
    assert.equal(r.file, join(root, 'keel.yaml'));
    assert.equal(r.created, true);
    assert.equal(r.project.name, 'reverse-words');
    assert.equal(r.project.root, root);
    assert.deepEqual(r.project.configErrors, []);
    assert.deepEqual(r.warnings, []);
    const text = readFileSync(r.file, 'utf8');
    assert.match(text, /^name: reverse-words$/m);
    assert.match(text, /^ {2}- configs\/\*\.yaml$/m);
    const { projects } = await client.call('projects/list', {});
    assert.deepEqual(projects.map((p) => p.name), ['reverse-words']);
  });

  it('defaults the name to the folder name', async () => {
    const root = join(h.dir, 'tiny-ft');
    mkdirSync(root);
    const r = await client.call('projects/init', { root });
    assert.equal(r.project.name, 'tiny-ft');
    assert.match(readFileSync(r.file, 'utf8'), /^name: tiny-ft$/m);
  });

  it('keeps an existing keel.yaml byte for byte and only registers it', async () => {
    const root = join(h.dir, 'existing');
    mkdirSync(root);
    const mine = 'name: mine\nconfigs: [train/*.yaml]\n';
    writeFileSync(join(root, 'keel.yaml'), mine);
    const r = await client.call('projects/init', { root, name: 'ignored' });
    assert.equal(r.wroteProjectFile, false);
    assert.equal(r.project.name, 'mine');
    assert.equal(readFileSync(join(root, 'keel.yaml'), 'utf8'), mine);
    const again = await client.call('projects/init', { root });
    assert.equal(again.created, false);
    assert.equal(again.project.id, r.project.id);
  });

  it('refuses a missing folder and a relative path with a clear code', async () => {
    await assert.rejects(client.call('projects/init', { root: join(h.dir, 'nope') }), (e: unknown) => e instanceof RpcError && e.code === 'E_NOT_FOUND' && /no such folder/.test(e.message));
    await assert.rejects(client.call('projects/init', { root: 'relative/dir' }), (e: unknown) => e instanceof RpcError && e.code === 'E_INVALID_PARAMS');
  });

  it('refuses /, the kernel\'s folders and Keel\'s own home (and the folders around it) as project roots', async () => {
    const refused: [string, RegExp][] = [
      ['/', /^\/ is the root of the file system; it cannot be a project root/],
      ['/proc', /^\/proc is inside \/proc, a virtual file system of the kernel/],
      [h.dir, /holds Keel's own home \(KEEL_HOME=.*\); it cannot be a project root: Keel would track its own database/],
      [h.home, /holds Keel's own home/],
    ];
    for (const [root, want] of refused) {
      for (const method of ['projects/register', 'projects/init'] as const) {
        await assert.rejects(client.call(method, { root }), (e: unknown) => e instanceof RpcError && e.code === 'E_INVALID_PARAMS' && want.test(e.message) && /Run `keel init` in the folder that holds your training code/.test(e.message), `${method} ${root}`);
      }
    }
    assert.equal(existsSync(join(h.dir, 'keel.yaml')), false, 'nothing written around KEEL_HOME');
  });

  it('an unusable glob is a diagnostic with line and column; the CLI prints it and exits 1, and the other globs are tracked', async () => {
    const root = join(h.dir, 'bad glob');
    mkdirSync(join(root, 'data'), { recursive: true });
    writeFileSync(join(root, 'data', 'train.jsonl'), '{"a": 1}\n');
    writeFileSync(join(root, 'keel.yaml'), 'name: bad-glob\ndatasets:\n  - data/{a,b\n  - data/*.jsonl\n');
    const r = await client.call('projects/register', { root });
    assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.path, d.line, d.column]), [['error', 'datasets[0]', 3, 5]]);
    assert.match(r.project.configErrors[0] ?? '', /keel\.yaml:3:5: datasets\[0\] "data\/\{a,b" has a "\{" that is never closed/);
    const cli = h.keel(['init', root]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /error: .*keel\.yaml:3:5: datasets\[0\] "data\/\{a,b" has a "\{" that is never closed \(character 6\); write \{a,b\} or escape it as \\\{/);
    assert.match(cli.stderr, /Keel tracks everything else in keel\.yaml, without the glob above; fix it and Keel picks up the change\./);
    await waitFor(async () => (await client.call('datasets/list', {})).datasets.some((d) => d.path === 'data/train.jsonl'), 20_000, 'the valid glob\'s dataset');
  });
});


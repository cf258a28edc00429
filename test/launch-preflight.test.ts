/**
 * Launching through the real CLI and daemon, on a project with real files and a real python3
 * job: pre-flight refuses what would fail (mistyped override keys with "did you mean", a
 * value of the wrong type, a missing base model, an unknown or silent host, more GPUs than
 * the machine has) before any run is recorded; launched runs are named after their config
 * and overrides and can be renamed; a failed run's log tail names the error line.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeelClient } from '../daemon/src/client/client.ts';
import type { HostInfo, RunDetail, RunSummary } from '../daemon/src/protocol/index.ts';
import { TestHome } from './support/keel-home.ts';

const JOB = `
import json, sys
args = sys.argv[1:]
cfg = json.load(open(args[args.index('--config') + 1]))
print('loading', cfg['model_name_or_path'], flush=True)
if cfg.get('fail'):
    raise OSError(cfg['model_name_or_path'] + ' is not a local folder and is not a valid model identifier')
print('done', flush=True)
`;

function writeProject(root: string): void {
  mkdirSync(join(root, 'configs'), { recursive: true });
  mkdirSync(join(root, 'data'), { recursive: true });
  mkdirSync(join(root, 'base-models', 'tiny'), { recursive: true });
  writeFileSync(join(root, 'base-models', 'tiny', 'config.json'), '{}\n');
  writeFileSync(join(root, 'data', 'train.jsonl'), '{"text": "hello"}\n');
  writeFileSync(join(root, 'job.py'), JOB);
  const config = (over: Record<string, unknown>): string => JSON.stringify({ model_name_or_path: 'base-models/tiny', train_file: 'data/train.jsonl', learning_rate: 0.01, lora_r: 8, fail: false, ...over }, null, 2);
  writeFileSync(join(root, 'configs', 'lora.json'), config({}));
  writeFileSync(join(root, 'configs', 'hub.json'), config({ model_name_or_path: 'meta-llama/Llama-3.2-1B' }));
  writeFileSync(join(root, 'configs', 'typo-model.json'), config({ model_name_or_path: 'base-models/tiny-llama' }));
  writeFileSync(join(root, 'configs', 'crash.json'), config({ fail: true }));
  writeFileSync(join(root, 'keel.yaml'), ['name: preflight', 'datasets: [data/*.jsonl]', 'configs: [configs/*.json]', 'outputs: [outputs/*]',
    'train:', '  command: python3 job.py --config {config} --out {output_dir}', ''].join('\n'));
  const git = (...a: string[]): void => { execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=T', ...a], { cwd: root, stdio: 'ignore' }); };
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'project');
}

describe('launching: pre-flight, names, the failure line', () => {
  const h = new TestHome('keel-preflight-', { KEEL_POLL_MS: '300' });
  const root = join(h.dir, 'proj');
  let client: KeelClient;
  const runs = (): RunSummary[] => h.keelJson<{ runs: RunSummary[] }>(['runs']).runs;
  const launch = (...args: string[]): RunSummary => h.keelJson<{ run: RunSummary }>(['launch', ...args], { cwd: root }).run;
  const refused = (...args: string[]): string => {
    const before = runs().length;
    const r = h.keel(['launch', ...args], { cwd: root, timeoutMs: 90_000 });
    assert.equal(r.code, 1, `keel launch ${args.join(' ')} was refused: ${r.stdout}${r.stderr}`);
    assert.equal(runs().length, before, 'no run was recorded');
    return r.stderr;
  };

  before(async () => {
    writeProject(root);
    h.keelJson(['init', root]);
    client = await KeelClient.connect({ socketPath: h.socket, client: { name: 'test', version: '0' } });
  });

  after(() => {
    client.close();
    h.cleanup();
  });

  it('passes a good launch, saying what it checked, and names the run after its config', async () => {
    const r = await client.call('runs/preflight', { config: join(root, 'configs', 'lora.json'), local: true, set: ['learning_rate=0.02'] });
    assert.equal(r.ok, true, JSON.stringify(r.problems));
    assert.deepEqual(r.problems, []);
    assert.ok(r.passed.some((p) => /lora\.json parses \(hf config\)/.test(p)), r.passed.join('; '));
    assert.ok(r.passed.some((p) => /1 override names keys of the config/.test(p)), r.passed.join('; '));
    assert.ok(r.passed.some((p) => /local paths the config names exist/.test(p)), r.passed.join('; '));
    assert.equal(r.defaultName, 'lora · lr=0.02');
    assert.equal(launch('configs/lora.json', '--local').name, 'lora');
    assert.equal(launch('configs/lora.json', '--local').name, 'lora #2');
    const tuned = launch('configs/lora.json', '--local', '--set', 'learning_rate=0.02');
    assert.equal(tuned.name, 'lora · lr=0.02');
    const summary = runs().find((x) => x.id === tuned.id);
    assert.deepEqual([summary?.kind, summary?.overrides], ['train', ['learning_rate=0.02']]);
    const detail = h.keelJson<RunDetail>(['run', 'show', tuned.id]);
    assert.deepEqual(detail.launch?.overrides, ['learning_rate=0.02'], 'runs/get carries the launch spec');
    assert.equal(launch('configs/hub.json', '--local').name, 'hub', 'a hub id that is not on disk passes');
  });

  it('refuses mistyped override keys with a close match, and values of the wrong type', () => {
    const err = refused('configs/lora.json', '--local', '--set', 'learnin_rate=0.01', '--set', 'lora_r=abc');
    assert.match(err, /learnin_rate=0\.01: the config has no key "learnin_rate"\. Did you mean "learning_rate"\?/);
    assert.match(err, /lora_r=abc: lora_r is a number in the config \(8\); "abc" is not a number/);
    assert.match(err, /--skip-preflight launches anyway/);
  });

  it('refuses a base model path that does not exist, naming the file and where it looked', () => {
    const err = refused('configs/typo-model.json', '--local');
    assert.match(err, /The base model base-models\/tiny-llama named in configs\/typo-model\.json does not exist \(looked in configs\/ and the project root\)/);
  });

  it('refuses an unknown host with a close match, a host that does not answer, and more GPUs than there are', () => {
    // Port 1 on loopback: refused at once, so "does not answer" comes without a timeout.
    h.keelJson(['hosts', 'add', 'gpu1', '--ssh', 'nobody@127.0.0.1:1']);
    assert.match(refused('configs/lora.json', '--host', 'gpu-1'), /There is no host "gpu-1"\. Did you mean "gpu1"\?/);
    assert.match(refused('configs/lora.json', '--host', 'gpu1'), /Host gpu1 does not answer: .*Check that `ssh nobody@127\.0\.0\.1:1` works/);
    const local = h.keelJson<{ hosts: HostInfo[] }>(['hosts']).hosts.find((x) => x.name === 'local');
    const more = (local?.gpusTotal ?? 0) + 1;
    assert.match(refused('configs/lora.json', '--local', '--gpus', String(more)), new RegExp(`This machine has \\d+ GPUs? \\(at its last check\\); the run asks for ${more}`));
  });

  it('gives the line that says why a run failed, once its log is complete', async () => {
    const crash = launch('configs/crash.json', '--local');
    assert.equal(crash.name, 'crash');
    assert.equal(h.keel(['wait', crash.id, '--timeout', '60']).code, 1);
    const tail = await client.call('runs/logTail', { run: crash.id });
    assert.equal(tail.complete, true);
    assert.equal(tail.errorLine, 'OSError: base-models/tiny is not a local folder and is not a valid model identifier');
    assert.ok(tail.lines.includes('loading base-models/tiny'), tail.lines.join('\n'));
  });

  it('renames a run, refusing a name another run has and names that cannot be one', async () => {
    const [first, second] = runs().filter((r) => r.name.startsWith('lora'));
    assert.ok(first && second);
    const notes: string[] = [];
    await client.call('subscriptions/add', { topics: ['runs'] });
    const off = client.on('runs', (n) => notes.push(n.runId));
    assert.equal(h.keelJson<{ run: RunSummary }>(['run', 'rename', first.id, 'lora-final']).run.name, 'lora-final');
    assert.equal(h.keelJson<RunDetail>(['run', 'show', 'lora-final']).run.id, first.id, 'the new name finds the run');
    const taken = h.keel(['run', 'rename', second.id, 'lora-final']);
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /is already named "lora-final"/);
    assert.match(h.keel(['run', 'rename', second.id, 'a/b']).stderr, /holds "\/"/);
    await new Promise((r) => setTimeout(r, 300));
    off();
    assert.ok(notes.includes(first.id), 'subscribers heard of the rename');
  });
});

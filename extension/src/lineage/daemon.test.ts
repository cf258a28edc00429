/**
 * Hover lookups, CodeLens counts and keel.yaml diagnostics against a real daemon (the built
 * dist/keel.js, `npm run build`) in a temp KEEL_HOME: a project whose real Axolotl config
 * writes to outputs/lora-out, where a real TRL trainer_state.json and a PEFT adapter sit.
 * Prints hover latency (cold and cached, p50/p99) as test diagnostics.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KeelClient } from '../../../daemon/src/client/client.ts';
import { formatBytes } from '../format.ts';
import { configStats } from './config-lens.ts';
import { placeDiagnostics } from './diagnostic-spots.ts';
import { headline } from './hover-card.ts';
import { candidatesFor, LineageLookup } from './lookup.ts';
import type { Candidate } from './lookup.ts';
import { pathTokenAt } from './path-token.ts';
import { realFixture } from '../../../test/support/fixtures.ts';

const repo = resolve(import.meta.dirname, '..', '..', '..');
const fixturePath = (...parts: string[]): string => realFixture(...parts);
const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

describe('hover lookups against a real daemon', () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'keel-hover-')));
  const env = { ...process.env, KEEL_HOME: join(dir, 'home') };
  const project = join(dir, 'proj');
  const keel = (...args: string[]): string => {
    const r = spawnSync(process.execPath, [join(repo, 'bin', 'keel.js'), ...args], { env, encoding: 'utf8', cwd: project });
    assert.equal(r.status, 0, `keel ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  let client: KeelClient;
  let runId = '';
  const lookup = new LineageLookup({ ttlMs: 30_000, backgroundTimeoutMs: 5_000 });
  const configFile = join(project, 'configs', 'lora.yml');

  before(async () => {
    mkdirSync(join(project, 'configs'), { recursive: true });
    mkdirSync(join(project, 'data'), { recursive: true });
    writeFileSync(join(project, 'data', 'train.jsonl'), '{"instruction": "say hi", "output": "hi"}\n');
    const axolotl = readFileSync(fixturePath('axolotl', 'llama-3_lora-1b.yml'), 'utf8').replace('path: teknium/GPT4-LLM-Cleaned', 'path: data/train.jsonl');
    writeFileSync(configFile, axolotl);
    writeFileSync(join(project, 'keel.yaml'), 'name: hover\ndatasets:\n  - data/*.jsonl\nconfigs:\n  - configs/*.yml\noutputs:\n  - outputs/*\n');
    const out = join(project, 'outputs', 'lora-out');
    cpSync(fixturePath('trainer_state', 'interrupted-trl-sft-peft_fine-tune-ai-model', 'fine_tuned_model'), out, { recursive: true });
    chmodSync(join(out, 'checkpoint-200'), 0o755);
    writeFileSync(join(out, 'checkpoint-200', 'adapter_config.json'), readFileSync(fixturePath('checkpoint_layout', 'peft-lora-trl-sft_gpt2_checkpoint-200_adapter_config.json')));
    writeFileSync(join(out, 'checkpoint-200', 'adapter_model.safetensors'), Buffer.alloc(4096, 7));
    keel('daemon', 'start');
    client = await KeelClient.connect({ socketPath: join(dir, 'home', 'daemon.sock'), client: { name: 'hover-test', version: '0' } });
    await client.call('projects/register', { root: project });
    // The watcher tracks the config, then ingests the output folder; a second look registers the checkpoint.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { runs } = await client.call('runs/list', {});
      runId = runs[0]?.id ?? '';
      const ckpt = await client.call('lineage/resolve', { ref: join(out, 'checkpoint-200') });
      const cfg = await client.call('lineage/resolve', { ref: configFile });
      if (runId && ckpt.node?.kind === 'checkpoint' && cfg.node && runs[0]?.configId) break;
      if (Date.now() > deadline) assert.fail('the project was not tracked within 30 s');
      if (runId) await client.call('runs/import', { dir: out });
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(() => {
    client.close();
    keel('daemon', 'stop');
    rmSync(dir, { recursive: true, force: true });
  });

  it('resolves a relative checkpoint path in a config file (relative to the file, then the workspace)', async () => {
    const line = '  checkpoint: "../outputs/lora-out/checkpoint-200"  # resume from here';
    const token = pathTokenAt(line, line.indexOf('lora-out'));
    assert.ok(token);
    const candidates = await candidatesFor(token, join(project, 'configs'), project);
    assert.deepEqual(candidates.map((c) => c.ref), [join(project, 'outputs', 'lora-out', 'checkpoint-200')]);
    const card = await lookup.lookup(client, candidates, 2_000);
    assert.ok(card);
    assert.equal(card.node.kind, 'checkpoint');
    assert.equal(card.node.details.step, 200);
    assert.equal(card.node.details.runId, runId);
    // Its size is the folder's: trainer_state.json, adapter_config.json and the 4096-byte weights.
    const ckptDir = join(project, 'outputs', 'lora-out', 'checkpoint-200');
    const bytes = readdirSync(ckptDir).reduce((sum, f) => sum + statSync(join(ckptDir, f)).size, 0);
    assert.equal(card.node.details.sizeBytes, bytes);
    assert.match(headline(card.node), new RegExp(`^\\*\\*checkpoint\\*\\* \`…/outputs/lora-out/checkpoint-200\` · step 200 · adapter · \`sha256:[0-9a-f]{12}\` · ${formatBytes(bytes).replace('.', '\\.')}$`));
    assert.equal(card.graph?.ancestors.find((n) => n.kind === 'run')?.id, runId);
    assert.equal(card.graph?.ancestors.find((n) => n.kind === 'config')?.label, 'lora.yml');
  });

  it('resolves a workspace-relative path and a run id', async () => {
    const fromRoot = await candidatesFor({ text: 'outputs/lora-out', start: 0, end: 16, kind: 'path' }, join(project, 'configs'), project);
    assert.equal((await lookup.lookup(client, fromRoot, 2_000))?.node.id, runId);
    const byId = await lookup.lookup(client, [{ key: `id:${runId}`, ref: runId }], 2_000);
    assert.equal(byId?.node.label, 'lora-out');
  });

  it('gives nothing for text that only looks like a path, and asks the daemon about it once', async () => {
    let calls = 0;
    const counting = { call: ((...a: Parameters<KeelClient['call']>) => { calls++; return client.call(...a); }) as KeelClient['call'] };
    const token = pathTokenAt('  - path: teknium/GPT4-LLM-Cleaned', 12);
    assert.equal(token?.text, 'teknium/GPT4-LLM-Cleaned');
    const candidates = await candidatesFor(token, join(project, 'configs'), project);
    assert.equal(await lookup.lookup(counting, candidates, 2_000), null);
    assert.equal(await lookup.lookup(counting, candidates, 2_000), null);
    assert.equal(calls, 1);
    // A bare name that exists nowhere is not even asked about.
    assert.deepEqual(await candidatesFor({ text: 'nothing.yaml', start: 0, end: 12, kind: 'path' }, project, project), []);
  });

  it('gives up after the time box (no hover) and caches the late answer for the next hover', async () => {
    const slow = { call: (async (...a: Parameters<KeelClient['call']>) => {
      await new Promise((r) => setTimeout(r, 150));
      return client.call(...a);
    }) as KeelClient['call'] };
    const fresh = new LineageLookup({ ttlMs: 30_000, backgroundTimeoutMs: 5_000 });
    const c: Candidate = { key: `id:${runId}`, ref: runId };
    const t0 = performance.now();
    assert.equal(await fresh.lookup(slow, [c], 50), undefined);
    assert.ok(performance.now() - t0 < 120);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(fresh.cached(c)?.node.id, runId);
  });

  it('measures hover latency: cold (daemon round trips) and cached', async (t) => {
    const candidates = await candidatesFor({ text: 'outputs/lora-out/checkpoint-200', start: 0, end: 31, kind: 'path' }, project, project);
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < 200; i++) {
      lookup.clear();
      let t0 = performance.now();
      assert.ok(await lookup.lookup(client, candidates, 2_000));
      cold.push(performance.now() - t0);
      t0 = performance.now();
      // A cached hover still reads the line and stats the file: time the whole path.
      const token = pathTokenAt('resume: outputs/lora-out/checkpoint-200', 20);
      assert.ok(token);
      assert.ok(await lookup.lookup(client, await candidatesFor(token, project, project), 2_000));
      warm.push(performance.now() - t0);
    }
    const fmt = (xs: number[]): string => `p50 ${percentile(xs, 50).toFixed(2)} ms, p99 ${percentile(xs, 99).toFixed(2)} ms`;
    t.diagnostic(`hover lookup, cold (lineage/resolve + lineage/get depth 2): ${fmt(cold)}`);
    t.diagnostic(`hover lookup, cached (token + stat + cache): ${fmt(warm)}`);
    assert.ok(percentile(cold, 50) < 300, fmt(cold));
    assert.ok(percentile(warm, 50) < percentile(cold, 50), `${fmt(warm)} vs ${fmt(cold)}`);
  });

  it('CodeLens: counts the runs of a config file and names the best by loss', async () => {
    const stats = await configStats(client, configFile);
    assert.deepEqual(stats, { runs: 1, exact: 1, best: { metric: 'train/loss', value: 0.6203, runId, runName: 'lora-out' } });
    assert.deepEqual(await configStats(client, join(project, 'configs', 'other.yml')), { runs: 0, exact: 0 });
  });

  it('CodeLens: once the file changes, its old runs still count but none is "best" for the new content', async () => {
    writeFileSync(configFile, readFileSync(configFile, 'utf8').replace(/^learning_rate: .*$/m, 'learning_rate: 0.000777'));
    let stats = await configStats(client, configFile);
    const deadline = Date.now() + 20_000;
    while (stats.exact !== 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      stats = await configStats(client, configFile);
    }
    assert.deepEqual(stats, { runs: 1, exact: 0 });
  });

  it('keel.yaml diagnostics: the daemon finds the problems, they land on the offending lines', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    const text = 'name: demo\ndatasets:\n  - data/*.jsonl\nconfigs: 5\ntrain:\n  comand: python3 train.py\n';
    writeFileSync(join(bad, 'keel.yaml'), text);
    const { diagnostics } = await client.call('projects/register', { root: bad });
    const spots = placeDiagnostics(diagnostics, text.split('\n').map((l) => l.length));
    assert.deepEqual(spots.map((s) => [s.line, s.start, s.severity, s.key]), [
      [3, 9, 'error', 'configs'], [5, 2, 'error', 'train.command'], [5, 2, 'warning', 'train.comand'],
    ]);
    assert.equal(spots[0]?.message, 'configs must be a list of globs');
  });
});

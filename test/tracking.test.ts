/**
 * Tracking end to end through the real daemon and CLI: a git project with a dataset, a real
 * Axolotl config and a training output folder built from real trainer_state/lm-eval files
 * is watched; every run, curve, checkpoint and eval is recorded, and lineage answers
 * "where did this come from, and what came of it?" from any path.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesRoot, TestHome, waitFor } from './support/keel-home.ts';

interface RunRow { id: string; name: string; status: string; outputDir: string | null; lastStep: number | null }
interface Detail {
  run: RunRow & { configId: string | null; codeVersionId: string | null };
  metrics: { key: string; points: number; lastValue: number | null }[];
  checkpoints: { id: string; step: number | null; kind: string; location: string; hash: string | null }[];
  evals: { task: string; metric: string; filter: string; value: number | null; stderr: number | null }[];
  datasets: { hash: string }[];
}
interface Node { kind: string; id: string; label: string; details: Record<string, unknown> }
interface Graph { root: Node; ancestors: Node[]; descendants: Node[] }

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=Test', ...args], { cwd, encoding: 'utf8' });

describe('tracking a project end to end', () => {
  const h = new TestHome('keel-track-');
  const root = join(h.dir, 'my project $(x)');
  const run1 = join(root, 'outputs', 'lora-out');
  let runId = '';

  before(() => {
    mkdirSync(join(root, 'data'), { recursive: true });
    mkdirSync(join(root, 'configs'), { recursive: true });
    const rows = [
      { instruction: 'say hi', output: 'hi' },
      { instruction: 'say bye', output: 'bye' },
      { instruction: 'say hi', output: 'hi' },
      { instruction: 'mail me', output: 'write to jane.doe@example.com' },
    ];
    writeFileSync(join(root, 'data', 'train.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\nnot json\n');
    // A real Axolotl config, pointed at this project's dataset and output folder.
    const axolotl = readFileSync(join(fixturesRoot, 'axolotl', 'llama-3_lora-1b.yml'), 'utf8')
      .replace('path: teknium/GPT4-LLM-Cleaned', 'path: data/train.jsonl');
    assert.match(axolotl, /path: data\/train\.jsonl/);
    assert.match(axolotl, /output_dir: \.\/outputs\/lora-out/);
    writeFileSync(join(root, 'configs', 'lora.yml'), axolotl);
    writeFileSync(join(root, 'keel.yaml'), [
      'name: tracked', 'datasets:', '  - data/*.jsonl', 'configs:', '  - configs/*.yml', 'outputs:', '  - outputs/*',
      'evals:', '  - evals/**/results_*.json', '',
    ].join('\n'));
    git(root, 'init', '-q');
    git(root, 'add', '.');
    git(root, 'commit', '-qm', 'init');
    h.keelJson(['init', root]);
    // The training tool writes its output folder: a real PEFT trainer_state and checkpoint.
    const src = join(fixturesRoot, 'trainer_state', 'interrupted-trl-sft-peft_fine-tune-ai-model', 'fine_tuned_model');
    mkdirSync(run1, { recursive: true });
    cpSync(src, run1, { recursive: true });
    const ckpt = join(run1, 'checkpoint-200');
    writeFileSync(join(ckpt, 'adapter_config.json'), readFileSync(join(fixturesRoot, 'checkpoint_layout', 'peft-lora-trl-sft_gpt2_checkpoint-200_adapter_config.json')));
    writeFileSync(join(ckpt, 'adapter_model.safetensors'), Buffer.alloc(4096, 7));
  });

  after(() => {
    assert.equal(h.integrity(), 'ok');
    h.cleanup();
  });

  it('records the run, its curve and its checkpoint from the files the trainer wrote', async () => {
    await waitFor(() => {
      const { runs } = h.keelJson<{ runs: RunRow[] }>(['runs']);
      const r = runs.find((x) => x.outputDir?.endsWith('lora-out'));
      if (!r) return false;
      runId = r.id;
      const d = h.keelJson<Detail>(['run', 'show', r.id]);
      return d.checkpoints.length > 0 && d.run.configId !== null;
    }, 30_000, 'the watched run with its checkpoint and config');
    const d = h.keelJson<Detail>(['run', 'show', runId]);
    const state = JSON.parse(readFileSync(join(run1, 'checkpoint-200', 'trainer_state.json'), 'utf8')) as { log_history: { step: number; loss?: number }[] };
    const last = state.log_history.filter((e) => e.loss !== undefined).at(-1);
    assert.ok(last);
    // trainer_state.json's `loss` is the quantity TensorBoard calls `train/loss`: one series, that key.
    const loss = d.metrics.find((m) => m.key === 'train/loss');
    assert.equal(loss?.lastValue, last.loss, 'the last logged loss, as the file holds it');
    assert.equal(d.checkpoints[0]?.step, 200);
    assert.equal(d.checkpoints[0]?.kind, 'adapter');
    assert.match(d.checkpoints[0]?.hash ?? '', /^sha256:[0-9a-f]{64}$/);
    const series = h.keelJson<{ points: { step: number; value: number }[]; total: number }>(['metrics', runId, 'loss', '--max-points', '4']);
    assert.ok(series.points.length <= 6 && series.total === loss?.points);
  });

  it('lineage from a file inside the checkpoint reaches its config, dataset version and commit', async () => {
    const lineage = (): Graph => h.keelJson<Graph>(['lineage', join(run1, 'checkpoint-200', 'adapter_model.safetensors')]);
    // The run's links (code version last) are written in the background after its checkpoint shows.
    await waitFor(() => lineage().ancestors.some((n) => n.kind === 'code_version'), 30_000, 'the run linked to its code version');
    const g = lineage();
    assert.equal(g.root.kind, 'checkpoint');
    const kinds = new Set(g.ancestors.map((n) => n.kind));
    for (const k of ['run', 'config', 'dataset_version', 'code_version']) assert.ok(kinds.has(k), `ancestors include a ${k}: ${[...kinds].join(', ')}`);
    const commit = git(root, 'rev-parse', 'HEAD').trim();
    assert.ok(g.ancestors.some((n) => n.kind === 'code_version' && n.details.commit === commit));
    const base = g.ancestors.find((n) => n.kind === 'model');
    assert.ok(base, 'the base model is an ancestor, as a model record');
  });

  it('evals written later link to the checkpoint through model_args', async () => {
    const fixture = join(fixturesRoot, 'lm_eval', 'complete-0.4-string-model-args_dog-steer');
    const dir = join(root, 'evals', 'ckpt200');
    mkdirSync(dir, { recursive: true });
    const file = 'results_2025-01-21T00-40-03.356274.json';
    const text = readFileSync(join(fixture, '__home__cs29824__matthew__lm-evaluation-harness__examples__dog_steer.csv', file), 'utf8');
    const data = JSON.parse(text) as { config: { model_args: string } };
    data.config.model_args = `pretrained=${join(run1, 'checkpoint-200')},dtype=bfloat16`;
    writeFileSync(join(dir, file), JSON.stringify(data));
    await waitFor(() => h.keelJson<Detail>(['run', 'show', runId]).evals.length > 0, 30_000, 'the eval to be linked');
    const g = h.keelJson<Graph>(['lineage', join(root, 'data', 'train.jsonl')]);
    assert.equal(g.root.kind, 'dataset_version');
    const down = new Set(g.descendants.map((n) => n.kind));
    for (const k of ['run', 'checkpoint', 'eval']) assert.ok(down.has(k), `descendants include ${k}: ${[...down].join(', ')}`);
  });

  it('profiles the dataset and versions it by content', async () => {
    const show = h.keelJson<{ versions: { hash: string; profile: { rows: number; duplicateRows: number; invalidLines: { line: number }[]; pii: { emails: number } } }[] }>(['dataset', 'show', join(root, 'data', 'train.jsonl')]);
    assert.equal(show.versions.length, 1);
    const p = show.versions[0]?.profile;
    assert.equal(p?.duplicateRows, 1);
    assert.equal(p?.pii.emails, 1);
    assert.deepEqual(p?.invalidLines.map((l) => l.line), [5]);
    appendFileSync(join(root, 'data', 'train.jsonl'), JSON.stringify({ instruction: 'new', output: 'row' }) + '\n');
    await waitFor(() => h.keelJson<{ versions: unknown[] }>(['dataset', 'show', join(root, 'data', 'train.jsonl')]).versions.length === 2, 30_000, 'a second dataset version');
  });

  it('follows editors that save by rename, and folders deleted and made again', async () => {
    const config = join(root, 'configs', 'lora.yml');
    const before = h.keelJson<Graph>(['lineage', config]).root.details.hash;
    // Save-by-rename, as vim and many editors do: write a temp file, rename it over the config.
    writeFileSync(`${config}.swp`, readFileSync(config, 'utf8').replace('learning_rate: 0.0002', 'learning_rate: 0.0003'));
    renameSync(`${config}.swp`, config);
    await waitFor(() => h.keelJson<Graph>(['lineage', config]).root.details.hash !== before, 30_000, 'the edited config to be recorded');
    // A data folder removed and created again with new content becomes a new version.
    const extra = join(root, 'data', 'extra.jsonl');
    writeFileSync(extra, '{"a": 1}\n');
    await waitFor(() => h.keel(['dataset', 'show', extra, '--json']).code === 0, 30_000, 'the new dataset');
    rmSync(join(root, 'data'), { recursive: true });
    mkdirSync(join(root, 'data'));
    writeFileSync(extra, '{"a": 2}\n');
    writeFileSync(join(root, 'data', 'train.jsonl'), '{"instruction": "x", "output": "y"}\n');
    await waitFor(() => {
      const r = h.keel(['dataset', 'show', extra, '--json']);
      return r.code === 0 && (JSON.parse(r.stdout) as { versions: unknown[] }).versions.length === 2;
    }, 30_000, 'a second version after the folder came back');
  });

  it('tags a checkpoint by path; tagging it again changes nothing (rollback is covered in the store tests)', () => {
    const d = h.keelJson<Detail>(['run', 'show', runId]);
    const ckpt = d.checkpoints[0];
    assert.ok(ckpt);
    const tagged = h.keelJson<{ changed: boolean; previous: unknown }>(['tag', join(ckpt.location, 'adapter_config.json'), 'candidate']);
    assert.equal(tagged.changed, true);
    assert.equal(tagged.previous, null);
    assert.equal(h.keelJson<{ changed: boolean }>(['tag', ckpt.location, 'candidate']).changed, false);
    const { models } = h.keelJson<{ models: { alias: string; checkpoint: { id: string }; history: unknown[] }[] }>(['models']);
    const candidate = models.find((m) => m.alias === 'candidate');
    assert.equal(candidate?.checkpoint.id, ckpt.id);
    assert.equal(candidate?.history.length, 1);
  });

  it('imports any folder on demand, including TensorBoard event files', () => {
    const dir = join(h.dir, 'tb run');
    mkdirSync(join(dir, 'runs', 'May31_host'), { recursive: true });
    cpSync(join(fixturesRoot, 'tfevents', 'tf1-multi-value-events_lingvo', 'events.out.tfevents.test'), join(dir, 'runs', 'May31_host', 'events.out.tfevents.test'));
    const r = h.keelJson<{ runId: string; points: number }>(['import', dir]);
    assert.equal(r.points, 2520);
    const again = h.keelJson<{ runId: string; points: number }>(['import', dir]);
    assert.equal(again.runId, r.runId);
    const m = h.keelJson<{ points: { step: number; value: number }[] }>(['metrics', r.runId, 'bleu/split:dev']);
    assert.ok(m.points.some((p) => p.step === 100000 && Math.abs(p.value - 0.2864886224269867) < 1e-6));
    const cmp = h.keelJson<{ runs: unknown[]; metrics: unknown[] }>(['compare', runId, r.runId]);
    assert.equal(cmp.runs.length, 2);
  });

  it('after kill -9 and restart, re-ingesting adds no duplicate points', async () => {
    const before = h.keelJson<Detail>(['run', 'show', runId]).metrics.map((m) => [m.key, m.points]);
    const pid = h.daemonPid();
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => { try { process.kill(pid, 0); return false; } catch { return true; } }, 5000, 'the daemon to die');
    h.keelJson(['status']);
    await new Promise((r) => setTimeout(r, 1500));
    const afterRestart = h.keelJson<Detail>(['run', 'show', runId]).metrics.map((m) => [m.key, m.points]);
    assert.deepEqual(afterRestart, before);
  });
});

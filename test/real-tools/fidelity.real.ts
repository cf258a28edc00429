/**
 * The real-tools suite: Keel's record against what the real tools wrote. Two Hugging Face
 * `Trainer` + PEFT LoRA runs (`report_to: [tensorboard]`, `save_total_limit: 2`) and a TRL
 * `SFTTrainer` run are launched through Keel on the local backend; Keel runs the real
 * lm-evaluation-harness 0.4.13 (`--model hf --model_args pretrained=BASE,peft=CHECKPOINT`) on
 * each one's best checkpoint. Then:
 *  - each quantity is one series, equal point for point to trainer_state.json and to
 *    TensorBoard's own reader (EventAccumulator), and end-of-run values are summary values;
 *  - the checkpoint set equals the disk after rotation, a deleted checkpoint stays as history
 *    and is never offered, and the output folder's final adapter is checkpoint-60's second
 *    location, not a second "step 60 checkpoint";
 *  - lineage is exact: the data the config names, one base model record, the config's flavour;
 *  - evals attach to the adapter that was evaluated, and a failed eval job's results say so.
 *
 * Needs the venv of test/real-tools/setup-venv.sh (`npm run test:real-tools`). Nothing is faked:
 * the only stand-in on this machine is the CPU for a GPU.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { Checkpoint, EvalResult, LineageGraph, MetricPoint, Run, RunComparison, RunDetail } from '../../daemon/src/protocol/index.ts';
import { TestHome } from '../support/keel-home.ts';
import { checkpointFolders, logHistory, makeProject, requireVenv, tensorboardScalars, trainerTensorBoardName, writeKeelYaml } from './support.ts';

/** The quantities a Trainer run logs, each once: what the compare panel draws. */
const CURVES = ['eval/loss', 'eval/runtime', 'eval/samples_per_second', 'eval/steps_per_second', 'train/epoch', 'train/grad_norm', 'train/learning_rate', 'train/loss'];
/** The Trainer's end-of-training values: a table, never a chart. */
const SUMMARY = ['train/total_flos', 'train/train_loss', 'train/train_runtime', 'train/train_samples_per_second', 'train/train_steps_per_second'];

describe('the record matches the tools (real HF Trainer, PEFT, TRL, TensorBoard, lm-eval)', () => {
  const h = new TestHome('keel-real-tools-', { KEEL_POLL_MS: '300' });
  const root = join(h.dir, 'project');
  const runs: Record<'lora' | 'slow' | 'sft', Run> = {} as Record<'lora' | 'slow' | 'sft', Run>;
  const evalRuns: Record<'lora' | 'slow' | 'sft', Run> = {} as Record<'lora' | 'slow' | 'sft', Run>;

  const launch = (config: string, name: string): Run => h.keelJson<{ run: Run }>(['launch', config, '--local', '--name', name], { cwd: root }).run;
  const waitFor = (run: Run): Run => {
    const r = h.keel(['wait', run.id, '--timeout', '900', '--json'], { timeoutMs: 960_000 });
    return (JSON.parse(r.stdout) as { run: Run }).run;
  };
  const detail = (id: string): RunDetail => h.keelJson<RunDetail>(['run', 'show', id]);
  const outputs = (run: Run): string => join(h.home, 'local', 'jobs', run.id, '1', 'outputs');
  const points = (run: Run, key: string): MetricPoint[] => h.keelJson<{ points: MetricPoint[] }>(['metrics', run.id, key, '--max-points', '100000']).points;
  const evalRunOf = (run: Run): Run => {
    for (const deadline = Date.now() + 600_000; Date.now() < deadline;) {
      const found = h.keelJson<{ runs: Run[] }>(['runs']).runs.find((r) => r.name === `${run.name}-eval`);
      if (found) return waitFor(found);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
    throw new Error(`no eval run for ${run.name} within 10 minutes`);
  };

  before(() => {
    requireVenv();
    makeProject(root);
    h.keelJson(['init', root]);
    // The two Trainer runs train side by side; Keel evaluates each best checkpoint.
    runs.lora = launch('configs/lora.yaml', 'lora');
    runs.slow = launch('configs/lora-slow.yaml', 'lora-slow');
    for (const k of ['lora', 'slow'] as const) {
      runs[k] = waitFor(runs[k]);
      assert.equal(runs[k].status, 'succeeded', h.keel(['logs', runs[k].id]).stdout.slice(-3000));
    }
    for (const k of ['lora', 'slow'] as const) evalRuns[k] = evalRunOf(runs[k]);
    // From now on every eval job fails its gate after writing its results.
    writeKeelYaml(root, { minAcc: 1.01 });
    runs.sft = launch('configs/sft.yaml', 'sft');
    runs.sft = waitFor(runs.sft);
    assert.equal(runs.sft.status, 'succeeded', h.keel(['logs', runs.sft.id]).stdout.slice(-3000));
    evalRuns.sft = evalRunOf(runs.sft);
  });

  after(() => {
    assert.equal(h.integrity(), 'ok');
    h.cleanup();
  });

  it('the evals ran: the gate-free ones succeeded, the gated one failed after writing its results', () => {
    assert.deepEqual([evalRuns.lora.status, evalRuns.slow.status, evalRuns.sft.status], ['succeeded', 'succeeded', 'failed']);
    assert.match(h.keel(['logs', evalRuns.sft.id]).stdout, /acc [\d.]+ is below the gate 1\.01/);
  });

  it('one series per quantity, equal to trainer_state.json and to TensorBoard\'s own reader point for point', () => {
    for (const run of [runs.lora, runs.slow]) {
      const d = detail(run.id);
      assert.deepEqual(d.metrics.map((m) => m.key).sort(), CURVES, `${run.name}: each quantity once`);
      const out = outputs(run);
      // trainer_state.json (float64): every log_history value is Keel's value at that step, exactly.
      const history = logHistory(join(out, 'checkpoint-60', 'trainer_state.json'));
      for (const key of CURVES) {
        const keel = new Map(points(run, key).map((p) => [p.step, p.value]));
        const fromFile = history.flatMap((e) => Object.entries(e).filter(([k]) => k !== 'step' && trainerTensorBoardName(k) === key).map(([, v]) => [e.step, v] as const));
        assert.ok(fromFile.length > 0, `${key} is in trainer_state.json`);
        for (const [step, value] of fromFile) assert.equal(keel.get(step as number), value, `${run.name} ${key}@${step}: trainer_state.json's value`);
        assert.deepEqual([...keel.keys()].sort((a, b) => a - b), [...new Set(fromFile.map(([s]) => s as number))].sort((a, b) => a - b), `${key}: the same steps`);
      }
      // TensorBoard (float32): the same points, Keel's value rounded to float32 is TensorBoard's.
      const tb = tensorboardScalars(root, join(out, 'runs'));
      for (const [tag, events] of Object.entries(tb)) {
        if (SUMMARY.includes(tag)) continue;
        const keel = points(run, tag);
        const byStep = new Map(events.map(([step, value]) => [step, value]));
        assert.deepEqual(keel.map((p) => p.step), [...byStep.keys()].sort((a, b) => a - b), `${tag}: TensorBoard's steps`);
        for (const p of keel) assert.equal(Math.fround(p.value ?? NaN), byStep.get(p.step), `${run.name} ${tag}@${p.step}: TensorBoard's value`);
        assert.ok(keel.every((p) => p.wallTime !== null), `${tag}: the event files' wall times are kept`);
      }
      assert.deepEqual(Object.keys(tb).sort(), [...CURVES, ...SUMMARY].sort(), 'TensorBoard has nothing Keel left out');
      const loss = d.metrics.find((m) => m.key === 'train/loss');
      assert.deepEqual(loss?.aliases, ['loss'], 'trainer_state.json\'s name is an alias');
      assert.equal(loss?.disagreements, undefined, 'the two files agree up to float32 rounding');
      // The old names still find the series.
      assert.deepEqual(points(run, 'loss'), points(run, 'train/loss'));
    }
  });

  it('end-of-run values are summary values, equal to the Trainer\'s, never series', () => {
    const d = detail(runs.lora.id);
    assert.deepEqual((d.summary ?? []).map((v) => v.key), SUMMARY);
    const tb = tensorboardScalars(root, join(outputs(runs.lora), 'runs'));
    for (const v of d.summary ?? []) {
      assert.equal(v.value, tb[v.key]?.[0]?.[1], `${v.key}: the value the Trainer logged`);
      assert.equal(v.step, 60);
    }
    assert.match(h.keel(['metrics', runs.lora.id, 'train_runtime']).stderr, /"train\/train_runtime" is an end-of-run summary value, not a curve/);
    const shown = h.keel(['run', 'show', runs.lora.id]).stdout;
    assert.match(shown, /\nSummary \(end of run\)\n/);
    assert.match(shown, /train\/train_runtime\s+[\d.]+/);
  });

  it('the checkpoint set equals the disk after save_total_limit rotation; the final adapter is checkpoint-60\'s second location', () => {
    for (const run of [runs.lora, runs.slow]) {
      const out = realpathSync(outputs(run));
      const d = detail(run.id);
      const present = d.checkpoints.filter((c) => c.deletedAt == null);
      assert.deepEqual(present.map((c) => c.location), checkpointFolders(out).map((n) => join(out, n)), `${run.name}: what is on disk`);
      assert.deepEqual(checkpointFolders(out), ['checkpoint-40', 'checkpoint-60']);
      const gone = d.checkpoints.find((c) => c.location === join(out, 'checkpoint-20'));
      assert.ok(gone && typeof gone.deletedAt === 'number', `${run.name}: checkpoint-20 was seen, then seen gone`);
      assert.equal(existsSync(gone.location), false);
      const last = present.at(-1) as Checkpoint;
      assert.deepEqual([last.step, last.final, last.kind], [60, true, 'adapter']);
      assert.deepEqual(last.locations, [{ location: out, role: 'final', deletedAt: null }], 'the output folder is a location of checkpoint-60');
      assert.equal(d.checkpoints.filter((c) => c.step === 60).length, 1, 'no second "step 60 checkpoint"');
      // Same weights, byte for byte: that is why they are one model.
      assert.ok(readFileSync(join(out, 'adapter_model.safetensors')).equals(readFileSync(join(out, 'checkpoint-60', 'adapter_model.safetensors'))));
    }
    const out = realpathSync(outputs(runs.lora));
    const gone = detail(runs.lora.id).checkpoints.find((c) => c.location === join(out, 'checkpoint-20')) as Checkpoint;
    const tag = h.keel(['tag', gone.id, 'candidate']);
    assert.equal(tag.code, 1);
    assert.match(tag.stderr, /was deleted from disk .* cannot be tagged/);
    assert.match(h.keel(['pull', runs.lora.id, '--step', '20', '--dest', join(h.dir, 'pulled')]).stderr, /has no checkpoint at step 20/);
    const graph = h.keelJson<LineageGraph>(['lineage', gone.id]);
    assert.equal(typeof graph.root.details.deletedAt, 'number', 'a deleted checkpoint stays in lineage, as history');
  });

  it('lineage is exact: the data the config names, one base model record, the config\'s own flavour', () => {
    const base = realpathSync(join(root, 'base-models', 'tiny-llama'));
    const modelIds = new Set<string>();
    for (const run of [runs.lora, runs.sft]) {
      const out = realpathSync(outputs(run));
      const g = h.keelJson<LineageGraph>(['lineage', join(out, 'checkpoint-' + (run === runs.sft ? '40' : '60'))]);
      const data = g.ancestors.filter((n) => n.kind === 'dataset_version');
      assert.deepEqual(data.map((n) => n.label), ['data/train.jsonl'], `${run.name}: trained on what its config names, only`);
      const dataEdges = g.edges.filter((e) => e.fromKind === 'dataset_version' && e.toKind === 'run' && e.toId === run.id);
      assert.deepEqual(dataEdges.map((e) => e.type), ['used_data']);
      const models = g.ancestors.filter((n) => n.kind === 'model');
      assert.equal(models.length, 1, `${run.name}: the base model once`);
      assert.equal(models[0]?.label, base);
      modelIds.add(models[0]?.id ?? '');
      assert.ok(!g.ancestors.some((n) => n.kind === 'checkpoint'), 'no base model as a "checkpoint kind=unknown"');
    }
    assert.equal(modelIds.size, 1, 'one record for the base model, whatever the spelling');
    // The HF run's adapter names the job workspace's copy by absolute path, the TRL run's the relative path:
    // one record, recognised by the hash of its weights.
    const hfBase = (JSON.parse(readFileSync(join(outputs(runs.lora), 'adapter_config.json'), 'utf8')) as { base_model_name_or_path: string }).base_model_name_or_path;
    const trlBase = (JSON.parse(readFileSync(join(outputs(runs.sft), 'adapter_config.json'), 'utf8')) as { base_model_name_or_path: string }).base_model_name_or_path;
    assert.notEqual(hfBase, base);
    assert.equal(trlBase, 'base-models/tiny-llama');
    const configs = ['lora.yaml', 'sft.yaml'].map((c) => h.keelJson<LineageGraph>(['lineage', join(root, 'configs', c)]).root.details);
    assert.deepEqual(configs.map((c) => [c.flavor, c.flavorLabel]), [['hf', 'HF TrainingArguments config'], ['trl', 'TRL config']]);
  });

  it('evals attach to the adapter that was evaluated (peft=), and a failed eval job\'s results say so', () => {
    for (const run of [runs.lora, runs.slow]) {
      const d = detail(run.id);
      const ckpt60 = d.checkpoints.find((c) => c.step === 60) as Checkpoint;
      const evals = d.evals.filter((e) => e.task === 'reverse_mc');
      assert.deepEqual(evals.map((e) => e.metric).sort(), ['acc', 'acc_norm']);
      for (const e of evals) assert.deepEqual([e.subjectKind, e.subjectId, e.evalRunId, e.evalJobFailed], ['checkpoint', ckpt60.id, evalRuns[run === runs.lora ? 'lora' : 'slow'].id, false]);
      // What lm-eval 0.4.13 wrote: model_args as a dict, model_name = the adapter's path.
      const file = readFileSync(evals[0]?.sourcePath ?? '', 'utf8');
      const written = JSON.parse(file) as { config: { model_args: Record<string, string> }; model_name: string };
      assert.equal(written.config.model_args.peft, ckpt60.location);
      assert.equal(written.model_name, ckpt60.location);
    }
    const sft = detail(runs.sft.id);
    const sftEvals = sft.evals.filter((e) => e.task === 'reverse_mc');
    assert.ok(sftEvals.length === 2 && sftEvals.every((e) => e.evalJobFailed === true && e.evalRunId === evalRuns.sft.id));
    assert.match(h.keel(['evals', '--run', runs.sft.id]).stdout, /failed job/);
    const all = h.keelJson<{ evals: EvalResult[] }>(['evals']).evals;
    assert.deepEqual(new Set(all.filter((e) => e.evalJobFailed).map((e) => e.evalRunId)), new Set([evalRuns.sft.id]));
    // The eval read data/mc.jsonl (its task config names it): "evaluated on", nothing else.
    const g = h.keelJson<LineageGraph>(['lineage', evalRuns.lora.id]);
    const data = g.edges.filter((e) => e.fromKind === 'dataset_version' && e.toKind === 'run' && e.toId === evalRuns.lora.id);
    assert.deepEqual(data.map((e) => e.type), ['evaluated_on']);
    const direct = new Set(data.map((e) => e.fromId));
    assert.deepEqual(g.ancestors.filter((n) => n.kind === 'dataset_version' && direct.has(n.id)).map((n) => n.label), ['data/mc.jsonl']);
    // data/train.jsonl is further up, as what the evaluated checkpoint's run trained on; data/eval.jsonl nowhere.
    assert.ok(!g.ancestors.some((n) => n.label === 'data/eval.jsonl'));
  });

  it('the compare panel\'s data for the two Trainer runs: each quantity once, summary values apart, evals on checkpoint-60', () => {
    const c = h.keelJson<RunComparison>(['compare', runs.lora.id, runs.slow.id]);
    assert.deepEqual(c.metrics.map((m) => m.key), CURVES);
    assert.equal(c.metricsTotal, CURVES.length);
    assert.deepEqual(c.summary?.map((s) => s.key), SUMMARY);
    for (const s of c.summary ?? []) assert.ok(s.perRun[runs.lora.id] && s.perRun[runs.slow.id]);
    const acc = c.evals.find((e) => e.task === 'reverse_mc' && e.metric === 'acc');
    for (const run of [runs.lora, runs.slow]) {
      const cell = acc?.perRun[run.id];
      assert.equal(cell?.subjectLabel, 'checkpoint-60, final model');
      assert.equal(cell?.evalJobFailed, false);
    }
  });
});

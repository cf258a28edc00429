/**
 * Compare-panel payloads built the way the daemon builds them: the real fixture files are
 * parsed by the daemon's own parsers, recorded in a real (temporary) store, and the
 * `init` message is made from `compareRuns`, `metrics.downsample` and `lineageGraph` —
 * so the webview is tested against what the host will actually send.
 */
import { mock } from 'node:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LineageGraph, Run, RunComparison } from '../../daemon/src/protocol/index.ts';
import { defaultPanelState, type HostToWebview, type SeriesPayload } from '../../daemon/src/protocol/webview.ts';
import { lineageGraph } from '../../daemon/src/lineage/graph.ts';
import { compareRuns } from '../../daemon/src/runs/compare.ts';
import { seededRandom as random } from '../../daemon/src/dispatch/sweep.ts';
import { EdgeTypes, Store, evalGroupId, type MetricInput } from '../../daemon/src/store/index.ts';
import { configContentHash } from '../../daemon/src/track/config/flatten.ts';
import { parseTrainingConfig } from '../../daemon/src/track/config/parse.ts';
import { parseLmEvalResults, parseTrainerState } from '../../daemon/src/track/formats/index.ts';
import { parseHfResults } from '../../daemon/src/track/formats/hf-results.ts';
import { REAL_FIXTURES } from '../support/fixtures.ts';

export type InitMessage = Extract<HostToWebview, { type: 'init' }>;

/** test/fixtures/real (see test/support/fixtures.ts). */
export const fixturesRoot = REAL_FIXTURES;
export const fixturePath = (...parts: string[]): string => path.join(fixturesRoot, ...parts);

export const files = {
  loraConfig: fixturePath('axolotl', 'llama-3_lora-1b.yml'),
  fftConfig: fixturePath('axolotl', 'llama-3_fft-8b.yaml'),
  /** TRL SFT + PEFT, interrupted at step 200: loss every 10 steps (10.9959 at 10 … 0.6604 at 200). */
  sftState: fixturePath('trainer_state', 'interrupted-trl-sft-peft_fine-tune-ai-model', 'fine_tuned_model', 'checkpoint-200', 'trainer_state.json'),
  /** TRL SFT logging every step to 60 (loss 0.7447 at 1 … 0.0822 at 60). */
  grpoSftState: fixturePath('trainer_state', 'modern-trl-unsloth_grpo-verified-reasoner', 'outputs', 'checkpoint-60', 'trainer_state.json'),
  /** lm-eval 0.4.13 with "N/A" stderr (negotiationtom_belief acc 0.45 ± 0.1141…). */
  qwenEval: fixturePath('lm_eval', 'groups-na-stderr-dict-model-args_qwen3-8b', 'Qwen__Qwen3-8B', 'results_2026-07-08T16-04-34.219874.json'),
  /** Pre-0.4 lm-eval: arc_challenge acc 0.2449 ± 0.0126. */
  arcEval: fixturePath('lm_eval', 'legacy-v0-no-filter-suffix', 'arc_challenge-v0-res.json'),
};

/** A temporary store; `close()` deletes it. */
export function tempStore(): { store: Store; dir: string; close: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'keel-webview-'));
  const store = new Store(path.join(dir, 'keel.db'));
  return { store, dir, close: () => { store.close(); rmSync(dir, { recursive: true, force: true }); } };
}

function recordConfig(store: Store, projectId: string, file: string): { id: string; params: Record<string, unknown> } {
  const text = readFileSync(file, 'utf8');
  const parsed = parseTrainingConfig(text, path.basename(file));
  const { config } = store.configs.record({ hash: configContentHash(parsed.data), format: parsed.format, flavor: parsed.flavor, text, params: parsed.params, projectId, absPath: file });
  return { id: config.id, params: parsed.params };
}

function recordTrainerState(store: Store, runId: string, file: string): void {
  const state = parseTrainerState(readFileSync(file, 'utf8'), file);
  store.metrics.record(runId, state.points.map((p): MetricInput => ({ key: p.key, step: p.step, value: p.value, wallTime: p.wallTime ?? null })));
}

/**
 * A Trainer output folder as the daemon ingests it: trainer_state.json's curves, then each
 * value of all_results.json at the state's global step (the run's final step).
 */
function recordTrainerFolder(store: Store, runId: string, dir: string): void {
  const state = parseTrainerState(readFileSync(path.join(dir, 'trainer_state.json'), 'utf8'), dir);
  recordTrainerState(store, runId, path.join(dir, 'trainer_state.json'));
  const results = parseHfResults(readFileSync(path.join(dir, 'all_results.json'), 'utf8'), 'all_results.json');
  const step = state.globalStep ?? 0;
  store.metrics.record(runId, Object.entries(results.metrics).map(([key, value]): MetricInput => ({ key, step, value, wallTime: null })));
}

/** Records an lm-eval file as an eval of `checkpointId`; returns its eval group (lineage node) id. */
function recordEval(store: Store, checkpointId: string, file: string, text = readFileSync(file, 'utf8')): string {
  const parsed = parseLmEvalResults(text, file);
  store.evals.upsertMany(parsed.results.map((r) => ({
    subjectKind: 'checkpoint' as const, subjectId: checkpointId, sourcePath: file, task: r.task, metric: r.metric, filter: r.filter,
    value: r.value, stderr: r.stderr, higherIsBetter: r.higherIsBetter ?? null, isGroup: r.isGroup,
  })));
  const group = evalGroupId(file);
  store.lineage.addEdge({ kind: 'checkpoint', id: checkpointId }, { kind: 'eval', id: group }, EdgeTypes.Evaluated);
  return group;
}

/**
 * The qwen3 results re-scored for a second checkpoint: the real file with two values
 * changed (belief acc 0.45 → 0.55, desire acc 0.6 → 0.5), so rows have a winner each way.
 */
export function rescoredQwenText(): string {
  const doc = JSON.parse(readFileSync(files.qwenEval, 'utf8')) as { results: Record<string, Record<string, unknown>> };
  const belief = doc.results.negotiationtom_belief;
  const desire = doc.results.negotiationtom_desire;
  if (!belief || !desire) throw new Error(`${files.qwenEval}: the fixture no longer has the belief/desire tasks`);
  belief['acc,none'] = 0.55;
  desire['acc,none'] = 0.5;
  return JSON.stringify(doc, null, 2);
}

/** Series payloads as the host sends them: the daemon's min/max downsampling to `maxPoints`. */
export function seriesOf(store: Store, runs: readonly Run[], maxPoints = 2000): SeriesPayload[] {
  return runs.flatMap((r) => store.metrics.series(r.id).map((s) => ({ runId: r.id, key: s.key, ...store.metrics.downsample(r.id, s.key, maxPoints) })));
}

export interface TwoRuns {
  init: InitMessage;
  lineage: { runId: string; graph: LineageGraph | null }[];
  lora: Run;
  fft: Run;
  close: () => void;
}

/**
 * Two runs: "lora-1b" (Axolotl LoRA config, the interrupted SFT trainer_state, still
 * running; its checkpoint-200 evaluated by the qwen3 lm-eval file) and "fft-8b" (Axolotl
 * full fine-tune config, the per-step SFT trainer_state, succeeded; its checkpoint-60
 * evaluated by the re-scored qwen3 file and the legacy arc_challenge file).
 */
export function twoRuns(): TwoRuns {
  const t = tempStore();
  const { store } = t;
  const { project } = store.projects.upsert(t.dir, 'webview-fixture', {}, []);
  const dataset = store.datasets.ensure({ projectId: project.id, path: 'data/train.jsonl', absPath: path.join(t.dir, 'data', 'train.jsonl'), kind: 'file' });
  const { version } = store.datasets.addVersion(dataset.id, { hash: 'sha256:1f0c5e0a9b7d', sizeBytes: 2048, fileCount: 1, profile: null, files: [{ path: 'train.jsonl', size: 2048, hash: 'sha256:1f0c5e0a9b7d' }] });
  const loraCfg = recordConfig(store, project.id, files.loraConfig);
  const fftCfg = recordConfig(store, project.id, files.fftConfig);
  const lora = store.runs.create({ projectId: project.id, name: 'lora-1b', status: 'running', source: 'watch', configId: loraCfg.id, outputDir: path.join(t.dir, 'outputs', 'lora-out') });
  const fft = store.runs.create({ projectId: project.id, name: 'fft-8b', status: 'succeeded', source: 'watch', configId: fftCfg.id, outputDir: path.join(t.dir, 'outputs', 'out') });
  store.runLinks.setParams(lora.id, loraCfg.params);
  store.runLinks.setParams(fft.id, fftCfg.params);
  recordTrainerState(store, lora.id, files.sftState);
  recordTrainerState(store, fft.id, files.grpoSftState);
  // End-of-run summary values (as the Trainer's final log entry gives them): a table, never charts.
  store.summaries.record(lora.id, [{ key: 'train/train_runtime', value: 812.5, step: 200, sourceKey: 'train_runtime' }], 1);
  store.summaries.record(fft.id, [
    { key: 'train/train_runtime', value: 95.25, step: 60, sourceKey: 'train_runtime' },
    { key: 'train/total_flos', value: 1.5e15, step: 60, sourceKey: 'total_flos' },
  ], 1);
  for (const [run, cfg] of [[lora, loraCfg], [fft, fftCfg]] as const) {
    store.lineage.addEdge({ kind: 'dataset_version', id: version.id }, { kind: 'run', id: run.id }, EdgeTypes.UsedData);
    store.lineage.addEdge({ kind: 'config', id: cfg.id }, { kind: 'run', id: run.id }, EdgeTypes.UsedConfig);
  }
  const ckptA = store.checkpoints.upsert({ location: path.join(t.dir, 'outputs', 'lora-out', 'checkpoint-200'), kind: 'adapter', runId: lora.id, step: 200 }).checkpoint;
  const ckptB = store.checkpoints.upsert({ location: path.join(t.dir, 'outputs', 'out', 'checkpoint-60'), kind: 'full', runId: fft.id, step: 60 }).checkpoint;
  store.lineage.addEdge({ kind: 'run', id: lora.id }, { kind: 'checkpoint', id: ckptA.id }, EdgeTypes.Produced);
  store.lineage.addEdge({ kind: 'run', id: fft.id }, { kind: 'checkpoint', id: ckptB.id }, EdgeTypes.Produced);
  recordEval(store, ckptA.id, files.qwenEval);
  recordEval(store, ckptB.id, path.join(t.dir, 'rescored', 'results_qwen.json'), rescoredQwenText());
  recordEval(store, ckptB.id, files.arcEval);
  const runs = [store.runs.get(lora.id) as Run, store.runs.get(fft.id) as Run];
  const init: InitMessage = { type: 'init', state: defaultPanelState(runs.map((r) => r.id)), comparison: compareRuns(store, runs), series: seriesOf(store, runs) };
  const lineage = runs.map((r) => ({ runId: r.id, graph: lineageGraph(store, 'run', r.id) ?? null }));
  return { init, lineage, lora: runs[0] as Run, fft: runs[1] as Run, close: t.close };
}

/**
 * `runs` synthetic runs of `points` steps of `loss` each (a decaying noisy curve, one
 * NaN at 3/4 of the way), recorded in a real store; series downsampled by the daemon to
 * `maxPoints` (or sent raw when `maxPoints` is Infinity). `refetch` answers a zoom as the
 * host would (`metrics.downsample` over a step range).
 */
export function bigComparison(runs: number, points: number, maxPoints: number): { init: InitMessage; refetch: (runId: string, key: string, maxPoints: number, fromStep: number, toStep: number) => SeriesPayload; close: () => void } {
  const t = tempStore();
  const { store } = t;
  const created: Run[] = [];
  for (let i = 0; i < runs; i++) {
    const run = store.runs.create({ projectId: null, name: `sweep-${String(i + 1).padStart(2, '0')}`, status: 'succeeded', source: 'import' });
    const rnd = random(i + 1);
    const start = 1_760_000_000 + i * 3600;
    const batch: MetricInput[] = [];
    for (let s = 1; s <= points; s++) {
      const value = s === Math.floor(points * 0.75) ? NaN : (2.2 + 0.1 * i) * Math.exp(-s / (points / 4)) + 0.3 + 0.08 * (rnd() - 0.5);
      batch.push({ key: 'loss', step: s, value, wallTime: start + s * 0.5 });
    }
    store.metrics.record(run.id, batch);
    created.push(store.runs.get(run.id) as Run);
  }
  const init: InitMessage = {
    type: 'init', state: defaultPanelState(created.map((r) => r.id)), comparison: compareRuns(store, created),
    series: seriesOf(store, created, Number.isFinite(maxPoints) ? maxPoints : Number.MAX_SAFE_INTEGER),
  };
  const refetch = (runId: string, key: string, max: number, fromStep: number, toStep: number): SeriesPayload =>
    ({ runId, key, ...store.metrics.downsample(runId, key, max, { fromStep, toStep }) });
  return { init, refetch, close: t.close };
}

export interface HfRuns {
  comparison: RunComparison;
  init: InitMessage;
  whisper: Run;
  bart: Run;
  close: () => void;
}

/**
 * Two finished HF Trainer runs with their all_results.json (the Trainer's end-of-run
 * summary): a Whisper fine-tune (loss every 25 steps, eval_loss and eval_wer every 1,000 to
 * 5,000) and BART on SageMaker (one loss point, summary at step 693).
 */
export function hfRuns(): HfRuns {
  const t = tempStore();
  const { store } = t;
  const whisper = store.runs.create({ projectId: null, name: 'whisper-ja', status: 'succeeded', source: 'import' });
  const bart = store.runs.create({ projectId: null, name: 'bart-samsum', status: 'succeeded', source: 'import' });
  recordTrainerFolder(store, whisper.id, fixturePath('trainer_state', 'old-schema-foreign-best-path_whisper-large-v2-ja'));
  recordTrainerFolder(store, bart.id, fixturePath('trainer_state', 'oldest-schema-sagemaker_bart-large-cnn-samsum'));
  const runs = [store.runs.get(whisper.id) as Run, store.runs.get(bart.id) as Run];
  const comparison = compareRuns(store, runs);
  const init: InitMessage = { type: 'init', state: defaultPanelState(runs.map((r) => r.id)), comparison, series: seriesOf(store, runs) };
  return { comparison, init, whisper: runs[0] as Run, bart: runs[1] as Run, close: t.close };
}

export interface ManyRuns {
  init: InitMessage;
  /** Each run's lineage graph, as the host sends them. */
  lineage: { runId: string; graph: LineageGraph | null }[];
  runs: Run[];
  /** The checkpoint "Show Lineage" focuses in the tests (the last run's best). */
  focus: { kind: 'checkpoint'; id: string };
  close: () => void;
}

/**
 * A sweep as the lineage view meets it: `n` runs on the same two dataset versions, two
 * configs and a base model; each writes checkpoint-250…1000 and its final weights, and its
 * last checkpoint is measured by an eval job that writes a results file (the qwen3 lm-eval
 * fixture). 7 runs make 61 nodes.
 */
export function manyRuns(n: number): ManyRuns {
  const t = tempStore();
  const { store } = t;
  const { project } = store.projects.upsert(t.dir, 'sweep-fixture', {}, []);
  const versions = ['train', 'eval'].map((name) => {
    const ds = store.datasets.ensure({ projectId: project.id, path: `data/${name}.jsonl`, absPath: path.join(t.dir, 'data', `${name}.jsonl`), kind: 'file' });
    return store.datasets.addVersion(ds.id, { hash: `sha256:${name}0c5e0a9b7d1f2e3d`, sizeBytes: 2048, fileCount: 1, profile: null, files: [] }).version;
  });
  const configs = [recordConfig(store, project.id, files.loraConfig), recordConfig(store, project.id, files.fftConfig)];
  const base = store.checkpoints.upsert({ location: 'meta-llama/Llama-3.2-1B', kind: 'unknown', runId: null, step: null }).checkpoint;
  const runs: Run[] = [];
  let focus = '';
  for (let i = 0; i < n; i++) {
    const cfg = configs[i % 2] as { id: string };
    const run = store.runs.create({ projectId: project.id, name: `sweep-lr-${i + 1}e-4`, status: 'succeeded', source: 'launch', configId: cfg.id });
    for (const v of versions) store.lineage.addEdge({ kind: 'dataset_version', id: v.id }, { kind: 'run', id: run.id }, EdgeTypes.UsedData);
    store.lineage.addEdge({ kind: 'config', id: cfg.id }, { kind: 'run', id: run.id }, EdgeTypes.UsedConfig);
    store.lineage.addEdge({ kind: 'checkpoint', id: base.id }, { kind: 'run', id: run.id }, EdgeTypes.BaseModel);
    const out = path.join(t.dir, 'jobs', run.id, '1', 'outputs');
    let last = '';
    for (const step of [250, 500, 750, 1000, null]) {
      const location = step === null ? out : path.join(out, `checkpoint-${step}`);
      const { checkpoint } = store.checkpoints.upsert({ location, kind: 'adapter', runId: run.id, step: step ?? 1000, hash: `sha256:${run.id.slice(4)}${step ?? 'final'}`, sizeBytes: 47956 });
      store.lineage.addEdge({ kind: 'run', id: run.id }, { kind: 'checkpoint', id: checkpoint.id }, EdgeTypes.Produced);
      if (step === 1000) last = checkpoint.id;
    }
    const job = store.runs.create({ projectId: project.id, name: `${run.name}-eval`, status: 'succeeded', source: 'launch', kind: 'eval', parentRunId: run.id });
    store.lineage.addEdge({ kind: 'checkpoint', id: last }, { kind: 'run', id: job.id }, EdgeTypes.EvaluatedBy);
    const group = recordEval(store, last, path.join(t.dir, 'jobs', job.id, '1', 'outputs', 'results_2026-07-08T16-04-34.json'), readFileSync(files.qwenEval, 'utf8'));
    store.lineage.addEdge({ kind: 'run', id: job.id }, { kind: 'eval', id: group }, EdgeTypes.Produced);
    runs.push(store.runs.get(run.id) as Run);
    focus = last;
  }
  const init: InitMessage = { type: 'init', state: defaultPanelState(runs.map((r) => r.id)), comparison: compareRuns(store, runs), series: seriesOf(store, runs) };
  const lineage = runs.map((r) => ({ runId: r.id, graph: lineageGraph(store, 'run', r.id) ?? null }));
  return { init, lineage, runs, focus: { kind: 'checkpoint', id: focus }, close: t.close };
}

export interface SweepRuns {
  init: InitMessage;
  runs: Run[];
  /** The sweeps' ids, in the order their runs come. */
  sweepIds: string[];
  close: () => void;
}

/**
 * A grid sweep as Keel records it: `sweeps` sweeps, each trying every learning rate in
 * `lrs` with every seed in `seeds` (runs `lr<i>-s<seed>`, params `learning_rate`, `seed`,
 * `output_dir`), each logging `loss` every step and `eval_loss` every 100 steps for `steps`
 * steps — the loss falls faster with a larger learning rate, and seeds scatter around it.
 */
export function sweepRuns(opts: { lrs: readonly number[]; seeds: readonly number[]; steps: number; sweeps?: number; maxPoints?: number }): SweepRuns {
  const t = tempStore();
  const { store } = t;
  const runs: Run[] = [];
  const sweepIds: string[] = [];
  for (let w = 0; w < (opts.sweeps ?? 1); w++) {
    const sweepId = store.sweeps.create(null, `grid-${w + 1}`, { learning_rate: opts.lrs, seed: opts.seeds });
    sweepIds.push(sweepId);
    opts.lrs.forEach((lr, i) => {
      for (const seed of opts.seeds) {
        const name = `${opts.sweeps && opts.sweeps > 1 ? `w${w + 1}-` : ''}lr${i + 1}-s${seed}`;
        const run = store.runs.create({ projectId: null, name, status: 'succeeded', source: 'launch', sweepId });
        store.runLinks.setParams(run.id, { learning_rate: lr, seed, output_dir: `outputs/${name}` });
        const rnd = random(seed * 1000 + i + w * 7);
        const batch: MetricInput[] = [];
        const rate = (i + 1) / (opts.lrs.length * opts.steps * 0.2);
        for (let s = 1; s <= opts.steps; s++) {
          const base = 2.5 * Math.exp(-s * rate) + 0.4;
          batch.push({ key: 'loss', step: s, value: base + 0.06 * (rnd() - 0.5), wallTime: 1_760_000_000 + s });
          if (s % 100 === 0) batch.push({ key: 'eval_loss', step: s, value: base + 0.1 + 0.03 * (rnd() - 0.5), wallTime: 1_760_000_000 + s });
        }
        store.metrics.record(run.id, batch);
        runs.push(store.runs.get(run.id) as Run);
      }
    });
  }
  const init: InitMessage = {
    type: 'init', state: defaultPanelState(runs.map((r) => r.id)), comparison: compareRuns(store, runs),
    series: seriesOf(store, runs, opts.maxPoints ?? 2000).filter((s) => s.key === 'loss'),
  };
  return { init, runs, sweepIds, close: t.close };
}

/**
 * Three launched runs with real attempts in a real store, compared by the daemon's own code
 * (so `usage` is runUsage's): `box` (SSH, cost 2.5 per GPU-hour) ran `ssh-2gpu` 90 min on 2
 * leased GPUs; `hpc` (Slurm, no cost) ran `slurm-1gpu` 45 min on the 1 GPU asked of Slurm;
 * `waiting` never started. Each logged a short loss curve, so the panel draws charts.
 */
export function usageRuns(): { init: InitMessage; close: () => void } {
  const t = tempStore();
  const { store } = t;
  const box = store.hosts.add({ name: 'box', backend: 'ssh', sshTarget: 'box', workdir: '~/.keel', costPerHour: 2.5 });
  const hpc = store.hosts.add({ name: 'hpc', backend: 'slurm', sshTarget: 'login', workdir: '/shared/keel', slurm: { partition: null, account: null, qos: null } });
  const made = [
    { name: 'ssh-2gpu', host: box, backend: 'ssh' as const, gpus: 2, gpuIds: ['GPU-a', 'GPU-b'], minutes: 90 },
    { name: 'slurm-1gpu', host: hpc, backend: 'slurm' as const, gpus: 1, gpuIds: [], minutes: 45 },
    { name: 'waiting', host: hpc, backend: null, gpus: 1, gpuIds: [], minutes: 0 },
  ];
  const runs: Run[] = [];
  mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 11, 7, 12) });
  try {
    for (const m of made) {
      const run = store.runs.create({ projectId: null, name: m.name, status: m.backend ? 'succeeded' : 'queued', source: 'launch', hostId: m.host.id, gpus: m.gpus });
      if (m.backend) {
        const job = store.jobs.create({ runId: run.id, backend: m.backend, hostId: m.host.id, gpuIds: m.gpuIds, jobDirFor: (n) => `/j/${run.id}/${n}` });
        store.jobs.update(job.id, { state: 'running', started: true });
        mock.timers.tick(m.minutes * 60_000);
        store.jobs.update(job.id, { state: 'finished', exitCode: 0, ended: true });
        store.metrics.record(run.id, [1, 2, 3].map((step) => ({ key: 'loss', step, value: 2 / step, wallTime: 1_765_108_800 + step })));
      }
      runs.push(store.runs.get(run.id) as Run);
    }
  } finally {
    mock.timers.reset();
  }
  const init: InitMessage = { type: 'init', state: defaultPanelState(runs.map((r) => r.id)), comparison: compareRuns(store, runs), series: seriesOf(store, runs) };
  return { init, close: t.close };
}

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../store/index.ts';
import { createHashPool, createMemoryHashCache } from '../hash/index.ts';
import type { HashPool } from '../hash/index.ts';
import { fileVersionRecord, simpleValueRecord, tfeventsFile } from '../../../../test/support/write-tfevents.ts';
import { RunIngester, looksLikeRunDir } from './index.ts';
import { REAL_FIXTURES } from '../../../../test/support/fixtures.ts';
import { useTempStore } from '../../../../test/support/temp-store.ts';

const fixtureRoot = REAL_FIXTURES;
const fixturePath = (...parts: string[]): string => join(fixtureRoot, ...parts);

const valueAt = (store: Store, runId: string, key: string, step: number): number | null | undefined =>
  store.metrics.points(runId, key, { fromStep: step, toStep: step })[0]?.value;
const total = (store: Store, runId: string): number => store.metrics.series(runId).reduce((sum, s) => sum + s.points, 0);

/** `train/loss` at `steps`, written by a torch SummaryWriter that started at `start` (Unix seconds). */
function lossEvents(start: number, steps: number[], value: (step: number) => number): Buffer {
  return tfeventsFile([fileVersionRecord(start), ...steps.map((s) => simpleValueRecord('train/loss', s, value(s), start + s))]);
}

describe('RunIngester on event files and line logs', () => {
  const { dir: tmp, store } = useTempStore('keel-ingest-logs-', { closeFirst: () => pool.close() });
  let pool: HashPool;
  let ingester: RunIngester;
  before(() => {
    pool = createHashPool({ size: 1 });
    ingester = new RunIngester({ store, hasher: pool, hashCache: createMemoryHashCache(), quietMs: 3_600_000 });
  });
  it('merges the event files of a resumed run on (tag, step): the later wall time wins, also when read late', async () => {
    const dir = join(tmp, 'resumed');
    const first = join(dir, 'runs', 'Jun01_10-00-00_gpu1', 'events.out.tfevents.1717236000.gpu1.111.0');
    const second = join(dir, 'runs', 'Jun01_11-00-00_gpu1', 'events.out.tfevents.1717239600.gpu1.222.0');
    mkdirSync(join(dir, 'runs', 'Jun01_10-00-00_gpu1'), { recursive: true });
    mkdirSync(join(dir, 'runs', 'Jun01_11-00-00_gpu1'), { recursive: true });
    writeFileSync(first, lossEvents(1717236000, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], (s) => 2 - s / 8));
    // The resumed writer restarted at step 5; its last record is only half written.
    const resumed = lossEvents(1717239600, [5, 6, 7, 8, 9, 10], (s) => 10 + s);
    const cut = resumed.length - 20;
    writeFileSync(second, resumed.subarray(0, cut));
    const report = await ingester.ingestRunDir(dir, { projectId: null, source: 'watch' });
    assert.deepEqual(report.issues, []);
    const id = report.runId;
    assert.deepEqual(store.metrics.points(id, 'train/loss').map((p) => [p.step, p.value]), [
      [0, 2], [1, 1.875], [2, 1.75], [3, 1.625], [4, 1.5], [5, 15], [6, 16], [7, 17], [8, 18], [9, 19],
    ]);
    assert.equal(store.metrics.points(id, 'train/loss')[7]?.wallTime, 1717239607);
    appendFileSync(second, resumed.subarray(cut));
    // The old writer's file gets a late record for step 8 with its older clock: it must not win.
    appendFileSync(first, simpleValueRecord('train/loss', 8, -1, 1717236008.5));
    const grown = await ingester.ingestRunDir(dir, { projectId: null, source: 'watch' });
    assert.deepEqual([grown.points, grown.issues], [1, []]);
    assert.equal(valueAt(store, id, 'train/loss', 10), 20);
    assert.equal(valueAt(store, id, 'train/loss', 8), 18);
    assert.equal(total(store, id), 11);
  });

  it('reads torchtune logs line by line (complete lines only) and registers epoch_N on a second look', async () => {
    const dir = join(tmp, 'lora_single_device');
    mkdirSync(join(dir, 'logs'), { recursive: true });
    mkdirSync(join(dir, 'epoch_0'));
    copyFileSync(fixturePath('torchtune', 'llama3_2_1B_lora_single_device.yaml'), join(dir, 'torchtune_config.yaml'));
    writeFileSync(join(dir, 'epoch_0', 'adapter_model.safetensors'), 'lora weights');
    writeFileSync(join(dir, 'epoch_0', 'adapter_config.json'), '{"r": 64, "lora_alpha": 128, "target_modules": ["q_proj", "v_proj", "output_proj"], "peft_type": "LORA", "base_model_name_or_path": "/tmp/Llama-3.2-1B-Instruct/"}');
    const log = join(dir, 'logs', 'log_1718000000.txt');
    let text = '';
    for (let step = 1; step <= 10; step++) text += `Step ${step} | loss:${(2.5 - step / 20).toFixed(4)} lr:3e-05 tokens_per_second_per_gpu:1532.${step} \n`;
    writeFileSync(log, `${text}Step 11 | loss:1.9`);
    assert.equal(await looksLikeRunDir(dir), true);
    const first = await ingester.ingestRunDir(dir, { projectId: null, source: 'watch' });
    assert.deepEqual([first.issues, first.pending], [[], [join(dir, 'epoch_0')]]);
    assert.equal(total(store, first.runId), 30);
    assert.equal(valueAt(store, first.runId, 'loss', 10), 2);
    assert.equal(valueAt(store, first.runId, 'tokens_per_second_per_gpu', 3), 1532.3);
    assert.equal(valueAt(store, first.runId, 'loss', 11), undefined);
    appendFileSync(log, '5 lr:3e-05 \nnot a step line\nStep 12 | loss:nan \n');
    const second = await ingester.ingestRunDir(dir, { projectId: null, source: 'watch' });
    assert.deepEqual(second.issues, ['logs/log_1718000000.txt:12: not a "Step N | name:value …" line; skipped']);
    assert.equal(second.points, 3);
    assert.equal(valueAt(store, first.runId, 'loss', 11), 1.95);
    assert.deepEqual(store.metrics.points(first.runId, 'loss', { fromStep: 12 })[0], { step: 12, value: null, special: 'nan', wallTime: null });
    const epoch = store.checkpoints.byLocation(join(dir, 'epoch_0'));
    assert.deepEqual([epoch?.step, epoch?.kind, epoch?.baseModel, second.checkpoints], [0, 'adapter', '/tmp/Llama-3.2-1B-Instruct', 1]);
    assert.equal(store.runs.get(first.runId)?.status, 'running');
  });

  it('reads metrics.jsonl from its cursor, reports a bad line, and restarts a replaced file from the start', async () => {
    const dir = join(tmp, 'custom-loop');
    mkdirSync(dir);
    const file = join(dir, 'metrics.jsonl');
    writeFileSync(file, '{"step": 1, "loss": 2.0, "time": 1718000000.5}\n{"step": 2, "loss": \n{"step": 3, "loss": 1.5, "eval": {"acc": 0.5}}\n');
    const first = await ingester.ingestRunDir(dir, { projectId: null, source: 'watch' });
    assert.deepEqual(first.issues, ['metrics.jsonl:2: not valid JSON at column 21; line skipped']);
    // Flat keys follow the Trainer's naming (loss → train/loss): one series with trainer_state.json's.
    assert.deepEqual([valueAt(store, first.runId, 'train/loss', 3), valueAt(store, first.runId, 'eval/acc', 3)], [1.5, 0.5]);
    assert.equal(store.metrics.points(first.runId, 'train/loss')[0]?.wallTime, 1718000000.5);
    appendFileSync(file, '{"step": 4, "loss": 1.25}\n');
    const grown = await ingester.ingestRunDir(dir, { projectId: null, source: 'watch' });
    assert.deepEqual([grown.points, grown.issues], [1, []]);
    rmSync(file);
    writeFileSync(file, '{"step": 1, "loss": 3.0}\n');
    const replaced = await ingester.ingestRunDir(dir, { projectId: null, source: 'watch' });
    assert.deepEqual([replaced.points, valueAt(store, first.runId, 'train/loss', 1)], [1, 3]);
  });

  it('ingests into a launched run and leaves its status to the dispatcher', async () => {
    const dir = join(tmp, 'launched');
    mkdirSync(dir);
    writeFileSync(join(dir, 'metrics.jsonl'), '{"step": 1, "loss": 0.5}\n');
    writeFileSync(join(dir, 'train_results.json'), '{"train_loss": 0.5, "train_runtime": 12.5}');
    const run = store.runs.create({ projectId: null, source: 'launch', name: 'sweep-a', status: 'running' });
    const report = await ingester.ingestRunDir(dir, { projectId: null, source: 'launch', runId: run.id });
    assert.deepEqual([report.runId, report.created, report.issues], [run.id, false, []]);
    const after = store.runs.get(run.id);
    assert.deepEqual([after?.outputDir, after?.status], [dir, 'running']);
    // train_results.json holds end-of-run values: summary values of the run, not one-point curves.
    assert.equal(store.summaries.list(run.id).find((v) => v.key === 'train/train_runtime')?.value, 12.5);
    assert.equal(store.metrics.resolveKey(run.id, 'train_runtime'), undefined);
    await assert.rejects(ingester.ingestRunDir(dir, { projectId: null, source: 'launch', runId: 'run_missing' }), /no run run_missing/);
    // A folder is the output of one run only: a second launched run is told, and keeps its own.
    const other = store.runs.create({ projectId: null, source: 'launch', name: 'sweep-b', status: 'running', outputDir: join(tmp, 'elsewhere') });
    const clash = await ingester.ingestRunDir(dir, { projectId: null, source: 'launch', runId: other.id });
    assert.deepEqual(clash.issues, [`${dir}: this folder is already the output of run ${run.id}; ingested into ${other.id} without moving it`]);
    assert.deepEqual([store.runs.get(other.id)?.outputDir, store.runs.findByOutputDir(dir)?.id], [join(tmp, 'elsewhere'), run.id]);
  });

  it('tells run folders from other folders', async () => {
    const data = join(tmp, 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'train.jsonl'), '{"text": "hello"}\n');
    assert.equal(await looksLikeRunDir(data), false);
    assert.equal(await looksLikeRunDir(join(tmp, 'resumed')), true);
    assert.equal(await looksLikeRunDir(join(tmp, 'custom-loop')), true);
    mkdirSync(join(data, 'checkpoint-10'));
    assert.equal(await looksLikeRunDir(data), true);
    assert.equal(await looksLikeRunDir(join(tmp, 'missing')), false);
  });
});

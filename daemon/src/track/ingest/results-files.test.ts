import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createParsePool, type ParsePool } from '../../work/index.ts';
import { createHashPool, createMemoryHashCache, type HashPool } from '../hash/index.ts';
import { REAL_FIXTURES } from '../../../../test/support/fixtures.ts';
import { RunIngester } from './index.ts';
import { useTempStore } from '../../../../test/support/temp-store.ts';

const NL2FOAM = join(REAL_FIXTURES, 'lm_eval', 'finetuned-local-path-vllm-empty-model-name_nl2foam', 'results_2025-12-17T20-28-43.535870.json');

/** The same results with a large `config.description` (lm-eval writes prompts and configs into the file). */
function padded(text: string, bytes: number): string {
  const root = JSON.parse(text) as { config: Record<string, unknown> };
  root.config.description = 'x'.repeat(bytes);
  return JSON.stringify(root, null, 2);
}

describe('results files read whole: input checks, and large ones parsed in a worker', () => {
  const { dir: tmp, store } = useTempStore('keel-results-', { closeFirst: () => Promise.all([hashes.close(), parser.close()]) });
  let hashes: HashPool;
  let parser: ParsePool;
  let ingester: RunIngester;
  before(() => {
    hashes = createHashPool({ size: 1 });
    parser = createParsePool({ size: 1 });
    ingester = new RunIngester({ store, hasher: hashes, hashCache: createMemoryHashCache(), parser });
  });
  it('refuses an lm-eval results FIFO without hanging, and one over 64 MiB without reading it', { timeout: 20_000 }, async () => {
    const fifo = join(tmp, 'results_fifo.json');
    execFileSync('mkfifo', [fifo]);
    const a = await ingester.ingestEvalFile(fifo, { projectId: null });
    assert.deepEqual([a.evals, a.issues.length], [0, 1]);
    assert.match(a.issues[0] ?? '', /lm-eval results file .*results_fifo\.json is a FIFO \(named pipe\), not a regular file/);
    const huge = join(tmp, 'results_huge.json');
    writeFileSync(huge, readFileSync(NL2FOAM));
    truncateSync(huge, 65 * 1024 * 1024);
    const b = await ingester.ingestEvalFile(huge, { projectId: null });
    assert.match(b.issues[0] ?? '', /results_huge\.json is 65 MiB, over Keel's 64 MiB limit for a lm-eval results file/);
  });

  it('parses a large results file in the worker with the same rows as a small one', async () => {
    const small = join(tmp, 'small', 'results_a.json');
    const large = join(tmp, 'large', 'results_a.json');
    mkdirSync(join(tmp, 'small'));
    mkdirSync(join(tmp, 'large'));
    writeFileSync(small, readFileSync(NL2FOAM));
    writeFileSync(large, padded(readFileSync(NL2FOAM, 'utf8'), 2 * 1024 * 1024));
    const before = parser.workers.tasksStarted;
    const s = await ingester.ingestEvalFile(small, { projectId: null });
    assert.equal(parser.workers.tasksStarted, before, 'a small file is parsed where it is read');
    const l = await ingester.ingestEvalFile(large, { projectId: null });
    assert.equal(parser.workers.tasksStarted, before + 1, 'a large one in the parse worker');
    assert.deepEqual([l.evals, l.issues], [s.evals, []]);
    const rows = (path: string): unknown[] => store.evals.list({}).filter((e) => e.sourcePath === path).map((e) => [e.task, e.metric, e.filter, e.value, e.stderr]);
    assert.deepEqual(rows(large), rows(small));
  });

  it('refuses a Trainer results file over 64 MiB without reading it, and reads the rest of the folder', async () => {
    const dir = join(tmp, 'run');
    mkdirSync(dir);
    writeFileSync(join(dir, 'trainer_state.json'), '{"global_step": 2, "max_steps": 2, "log_history": [{"loss": 1.5, "step": 2}]}\n');
    writeFileSync(join(dir, 'train_results.json'), '{"train_loss": 1.25, "train_runtime": 3.5}\n');
    writeFileSync(join(dir, 'eval_results.json'), '{"eval_loss": 1.75}\n');
    truncateSync(join(dir, 'eval_results.json'), 65 * 1024 * 1024);
    const report = await ingester.ingestRunDir(dir, { projectId: null, source: 'import' });
    assert.equal(report.issues.length, 1);
    assert.match(report.issues[0] ?? '', /^eval_results\.json: Trainer results file .*eval_results\.json is 65 MiB, over Keel's 64 MiB limit for a Trainer results file; it was not read/);
    assert.equal(store.summaries.list(report.runId).find((v) => v.key === 'train/train_loss')?.value, 1.25);
    assert.equal(store.metrics.points(report.runId, 'train/loss')[0]?.value, 1.5);
  });
});

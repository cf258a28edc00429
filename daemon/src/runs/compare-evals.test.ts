/**
 * The eval rows of `runs/compare` name the eval job behind each result, so a result a failed
 * eval job left behind is flagged and never the row's best. Real store, real lm-eval results
 * files (a fixture re-pointed at each run's checkpoint folder), read by the real ingest.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EdgeTypes } from '../store/index.ts';
import { rowVerdicts, type Run } from '../protocol/index.ts';
import { ingestEvalFile } from '../track/ingest/eval-files.ts';
import { REAL_FIXTURES } from '../../../test/support/fixtures.ts';
import { compareRuns } from './compare.ts';
import { useTempStore } from '../../../test/support/temp-store.ts';

const FIXTURE = join(REAL_FIXTURES, 'lm_eval', 'groups-na-stderr-dict-model-args_qwen3-8b', 'Qwen__Qwen3-8B', 'results_2026-07-08T16-04-34.219874.json');

describe('runs/compare eval rows and their eval jobs', () => {
  const { dir, store } = useTempStore('keel-compare-evals-');
  const train: Run[] = [];

  /**
   * A train run with a checkpoint, evaluated (belief acc `belief`) by an eval job that ended
   * `status`. `link`: how the results know their job — `produced` (the job's id passed to the
   * ingest), `folder` (as dispatch does today: the job's `evaluated_by` edge, and the results
   * in its job folder, named by its run id), or none (results Keel only read).
   */
  async function evaluatedRun(name: string, status: 'succeeded' | 'failed' | null, belief: number, link: 'produced' | 'folder' | null = status && 'produced'): Promise<Run> {
    const run = store.runs.create({ projectId: null, source: 'import', name, status: 'succeeded' });
    const location = join(dir, name, 'checkpoint-20');
    mkdirSync(location, { recursive: true });
    const { checkpoint } = store.checkpoints.upsert({ location, kind: 'adapter', runId: run.id, step: 20 });
    store.lineage.addEdge({ kind: 'run', id: run.id }, { kind: 'checkpoint', id: checkpoint.id }, EdgeTypes.Produced);
    const doc = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { results: Record<string, Record<string, unknown>>; config: { model_args: unknown } };
    doc.config.model_args = { pretrained: location };
    const belief0 = doc.results.negotiationtom_belief;
    assert.ok(belief0, 'the fixture has negotiationtom_belief');
    belief0['acc,none'] = belief;
    let job: Run | undefined;
    if (status) {
      job = store.runs.create({ projectId: null, source: 'launch', kind: 'eval', name: `${name}-eval`, status: 'running', parentRunId: run.id });
      store.lineage.addEdge({ kind: 'checkpoint', id: checkpoint.id }, { kind: 'run', id: job.id }, EdgeTypes.EvaluatedBy);
      store.runs.setStatus(job.id, status);
    }
    const folder = job && link === 'folder' ? join(dir, 'mirror', job.id, '1', 'outputs', 'lm_eval') : join(dir, name, 'lm_eval');
    mkdirSync(folder, { recursive: true });
    const file = join(folder, 'results.json');
    writeFileSync(file, JSON.stringify(doc));
    const report = await ingestEvalFile(store, file, { projectId: null, ...(job && link === 'produced' ? { runId: job.id } : {}) });
    assert.equal(report.subject?.id, checkpoint.id, `${name}: the results name its checkpoint (${report.issues.join('; ')})`);
    return store.runs.get(run.id) as Run;
  }

  before(async () => {
    train.push(await evaluatedRun('ok', 'succeeded', 0.45));
    train.push(await evaluatedRun('broken', 'failed', 0.95, 'folder'));
    train.push(await evaluatedRun('watched', null, 0.5));
    train.push(await evaluatedRun('stray', 'failed', 0.3, null));
  });

  it('names the eval job of each result, with its status, and none for results Keel only read', () => {
    const c = compareRuns(store, train);
    const row = c.evals.find((e) => e.task === 'negotiationtom_belief' && e.metric === 'acc');
    assert.ok(row);
    const [ok, broken, watched, stray] = train.map((r) => row.perRun[r.id]);
    assert.equal(ok?.evalRun?.status, 'succeeded');
    assert.equal(ok?.evalRun?.name, 'ok-eval');
    assert.equal(broken?.evalRun?.status, 'failed', 'found by its job folder');
    assert.equal(broken?.evalRun?.name, 'broken-eval');
    assert.equal(broken?.value, 0.95);
    assert.equal(watched?.evalRun, null);
    // A failed job of the same checkpoint did not write a results file outside its folder.
    assert.equal(stray?.evalRun, null);
  });

  it('never makes a failed eval job\'s result the best of its row', () => {
    const row = compareRuns(store, train).evals.find((e) => e.task === 'negotiationtom_belief' && e.metric === 'acc');
    // 0.95 (failed job) > 0.5 (watched) > 0.45 > 0.3: the best is the watched run's.
    assert.equal(row?.bestRunId, train[2]?.id);
  });

  it('gives each run its standing by the stderr rule the panel and the CLI show (the failed job\'s result has none)', () => {
    const c = compareRuns(store, train);
    for (const row of c.evals) {
      assert.deepEqual(row.verdicts, Object.fromEntries(rowVerdicts(row, train.map((r) => r.id))), `${row.task} ${row.metric}`);
      assert.equal(row.verdicts?.[train[1]?.id ?? ''] ?? null, null, 'a failed eval job\'s result is never best, tie or ahead');
    }
    const belief = c.evals.find((e) => e.task === 'negotiationtom_belief' && e.metric === 'acc');
    // belief acc carries a stderr of 0.114 in every run: the leader (0.5) is within √2·0.114 of
    // 0.45 — a tie, never "best", though it is the row's leader.
    assert.equal(belief?.bestRunId, train[2]?.id);
    assert.equal(belief?.verdicts?.[train[2]?.id ?? ''], 'tie');
    assert.ok(!Object.values(belief?.verdicts ?? {}).includes('best'));
  });
});

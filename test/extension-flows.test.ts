/**
 * The extension's view and notification logic fed by a real daemon running the
 * examples/tiny-finetune project on the local backend: `projects/init` registers it, a
 * launch succeeds, and what the Runs view, the log terminal, the notifications and the
 * Datasets view would show is checked against what the example really produces.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { KeelClient } from '../daemon/src/client/client.ts';
import type { NotificationOf, Run, RunStatus } from '../daemon/src/protocol/index.ts';
import { TopicHub } from '../extension/src/connection/topics.ts';
import { profileFacts, profileWarnings } from '../extension/src/datasets/profile-warnings.ts';
import { toTerminalText } from '../extension/src/format.ts';
import { countRuns, groupRuns, nestedEvalRuns } from '../extension/src/runs/grouping.ts';
import { runEndNotice, type Notice } from '../extension/src/runs/notify-policy.ts';
import { loadRunPage } from '../extension/src/run-page/run-page-data.ts';
import { runDetailRows } from '../extension/src/runs/run-details.ts';
import { runContextValue, runDescription } from '../extension/src/runs/run-labels.ts';
import { repoRoot, TestHome, waitFor } from './support/keel-home.ts';

describe('extension views on a real tiny-finetune run', () => {
  const h = new TestHome('keel-ext-flows-');
  const root = join(h.dir, 'tiny-finetune');
  let client: KeelClient;
  const hub = new TopicHub((m) => assert.fail(m));
  const statuses: RunStatus[] = [];
  const notices: Notice[] = [];
  const logOffsets: number[] = [];
  let run: Run;

  before(async () => {
    cpSync(join(repoRoot, 'examples', 'tiny-finetune'), root, { recursive: true, filter: (src) => !src.includes(`${join('tiny-finetune', 'outputs')}`) });
    h.keelJson(['daemon', 'start']);
    client = await KeelClient.connect({ socketPath: h.socket, client: { name: 'keel-vscode', version: 'test' } });
    const seen = new Map<string, RunStatus>();
    hub.add('runs', (p: NotificationOf['runs']) => {
      statuses.push(p.status);
      const notice = runEndNotice(seen.get(p.runId), p, 'baseline', { onSuccess: true, onFailure: true, onAlert: true });
      seen.set(p.runId, p.status);
      if (notice) notices.push(notice);
    });
    hub.add('logs', (p) => logOffsets.push(p.offset));
    await hub.attach(client);
  });

  after(() => {
    hub.detach();
    client.close();
    rmSync(root, { recursive: true, force: true });
    h.cleanup();
  });

  it('initializes the copied example as a project and launches baseline locally', async () => {
    const init = await client.call('projects/init', { root });
    assert.equal(init.wroteProjectFile, false, 'the example has its keel.yaml');
    assert.equal(init.project.name, 'tiny-finetune');
    run = (await client.call('runs/launch', { config: join(root, 'configs', 'baseline.yaml'), cwd: root, local: true, gpus: 0, name: 'baseline' })).run;
    assert.equal(run.status, 'queued');
    await waitFor(async () => (await client.call('runs/get', { run: run.id })).run.status === 'succeeded', 120_000, 'the run to succeed');
    await waitFor(() => statuses.includes('succeeded'), 5000, 'the succeeded notification');
    // keel.yaml has an eval command: a finished train run is followed by its eval run.
    await waitFor(async () => {
      const { runs } = await client.call('runs/list', {});
      return runs.length === 2 && runs.every((r) => r.status === 'succeeded');
    }, 120_000, 'the eval run to succeed');
  });

  it('notifies once per run, for the watched transition to succeeded', () => {
    assert.deepEqual(notices.filter((n) => n.runId === run.id), [{ severity: 'info', message: 'Run baseline succeeded.', runId: run.id, actions: ['Compare', 'Show Log'] }]);
    assert.equal(notices.length, 2, 'the eval run too');
    assert.ok(statuses.indexOf('running') < statuses.indexOf('succeeded'));
  });

  it('shows the run under Recent with its host, last step and loss', async () => {
    const { runs } = await client.call('runs/list', { limit: 50 });
    const groups = groupRuns(runs);
    // The eval run Keel made of baseline's best checkpoint sits under baseline, not beside it.
    assert.deepEqual(groups.map((g) => [g.label, g.runs.map((r) => r.name)]), [['Recent', ['baseline']]]);
    assert.deepEqual(nestedEvalRuns(runs, run.id).map((r) => r.name), ['baseline-eval']);
    assert.deepEqual(countRuns(runs), { running: 0, queued: 0 });
    const summary = runs.find((r) => r.id === run.id);
    assert.ok(summary);
    assert.equal(runContextValue(summary), 'keel.run.ended');
    const description = runDescription(summary, summary.endedAt ?? Date.now());
    // Same config and seed give the same metrics (examples/tiny-finetune/README.md).
    assert.equal(description, 'succeeded just now · local · step 250 · loss 0.0439');
  });

  it('expands the run to its datasets, checkpoints and the eval run\'s results', async () => {
    const detail = await client.call('runs/get', { run: run.id });
    const { datasets } = await client.call('datasets/list', {});
    const rows = runDetailRows(detail, new Map(datasets.map((d): [string, string] => [d.id, d.path])));
    assert.deepEqual(rows.map((r) => r.label), ['Config', 'Datasets', 'Code', 'Checkpoints', 'Evals', 'GPU time']);
    // Launched locally on 0 GPUs, one attempt, no cost per hour: no GPU time, said plainly.
    assert.equal(rows[5]?.description, '0.000 GPU-hours');
    assert.match(rows[5]?.tooltip ?? '', /^1 attempt, \d+ (s|min \d+ s) of wall time/);
    assert.deepEqual(rows[1]?.children?.map((r) => [r.label, r.description]).sort(), [['data/eval.jsonl', '56f7dedc · 3.7 KB'], ['data/train.jsonl', 'd83fdc86 · 17.7 KB']]);
    // save_steps 50 over 250 steps; the final weights in the output folder itself are checkpoint-250's (same
    // weights): one model at two locations, not a second "step 250" checkpoint.
    const checkpoints = rows[3]?.children?.map((r) => r.label) ?? [];
    assert.deepEqual([...checkpoints].sort(), ['step 100', 'step 150', 'step 200', 'step 250', 'step 50']);
    assert.equal(checkpoints[0], 'step 50');
    assert.equal(new Set(rows[3]?.children?.map((r) => r.key)).size, 5, 'unique tree ids');
    const last = rows[3]?.children?.at(-1);
    assert.match(last?.description ?? '', /^final model · /);
    assert.match(last?.tooltip ?? '', /\nalso at .*\/outputs$/);
    assert.deepEqual(rows[4]?.children?.map((r) => [r.label, r.description]), [
      ['tiny_reverse', 'acc 0.9871 ± 0.009015'],
      ['tiny_reverse', 'exact_match 0.9429'],
      ['tiny_reverse_hard', 'acc 0.975 ± 0.01336'],
      ['tiny_reverse_hard', 'exact_match 0.8'],
    ]);
  });

  it('reads the whole log from byte 0 for the terminal, with CRLF line ends', async () => {
    const r = await client.call('runs/logs', { run: run.id, offset: 0 });
    assert.equal(r.done, true);
    assert.equal(r.offset, r.size);
    assert.match(r.text, /\{'loss': [\d.]+, 'grad_norm': [\d.]+, 'learning_rate': [\d.e-]+, 'epoch': 0\.4, 'step': 10\}/);
    assert.match(r.text, /Saving model checkpoint to .*checkpoint-250/);
    const term = toTerminalText(r.text);
    assert.equal(/[^\r]\n/.test(term), false, 'every LF has its CR');
    assert.equal(term.split('\r\n').length, r.text.split('\n').length);
    assert.ok(logOffsets.length > 0 && logOffsets.every((o) => o <= r.size), 'logs notifications point inside the log');
  });

  it('gathers the run page: launch spec, metrics, checkpoints, the eval run, lineage and the log\'s end', async () => {
    const page = await loadRunPage(client, run.id);
    assert.equal(page.detail.run.name, 'baseline');
    assert.deepEqual([page.detail.launch?.kind, page.detail.launch?.configPath, page.detail.launch?.overrides], ['train', 'configs/baseline.yaml', []]);
    assert.equal(page.summary?.kind, 'train');
    assert.deepEqual(page.evalRuns.map((r) => [r.name, r.status]), [['baseline-eval', 'succeeded']]);
    assert.ok(page.detail.metrics.some((m) => m.key === 'eval/loss'), 'eval loss under its canonical key');
    // The example writes each log line to metrics.jsonl and trainer_state.json: one series per quantity.
    const keys = page.detail.metrics.map((m) => m.key);
    assert.deepEqual(keys.filter((k) => !/^(train|eval|test)\//.test(k)), [], `every key under its canonical name: ${keys.join(', ')}`);
    // Five checkpoint-N folders; the final model in outputs/ is checkpoint-250's second location.
    assert.equal(page.detail.checkpoints.length, 5);
    const from = new Set(page.lineage?.ancestors.map((n) => n.kind));
    assert.ok(from.has('config') && from.has('dataset_version'), `came from its config and data: ${[...from].join(', ')}`);
    assert.match(page.tail?.lines.at(-1) ?? '', /^Saving model checkpoint to .*outputs$/);
    assert.equal(page.tail?.errorLine, null, 'a run that succeeded has no error line');
    assert.equal(page.tail?.complete, true);
    const evalPage = await loadRunPage(client, page.evalRuns[0]?.id ?? '');
    assert.deepEqual(evalPage.parent, { id: run.id, name: 'baseline' });
  });

  it('shows the dataset profile warnings the example was made to have', async () => {
    const { versions } = await client.call('datasets/show', { ref: 'data/train.jsonl', cwd: root });
    const latest = versions[0];
    assert.ok(latest);
    assert.deepEqual(profileWarnings(latest.profile), ['2 duplicate rows', '1 row with an email address']);
    assert.equal(profileFacts(latest.profile), '200 rows · ~2.1k tokens');
    const evalSet = await client.call('datasets/show', { ref: 'data/eval.jsonl', cwd: root });
    assert.deepEqual(profileWarnings(evalSet.versions[0]?.profile), []);
  });
});

/**
 * The Runs view's pure logic: grouping, counts, labels, the rows a run expands to, command
 * arguments, and when a notification is worth showing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Checkpoint, EvalResult, NotificationOf, RunDetail, RunStatus, RunSummary } from '../../../daemon/src/protocol/index.ts';
import { countRuns, groupRuns, nestedEvalRuns, pendingOnSlurm } from './grouping.ts';
import { alertBadge, runContextValue, runDescription, runIcon, runTooltip } from './run-labels.ts';
import { checkpointLabel, evalValue, runDetailRows } from './run-details.ts';
import { checkpointRefOf, runIdOf, runIdsFromArgs } from './run-args.ts';
import { alertNotice, NoticeLimiter, runEndNotice, type NotifySettings } from './notify-policy.ts';
import { deleteConfirmation, deletedMessage, isDeletable } from './run-deletion.ts';
import { cancelOutcome, cancelQuestion, waitForEnd } from './run-cancel.ts';
import { applyRunDelta, replayDeltas, RunStatusMemory, runOfRow } from './run-deltas.ts';

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);

function run(id: string, status: RunStatus, over: Partial<RunSummary> = {}): RunSummary {
  return {
    id, projectId: 'prj_1', name: id.replace('run_', ''), status, statusReason: null, exitCode: null, unreachableSince: null,
    source: 'launch', configId: null, codeVersionId: null, hostName: 'local', sweepId: null, outputDir: null, priority: 0, gpus: 0,
    createdAt: T0, startedAt: null, endedAt: null, updatedAt: T0, lastLoss: null, lastStep: null, alerts: 0, ...over,
  };
}

describe('groupRuns', () => {
  const runs = [
    run('run_old', 'succeeded', { endedAt: T0 - 3_600_000 }),
    run('run_q1', 'queued', { createdAt: T0 - 20 }),
    run('run_go', 'running', { startedAt: T0 - 5000 }),
    run('run_q2', 'queued', { createdAt: T0 - 10, priority: 5 }),
    run('run_sync', 'syncing', { startedAt: T0 - 1000 }),
    run('run_new', 'failed', { endedAt: T0 - 60_000 }),
    run('run_q3', 'queued', { createdAt: T0 - 30 }),
    run('run_go', 'running', { startedAt: T0 - 5000 }),
  ];

  it('puts running (newest first), queued (queue order) and recent (latest ended first) in that order', () => {
    const groups = groupRuns(runs);
    assert.deepEqual(groups.map((g) => [g.label, g.runs.map((r) => r.id)]), [
      ['Running', ['run_sync', 'run_go']],
      ['Queued', ['run_q2', 'run_q3', 'run_q1']],
      ['Recent', ['run_new', 'run_old']],
    ]);
  });

  it('leaves out empty running/queued groups, caps recent, and gives nothing for no runs', () => {
    assert.deepEqual(groupRuns([run('run_a', 'cancelled'), run('run_b', 'lost')], 1).map((g) => [g.kind, g.runs.length]), [['recent', 1]]);
    assert.deepEqual(groupRuns([]), []);
  });

  it('nests ended eval runs under their train run instead of listing them in Recent', () => {
    const train = run('run_t', 'succeeded', { endedAt: T0 - 60_000 });
    const done = run('run_te', 'succeeded', { kind: 'eval', parentRunId: 'run_t', endedAt: T0 });
    const live = run('run_le', 'running', { kind: 'eval', parentRunId: 'run_t', startedAt: T0 });
    const orphan = run('run_oe', 'failed', { kind: 'eval', parentRunId: 'run_gone', endedAt: T0 });
    const groups = groupRuns([train, done, live, orphan]);
    assert.deepEqual(groups.map((g) => [g.label, g.runs.map((r) => r.id)]), [['Running', ['run_le']], ['Recent', ['run_oe', 'run_t']]]);
    assert.deepEqual(nestedEvalRuns([train, done, live, orphan], 'run_t').map((r) => r.id), ['run_te']);
  });

  it('counts running (incl. syncing/starting) and queued, each run once', () => {
    assert.deepEqual(countRuns(runs), { running: 2, queued: 3 });
    assert.deepEqual(countRuns([run('run_s', 'starting'), run('run_x', 'succeeded')]), { running: 1, queued: 0 });
  });
});

describe('run labels', () => {
  it('describes a running run with its live step and loss first, so a narrow sidebar still shows them', () => {
    assert.equal(runDescription(run('run_a', 'running', { lastStep: 120, lastLoss: 0.43121, lastLossStep: 120 }), T0), 'step 120 · loss 0.4312 · local');
    assert.equal(runDescription(run('run_b', 'queued', { hostName: null }), T0), 'queued');
    assert.equal(runDescription(run('run_c', 'starting', { lastStep: null }), T0), 'starting · local');
  });

  it('gives the loss its own step when it lags the latest step (never "step 30 · loss" of step 20)', () => {
    assert.equal(runDescription(run('run_a', 'running', { lastStep: 30, lastLoss: 0.5, lastLossStep: 20 }), T0), 'step 30 · loss 0.5 @20 · local');
  });

  it('shows overrides the name does not spell, and not those a default name already shows', () => {
    const tuned = run('run_t', 'succeeded', { name: 'nightly', endedAt: T0, overrides: ['learning_rate=0.01', 'lora_r=16'] });
    assert.equal(runDescription(tuned, T0), 'succeeded just now · local · learning_rate=0.01 lora_r=16');
    assert.equal(runDescription({ ...tuned, name: 'lora · lr=0.01 · lora_r=16' }, T0), 'succeeded just now · local');
    assert.match(runTooltip(tuned, T0), /overrides: `learning_rate=0\.01` `lora_r=16`/);
  });

  it('redraws relative times from the clock, not from when the row was made', () => {
    const ended = run('run_e', 'succeeded', { endedAt: T0 });
    assert.equal(runDescription(ended, T0 + 10_000), 'succeeded just now · local');
    assert.equal(runDescription(ended, T0 + 5 * 60_000), 'succeeded 5 min ago · local');
  });

  it('says when a run ended and why it failed', () => {
    const failed = run('run_f', 'failed', { endedAt: T0 - 5 * 60_000, exitCode: 3, lastStep: 40, lastLoss: null });
    assert.equal(runDescription(failed, T0), 'failed 5 min ago · exit 3 · local · step 40 · loss NaN');
    assert.equal(runDescription(run('run_u', 'running', { hostName: 'gpu1', unreachableSince: T0 - 90_000 }), T0), 'gpu1 · host unreachable for 1 min 30 s');
  });

  it('picks icons and context values by status', () => {
    assert.deepEqual(runIcon(run('a', 'succeeded')), { id: 'pass', color: 'testing.iconPassed' });
    assert.deepEqual(runIcon(run('a', 'failed')), { id: 'error', color: 'testing.iconFailed' });
    assert.deepEqual(runIcon(run('a', 'running', { unreachableSince: T0 })), { id: 'debug-disconnect', color: 'list.warningForeground' });
    assert.deepEqual(['queued', 'starting', 'running', 'lost'].map((s) => runContextValue(run('a', s as RunStatus))), ['keel.run.queued', 'keel.run.active', 'keel.run.active', 'keel.run.ended']);
    assert.deepEqual([0, 1, 9, 10, 120].map(alertBadge), [undefined, '1', '9', '9+', '9+']);
  });
});

describe('runs waiting on Slurm', () => {
  // The reasons the daemon's reconcile-slurm.ts writes for a PENDING job and a requeued one.
  const pending = run('run_p', 'starting', { hostName: 'cluster', gpus: 1, statusReason: 'queued on Slurm (Resources)' });
  const requeued = run('run_r', 'starting', { hostName: 'cluster', statusReason: 'requeued by Slurm: job 42 waits to run again (BeginTime)' });

  it('show Slurm\'s reason in the row itself, in place of "starting", with a clock', () => {
    assert.equal(runDescription(pending, T0), 'queued on Slurm (Resources) · cluster');
    assert.equal(runDescription(requeued, T0), 'requeued by Slurm: job 42 waits to run again (BeginTime) · cluster');
    assert.deepEqual(runIcon(pending), { id: 'clock' });
    assert.match(runTooltip(pending, T0), /^\*\*p\*\* — starting: queued on Slurm \\?\(Resources\\?\)/);
  });

  it('stop being pending once running or ended, whatever reason is left', () => {
    assert.equal(pendingOnSlurm({ ...pending, status: 'running' }), false);
    assert.equal(pendingOnSlurm({ ...pending, status: 'cancelled' }), false);
    assert.equal(runDescription({ ...pending, status: 'running', lastStep: 5, lastLoss: 1 }, T0), 'step 5 · loss 1 · cluster');
    assert.deepEqual(runIcon({ ...pending, status: 'running' }), { id: 'sync~spin', color: 'charts.blue' });
  });

  it('are listed and counted as queued, not running, until Slurm starts them', () => {
    const going = run('run_g', 'running', { hostName: 'cluster', startedAt: T0 });
    const groups = groupRuns([pending, requeued, going]);
    assert.deepEqual(groups.map((g) => [g.kind, g.runs.map((r) => r.id)]), [['running', ['run_g']], ['queued', ['run_p', 'run_r']], ['recent', []]]);
    assert.deepEqual(countRuns([pending, requeued, going]), { running: 1, queued: 2 });
    assert.deepEqual(countRuns([{ ...pending, statusReason: null }]), { running: 1, queued: 0 }, 'a starting run with no Slurm reason is on its way');
  });

  it('another waiting run says why after its status', () => {
    assert.equal(runDescription(run('run_q', 'queued', { hostName: null, statusReason: 'waiting for 2 free GPUs' }), T0), 'queued: waiting for 2 free GPUs');
  });
});

describe('incomplete runs', () => {
  const half = run('run_h', 'incomplete', { source: 'import', statusReason: 'import interrupted; run `keel import /data/h` again', lastStep: 40, lastLoss: 0.5 });

  it('say why in the description, warn with the icon, and get their own context value', () => {
    assert.equal(runDescription(half, T0), 'incomplete: import interrupted; run `keel import /data/h` again · local · step 40 · loss 0.5');
    assert.deepEqual(runIcon(half), { id: 'warning', color: 'list.warningForeground' });
    assert.equal(runContextValue(half), 'keel.run.incomplete');
  });

  it('are listed under Recent and are not counted as running', () => {
    assert.deepEqual(groupRuns([half]).map((g) => g.kind), ['recent']);
    assert.deepEqual(countRuns([half]), { running: 0, queued: 0 });
  });
});

describe('deleting a run', () => {
  it('is offered for ended and incomplete runs only', () => {
    assert.deepEqual(['queued', 'syncing', 'running', 'incomplete', 'succeeded', 'failed', 'cancelled', 'lost'].filter((s) => isDeletable({ status: s as RunStatus })),
      ['incomplete', 'succeeded', 'failed', 'cancelled', 'lost']);
  });

  it('asks naming the run, what goes and what stays', () => {
    const c = deleteConfirmation(run('run_w', 'succeeded', { source: 'watch', outputDir: '/p/outputs/w' }));
    assert.equal(c.message, 'Delete run w?');
    assert.match(c.detail, /removes the run's record \(run_w\): its metrics, params, events, jobs, checkpoint records, the evals of those checkpoints and its lineage/);
    assert.match(c.detail, /Files on disk — checkpoints, logs, the output folder — are kept\. Keel will no longer track its output folder \/p\/outputs\/w/);
    assert.doesNotMatch(deleteConfirmation(run('run_l', 'failed')).detail, /no longer track/);
  });

  it('sums up what went', () => {
    const removed = { metricSeries: 2, metricPoints: 1200, params: 3, events: 0, jobs: 1, cursors: 2, checkpoints: 1, lineageEdges: 4, evals: 0, childrenUnlinked: 0 };
    assert.equal(deletedMessage({ run: run('run_w', 'succeeded'), removed, untrackedOutput: '/p/outputs/w' }),
      'Deleted run w (1,200 metric points, 1 checkpoint record); files on disk are kept. Its output folder is no longer tracked: `keel import /p/outputs/w` brings it back.');
  });
});

describe('run details', () => {
  const ckpt = (id: string, step: number | null, location: string): Checkpoint => ({
    id, runId: 'run_a', step, location, hash: 'sha256:5d41402abc4b2a76b9719d911017c592', sizeBytes: 47948, kind: 'full', baseModel: 'tiny-char-lm', createdAt: T0,
  });
  const ev = (id: string, task: string, metric: string, value: number | null, stderr: number | null): EvalResult => ({
    id, subjectKind: 'checkpoint', subjectId: 'ckpt_250', subjectRef: null, groupId: 'evg_1', isGroup: false, task, metric, filter: 'none',
    value, stderr, nShot: 0, higherIsBetter: true, sourcePath: '/p/outputs/evals/results.json', createdAt: T0,
  });
  const detail: RunDetail = {
    run: run('run_a', 'succeeded'),
    params: { learning_rate: 0.05 },
    metrics: [],
    checkpoints: [ckpt('ckpt_final', 250, '/h/jobs/run_a/1/outputs'), ckpt('ckpt_50', 50, '/h/jobs/run_a/1/outputs/checkpoint-50'), ckpt('ckpt_250', 250, '/h/jobs/run_a/1/outputs/checkpoint-250')],
    evals: [ev('eval_2', 'tiny_reverse_hard', 'acc', 0.975, 0.013363062095621218), ev('eval_1', 'tiny_reverse', 'exact_match', 0.9428571428571428, null)],
    config: { id: 'cfg_1', hash: 'sha256:aa11bb22cc33', format: 'yaml', flavor: 'hf_trainer', paths: ['/p/configs/baseline.yaml'], createdAt: T0 },
    codeVersion: { id: 'code_1', projectId: 'prj_1', commit: '1a2b3c4d5e6f', branch: 'main', remote: null, dirty: true, patchHash: 'sha256:ff', createdAt: T0 },
    datasets: [{ id: 'dsv_1', datasetId: 'ds_train', hash: 'sha256:d83fdc86f1aff00', sizeBytes: 17693, fileCount: 1, profile: null, createdAt: T0 }],
  };

  it('lists config, datasets, code, checkpoints and evals in that order', () => {
    const rows = runDetailRows(detail, new Map([['ds_train', 'data/train.jsonl']]), (p) => p.replace('/p/', ''));
    assert.deepEqual(rows.map((r) => [r.label, r.description]), [
      ['Config', 'configs/baseline.yaml · hf_trainer · aa11bb22'],
      ['Datasets', '1'],
      ['Code', 'main @ 1a2b3c4 (dirty)'],
      ['Checkpoints', '3'],
      ['Evals', '2'],
    ]);
    assert.equal(rows[0]?.open, '/p/configs/baseline.yaml');
    assert.deepEqual(rows[1]?.children?.map((r) => [r.label, r.description]), [['data/train.jsonl', 'd83fdc86 · 17.7 KB']]);
  });

  it('orders checkpoints by step, keeps final weights apart from checkpoint-250, and gives unique keys', () => {
    const rows = runDetailRows(detail)[3]?.children ?? [];
    assert.deepEqual(rows.map((r) => r.label), ['step 50', 'step 250 (outputs)', 'step 250']);
    assert.deepEqual(rows.map((r) => r.key), ['ckpt_50', 'ckpt_final', 'ckpt_250']);
    assert.ok(rows.every((r) => r.contextValue === 'keel.checkpoint' && r.checkpoint !== undefined));
    assert.equal(checkpointLabel(ckpt('x', null, '/m/adapter/')), 'adapter');
  });

  it('keeps a deleted checkpoint as history: labelled, without the Pull/Tag menus', () => {
    const gone = { ...ckpt('ckpt_20', 20, '/p/outputs/checkpoint-20'), deletedAt: T0 + 60_000 };
    const final = { ...ckpt('ckpt_60', 60, '/p/outputs/checkpoint-60'), final: true, locations: [{ location: '/p/outputs', role: 'final' as const, deletedAt: null }] };
    const rows = runDetailRows({ ...detail, checkpoints: [final, gone] })[3]?.children ?? [];
    assert.deepEqual(rows.map((r) => [r.label, r.contextValue, r.icon]), [['step 20', 'keel.checkpoint.deleted', 'trash'], ['step 60', 'keel.checkpoint', 'package']]);
    assert.match(rows[0]?.description ?? '', /^deleted from disk · /);
    assert.match(rows[1]?.description ?? '', /^final model · full/);
    assert.match(rows[1]?.tooltip ?? '', /also at \/p\/outputs/);
  });

  it('shows eval values with stderr when known', () => {
    const rows = runDetailRows(detail)[4]?.children ?? [];
    assert.deepEqual(rows.map((r) => [r.label, r.description]), [['tiny_reverse', 'exact_match 0.9429'], ['tiny_reverse_hard', 'acc 0.975 ± 0.01336']]);
    assert.equal(evalValue({ ...ev('e', 't', 'acc', 0.5, null), filter: 'strict-match' }), 'acc (strict-match) 0.5');
  });

  it('ends with GPU time and cost when the daemon reports usage', () => {
    const withCost = runDetailRows({ ...detail, usage: { attempts: 2, seconds: 5400, gpuHours: 3, cost: 7.5 } }).at(-1);
    assert.deepEqual([withCost?.label, withCost?.description], ['GPU time', '3.0 GPU-hours · cost 7.50']);
    assert.match(withCost?.tooltip ?? '', /^2 attempts, 1 h 30 min of wall time/);
    const noRate = runDetailRows({ ...detail, usage: { attempts: 1, seconds: 90, gpuHours: 0.025, cost: null } }).at(-1);
    assert.equal(noRate?.description, '0.025 GPU-hours');
    assert.match(noRate?.tooltip ?? '', /no --cost-per-hour/);
    assert.equal(runDetailRows({ ...detail, usage: null }).at(-1)?.description, 'none yet (no attempt started)');
    assert.equal(runDetailRows({ ...detail, run: { ...detail.run, source: 'watch' }, usage: null }).some((r) => r.label === 'GPU time'), false, 'a watched run had no Keel attempts');
    assert.equal(runDetailRows(detail).some((r) => r.label === 'GPU time'), false, 'a daemon without usage: no row');
  });

  it('says "not recorded" instead of leaving gaps', () => {
    const rows = runDetailRows({ ...detail, config: null, codeVersion: null, datasets: [], checkpoints: [], evals: [] });
    assert.deepEqual(rows.map((r) => r.description), ['not recorded', 'none', 'not recorded', 'none', 'none']);
  });
});

describe('command arguments', () => {
  it('finds run ids in ids, tree nodes and multi-selections', () => {
    assert.equal(runIdOf('run_a'), 'run_a');
    assert.equal(runIdOf({ type: 'run', runId: 'run_b' }), 'run_b');
    assert.equal(runIdOf({ run: { id: 'run_c' } }), 'run_c');
    assert.equal(runIdOf({ type: 'group' }), undefined);
    assert.equal(runIdOf(''), undefined);
    const clicked = { runId: 'run_b' };
    assert.deepEqual(runIdsFromArgs([clicked, [{ runId: 'run_a' }, clicked, { type: 'group' }]]), ['run_b', 'run_a']);
    assert.deepEqual(runIdsFromArgs(['run_x', 'run_y']), ['run_x', 'run_y']);
  });

  it('finds checkpoints in tree nodes and hover links', () => {
    assert.deepEqual(checkpointRefOf('ckpt_9'), { ref: 'ckpt_9' });
    assert.deepEqual(checkpointRefOf({ runId: 'run_a', checkpoint: { id: 'ckpt_250', runId: 'run_a', step: 250 } }), { ref: 'ckpt_250', runId: 'run_a', step: 250 });
    assert.equal(checkpointRefOf({ runId: 'run_a' }), undefined);
  });
});

describe('notifications', () => {
  const defaults: NotifySettings = { onSuccess: false, onFailure: true, onAlert: true };
  const change = (status: RunStatus, statusReason: string | null = null) => ({ runId: 'run_a', status, unreachableSince: null, statusReason });

  it('says nothing when a run becomes incomplete', () => {
    assert.equal(runEndNotice('running', change('incomplete', 'import in progress'), 'b', { onSuccess: true, onFailure: true, onAlert: true }), null);
  });

  it('speaks only on a watched transition into failed or lost by default', () => {
    assert.deepEqual(runEndNotice('running', change('failed', 'exit code 3'), 'baseline', defaults), {
      severity: 'error', message: 'Run baseline failed (exit code 3).', runId: 'run_a', actions: ['Show Log', 'Open Run'],
    });
    assert.equal(runEndNotice('running', change('lost', 'host gpu1 gone'), 'b', defaults)?.message, 'Run b was lost: host gpu1 gone.');
    assert.equal(runEndNotice('running', change('succeeded'), 'b', defaults), null, 'success is quiet by default');
    assert.equal(runEndNotice('running', change('cancelled'), 'b', defaults), null, 'the user cancelled it');
    assert.equal(runEndNotice(undefined, change('failed'), 'b', defaults), null, 'never seen running: an import or an old run');
    assert.equal(runEndNotice('failed', change('failed'), 'b', defaults), null, 'a repeat');
    assert.equal(runEndNotice('queued', change('running'), 'b', defaults), null);
    assert.deepEqual(runEndNotice('running', change('succeeded'), 'b', { ...defaults, onSuccess: true })?.actions, ['Compare', 'Show Log']);
    assert.equal(runEndNotice('running', change('failed'), 'b', { ...defaults, onFailure: false }), null);
  });

  it('quotes the log\'s error line in the one failure notice, with the exit code beside it', () => {
    const notice = runEndNotice('running', change('failed', 'exit code 1'), 'lora', defaults, "OSError: base-models/llama-3-8b is not a local folder");
    assert.equal(notice?.message, 'Run lora failed (exit code 1): OSError: base-models/llama-3-8b is not a local folder.');
    assert.equal(runEndNotice('running', change('failed', 'the wrapper died'), 'lora', defaults)?.message, 'Run lora failed: the wrapper died.');
  });

  it('leaves "run failed" and "run lost" alerts to the run-end notice: one toast per failure', () => {
    const failed = { id: 9, kind: 'run_failed', severity: 'error' as const, runId: 'run_a', message: 'run lora failed with exit code 1: exit code 1' };
    assert.equal(alertNotice(failed, 'lora', defaults), null);
    assert.equal(alertNotice({ ...failed, kind: 'run_lost' }, 'lora', defaults), null);
  });

  it('turns warning and error alerts into notices, not info ones', () => {
    const nan = { id: 7, kind: 'loss_nan', severity: 'error' as const, runId: 'run_a', message: 'loss became NaN at step 40' };
    assert.deepEqual(alertNotice(nan, 'baseline', defaults), { severity: 'error', message: 'Run baseline loss is NaN: loss became NaN at step 40', runId: 'run_a', actions: ['Show Log', 'Open Run'] });
    assert.equal(alertNotice({ ...nan, kind: 'stalled', severity: 'warning', message: 'no new log line or metric for 15 min' }, 'b', defaults)?.message, 'Run b stalled: no new log line or metric for 15 min');
    assert.equal(alertNotice({ ...nan, severity: 'info' }, 'b', defaults), null);
    assert.equal(alertNotice({ ...nan, runId: null }, 'b', defaults), null);
    assert.equal(alertNotice(nan, 'b', { ...defaults, onAlert: false }), null);
  });

  it('shows at most 3 notices per 10 s and counts the rest for one summary', () => {
    const limiter = new NoticeLimiter(3, 10_000);
    const admitted = [0, 1, 2, 3, 4, 9_999, 10_000, 10_001].map((t) => limiter.admit(T0 + t));
    assert.deepEqual(admitted, [true, true, true, false, false, false, true, true]);
    assert.equal(limiter.takeHeld(), 3);
    assert.equal(limiter.takeHeld(), 0);
  });
});

describe('cancelling a run', () => {
  it('asks with buttons that say what they do (no "Cancel" beside "Cancel Run")', () => {
    assert.deepEqual(cancelQuestion({ name: 'lora', status: 'running' }), {
      message: 'Stop run lora?', detail: 'Its processes get TERM, then KILL after the grace period. Checkpoints already written are kept.', stop: 'Stop Run', keep: 'Keep Running',
    });
    assert.equal(cancelQuestion({ name: 'lora', status: 'queued' }).stop, 'Remove from Queue');
  });

  it('says how the run ended, never the status from before the stop', () => {
    assert.equal(cancelOutcome('lora', 'cancelled'), 'Run lora cancelled.');
    assert.equal(cancelOutcome('lora', 'succeeded'), 'Run lora succeeded before it could be stopped.');
    assert.equal(cancelOutcome('lora', null), 'Run lora is still stopping; the Runs view shows when it has.');
  });

  it('waits for the notification that the run ended', async () => {
    const listeners: ((n: { runId: string; status: RunStatus }) => void)[] = [];
    const services = { onNotification: (_t: string, l: (n: { runId: string; status: RunStatus }) => void) => { listeners.push(l); return { dispose: () => listeners.splice(listeners.indexOf(l), 1) }; } };
    const ended = waitForEnd(services as never, 'run_a', 'running', 5_000);
    for (const l of [...listeners]) l({ runId: 'run_b', status: 'cancelled' });
    for (const l of [...listeners]) l({ runId: 'run_a', status: 'running' });
    for (const l of [...listeners]) l({ runId: 'run_a', status: 'cancelled' });
    assert.equal(await ended, 'cancelled');
    assert.equal(listeners.length, 0, 'it stops listening');
    assert.equal(await waitForEnd(services as never, 'run_a', 'running', 10), null, 'gives up after the wait');
  });
});

describe('runs notifications as deltas', () => {
  const note = (row: RunSummary, extra: Partial<NotificationOf['runs']> = {}): NotificationOf['runs'] => ({
    runId: row.id, status: row.status, unreachableSince: null, statusReason: null, run: row, ...extra,
  });

  it('tells a row update from a new run, a status change and a deletion', () => {
    const memory = new RunStatusMemory();
    const a = run('run_a', 'running');
    assert.equal(memory.classify(note(a)), 'new');
    assert.equal(memory.classify(note({ ...a, lastStep: 20 })), 'row');
    assert.equal(memory.classify(note({ ...a, status: 'succeeded' })), 'status');
    assert.equal(memory.classify(note(a, { deleted: true })), 'deleted');
    assert.equal(memory.classify(note(a)), 'new', 'a deleted run is forgotten');
    memory.learn([run('run_b', 'queued')]);
    assert.equal(memory.classify(note(run('run_b', 'queued'))), 'row', 'rows read in full are known');
    memory.clear();
    assert.equal(memory.classify(note(run('run_b', 'queued'))), 'new');
  });

  it('replaces the row in place, drops a deleted run, adds a new one only when admitted, and keeps the array when nothing changed', () => {
    const list = [run('run_a', 'running'), run('run_b', 'succeeded')];
    const updated = applyRunDelta(list, note(run('run_a', 'running', { lastStep: 40, lastLoss: 0.5 })), () => true);
    assert.deepEqual(updated.map((r) => [r.id, r.lastStep]), [['run_a', 40], ['run_b', null]]);
    assert.deepEqual(applyRunDelta(list, note(run('run_b', 'succeeded'), { deleted: true }), () => true).map((r) => r.id), ['run_a']);
    assert.deepEqual(applyRunDelta(list, note(run('run_c', 'queued')), () => true).map((r) => r.id), ['run_c', 'run_a', 'run_b']);
    assert.equal(applyRunDelta(list, note(run('run_c', 'queued')), () => false), list, 'another project\'s run stays out');
    assert.equal(applyRunDelta(list, note(run('run_x', 'failed'), { deleted: true }), () => true), list);
    const { run: _row, ...bare } = note(run('run_a', 'failed'));
    assert.equal(applyRunDelta(list, bare, () => true), list, 'a notification without a row (an older daemon) changes nothing here');
  });

  it('replays what arrived during a full read without undoing what the read found later', () => {
    const read = [run('run_a', 'succeeded', { updatedAt: T0 + 10 }), run('run_b', 'running', { updatedAt: T0, lastStep: 5 })];
    const arrived = [
      note(run('run_a', 'running', { updatedAt: T0 + 5 })), // older than the read: the run has ended since
      note(run('run_b', 'running', { updatedAt: T0, lastStep: 9 })), // same record, newer points
      note(run('run_c', 'queued', { updatedAt: T0 + 20 })), // created while the read was under way
      note(run('run_d', 'failed'), { deleted: true }),
    ];
    const out = replayDeltas([...read, run('run_d', 'failed')], arrived, () => true);
    assert.deepEqual(out.map((r) => [r.id, r.status, r.lastStep]), [['run_c', 'queued', null], ['run_a', 'succeeded', null], ['run_b', 'running', 9]]);
  });

  it('gives the run without its summary fields, as runs/get has it', () => {
    const row = run('run_a', 'running', { lastLoss: 1, lastStep: 2, alerts: 3, lastLossStep: 2, kind: 'eval', parentRunId: 'run_p', overrides: ['x=1'] });
    const bare = runOfRow(row);
    for (const k of ['lastLoss', 'lastStep', 'alerts', 'lastLossStep', 'kind', 'parentRunId', 'overrides']) assert.ok(!(k in bare), k);
    assert.equal(bare.id, 'run_a');
    assert.equal(bare.status, 'running');
  });
});

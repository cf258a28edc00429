/**
 * Deleting runs and showing incomplete ones, through a real daemon, the built CLI and the
 * protocol: `keel run delete` removes an imported run's record (its files stay), refuses an
 * active run without --force and a run whose checkpoint an alias points at, tells
 * subscribers, and makes the run "not found"; `keel runs` and `keel wait` treat an
 * incomplete run as not finished, with its reason.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeelClient } from '../daemon/src/client/client.ts';
import { RpcError, type NotificationOf } from '../daemon/src/protocol/index.ts';
import { Store } from '../daemon/src/store/index.ts';
import { fixturesRoot, TestHome, waitFor } from './support/keel-home.ts';
import { writeProbeProject } from './support/probe-project.ts';

/** A training output folder: TensorBoard events (2,520 points) and, when asked, a finished LoRA checkpoint. */
function outputFolder(root: string, name: string, opts: { checkpoint?: boolean } = {}): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'runs', 'May31_host'), { recursive: true });
  cpSync(join(fixturesRoot, 'tfevents', 'tf1-multi-value-events_lingvo', 'events.out.tfevents.test'), join(dir, 'runs', 'May31_host', 'events.out.tfevents.test'));
  if (opts.checkpoint) {
    const ckpt = join(dir, 'checkpoint-200');
    mkdirSync(ckpt);
    cpSync(join(fixturesRoot, 'checkpoint_layout', 'peft-lora-trl-sft_gpt2_checkpoint-200_adapter_config.json'), join(ckpt, 'adapter_config.json'));
    writeFileSync(join(ckpt, 'adapter_model.safetensors'), Buffer.alloc(4096, 1));
    writeFileSync(join(dir, 'train_results.json'), '{"train_loss": 0.5}\n');
  }
  return dir;
}

interface Detail { run: { id: string; status: string }; checkpoints: { id: string; location: string }[] }

describe('deleting runs', () => {
  const h = new TestHome('keel-run-delete-');
  let client: KeelClient;
  const notes: NotificationOf['runs'][] = [];
  before(async () => {
    h.keelJson(['daemon', 'start']);
    client = await KeelClient.connect({ socketPath: h.socket, client: { name: 'test', version: '0' } });
    client.on('runs', (n) => notes.push(n));
    await client.call('subscriptions/add', { topics: ['runs'] });
  });
  after(() => {
    client.close();
    assert.equal(h.integrity(), 'ok');
    h.cleanup();
  });

  it('refuses a run whose checkpoint an alias points at, naming the alias, then deletes it once the alias moved; subscribers hear each move', async () => {
    const moves: NotificationOf['models'][] = [];
    client.on('models', (n) => moves.push(n));
    await client.call('subscriptions/add', { topics: ['models'] });
    const tagged = h.keelJson<{ runId: string }>(['import', outputFolder(h.dir, 'tagged', { checkpoint: true })]).runId;
    const other = h.keelJson<{ runId: string }>(['import', outputFolder(h.dir, 'other', { checkpoint: true })]).runId;
    const ckpt = h.keelJson<Detail>(['run', 'show', tagged]).checkpoints[0];
    assert.ok(ckpt, 'the import found the checkpoint');
    h.keelJson(['tag', ckpt.id, 'prod']);
    const refused = h.keel(['run', 'delete', tagged]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /"prod" → ckpt_\w+ \(step 200\); point the alias at another checkpoint first \(`keel tag CHECKPOINT ALIAS`\)/);
    const otherCkpt = h.keelJson<Detail>(['run', 'show', other]).checkpoints[0];
    h.keelJson(['tag', otherCkpt?.id ?? '', 'prod']);
    h.keelJson(['tag', otherCkpt?.id ?? '', 'prod']); // no move: no notification
    // `keel tag` in a terminal is another client: the Models view of every window hears of it.
    await waitFor(() => moves.length >= 2, 5000, 'the models notifications');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(moves.map((m) => [m.alias, m.checkpointId]), [['prod', ckpt.id], ['prod', otherCkpt?.id]]);
    const out = h.keel(['run', 'delete', tagged]);
    assert.equal(out.code, 0, out.stderr);
    // 2,520 event-file points; train_results.json's train_loss is a summary value of the run, not a point.
    assert.match(out.stdout, /^Deleted run tagged \(run_\w+\): 2,520 metric points in \d+ series, 1 checkpoint record, 0 eval results/);
    assert.match(out.stdout, /Files on disk \(checkpoints, logs, output folders\) are untouched\./);
    assert.ok(out.stdout.includes(`Its output folder ${join(h.dir, 'tagged')} still exists; Keel will not track it again unless you \`keel import ${join(h.dir, 'tagged')}\`.`));
    assert.ok(existsSync(join(h.dir, 'tagged', 'checkpoint-200', 'adapter_model.safetensors')), 'the files stay');
    const show = h.keel(['run', 'show', tagged]);
    assert.equal(show.code, 1);
    assert.match(show.stderr, /no run "run_\w+"/);
    assert.ok(!h.keelJson<{ runs: { id: string }[] }>(['runs']).runs.some((r) => r.id === tagged));
  });

  it('deletes a watched or imported run that is still running (nothing of Keel\'s runs for it), tells subscribers, and remembers the folder', async () => {
    const running = h.keelJson<{ runId: string }>(['import', outputFolder(h.dir, 'still-running')]).runId;
    assert.equal(h.keelJson<Detail>(['run', 'show', running]).run.status, 'running');
    const r = await client.call('runs/delete', { run: running });
    assert.equal(r.run.id, running);
    assert.equal(r.removed.metricPoints, 2520);
    assert.equal(r.untrackedOutput, join(h.dir, 'still-running'));
    await waitFor(() => notes.some((n) => n.runId === running && n.deleted === true), 5000, 'the deletion notification');
    await assert.rejects(client.call('runs/get', { run: running }), (e: unknown) => e instanceof RpcError && e.code === 'E_NOT_FOUND');
    await assert.rejects(client.call('runs/delete', { run: running }), (e: unknown) => e instanceof RpcError && e.code === 'E_NOT_FOUND');
  });

  it('refuses a launched run that is still queued with E_INVALID_STATE and the next step, and deletes it with force', async () => {
    const root = join(h.dir, 'proj');
    writeProbeProject(root, { big: { steps: 1 } });
    h.keelJson(['init', root]);
    // This machine has no GPUs, so a 4-GPU run waits in the queue: active, and Keel's to stop.
    // (--skip-preflight: pre-flight would refuse 4 GPUs on a machine with none, and this test wants the queued run.)
    const queued = h.keelJson<{ run: { id: string } }>(['launch', 'configs/big.json', '--local', '--gpus', '4', '--skip-preflight'], { cwd: root }).run.id;
    await assert.rejects(client.call('runs/delete', { run: queued }), (e: unknown) =>
      e instanceof RpcError && e.code === 'E_INVALID_STATE' && e.message.includes(`keel cancel ${queued}`) && e.message.includes('--force'));
    const r = await client.call('runs/delete', { run: queued, force: true });
    assert.equal(r.run.id, queued);
    await assert.rejects(client.call('runs/get', { run: queued }), (e: unknown) => e instanceof RpcError && e.code === 'E_NOT_FOUND');
  });


  it('an explicit import of a deleted run\'s folder records it again', () => {
    const again = h.keelJson<{ runId: string; created: boolean; points: number }>(['import', join(h.dir, 'still-running')]);
    assert.equal(again.created, true);
    assert.equal(again.points, 2520);
  });
});

describe('a deleted watched run stays deleted', () => {
  const h = new TestHome('keel-run-tombstone-');
  after(() => h.cleanup());

  it('the watcher does not bring back a run the user deleted while its folder keeps changing; `keel import` does, on purpose', async () => {
    const root = join(h.dir, 'proj');
    const out = join(root, 'outputs', 'run1');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(root, 'keel.yaml'), 'name: tomb\noutputs: [outputs/*]\n');
    writeFileSync(join(out, 'metrics.jsonl'), '{"step": 1, "loss": 1.0}\n');
    h.keelJson(['init', root]);
    const real = realpathSync(out);
    const ofFolder = (): { id: string }[] => h.keelJson<{ runs: { id: string; outputDir: string | null }[] }>(['runs']).runs.filter((r) => r.outputDir === real);
    await waitFor(() => ofFolder().length === 1, 20_000, 'the watched run');
    const id = ofFolder()[0]?.id ?? '';
    const deleted = h.keel(['run', 'delete', id]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /will not track it again unless you `keel import/);
    for (let step = 2; step <= 4; step++) {
      appendFileSync(join(out, 'metrics.jsonl'), `{"step": ${step}, "loss": ${1 / step}}\n`);
      await new Promise((r) => setTimeout(r, 700));
    }
    await new Promise((r) => setTimeout(r, 2_000));
    assert.deepEqual(ofFolder(), [], 'no run was re-created for the deleted run\'s folder');
    const again = h.keelJson<{ created: boolean; points: number }>(['import', out]);
    assert.equal(again.created, true);
    assert.equal(again.points, 4);
  });
});

describe('incomplete runs in the CLI', () => {
  const h = new TestHome('keel-incomplete-');
  let runId = '';
  before(() => {
    mkdirSync(h.home, { mode: 0o700 });
    const store = new Store(h.db);
    const run = store.runs.create({ projectId: null, name: 'half-imported', source: 'import', status: 'incomplete', statusReason: 'import in progress', outputDir: '/data/half' });
    runId = run.id;
    store.close();
  });
  after(() => {
    assert.equal(h.integrity(), 'ok');
    h.cleanup();
  });

  it('`keel runs` shows the status with its reason', () => {
    const out = h.keel(['runs']);
    assert.equal(out.code, 0, out.stderr);
    // The daemon found it interrupted at start (its folder is gone, so there is nothing to resume).
    assert.match(out.stdout, /half-imported\s+incomplete \(import interrupted; run `keel import \/data\/half` again\)/);
  });

  it('`keel wait` does not treat it as finished', () => {
    const r = h.keel(['wait', runId, '--timeout', '1']);
    assert.equal(r.code, 124);
    assert.match(r.stdout, /still incomplete \(timed out\)/);
  });

  it('it can be deleted without --force', () => {
    const r = h.keelJson<{ removed: { metricPoints: number }; untrackedOutput: string | null }>(['run', 'delete', runId]);
    assert.deepEqual([r.removed.metricPoints, r.untrackedOutput], [0, null], 'no folder on disk, so nothing to remember');
  });
});

/**
 * Chains without the daemon on a real Slurm cluster (test/support/slurm-cluster.ts): the eval
 * after a train run is submitted at once with `--dependency=afterok:<train job>`, so the train
 * and then the eval run on the cluster while no daemon is up; after a restart both are settled
 * and the eval is linked to the train run's checkpoint. A train job that fails: Slurm never
 * runs the eval, and the eval run says why.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { isAlive, waitFor } from './support/keel-home.ts';
import { SlurmCluster } from './support/slurm-cluster.ts';
import { slurmSuite } from './support/slurm-suite.ts';

interface RunJson { id: string; name: string; status: string; statusReason: string | null; exitCode: number | null; parentRunId?: string | null }

/** The eval: records when it ran and what it found at its checkpoint, and writes HF-style eval results. */
const EVAL_PY = `
import json, os, sys, time
args = sys.argv[1:]
ck = args[args.index('--checkpoint') + 1]
out = args[args.index('--out') + 1]
os.makedirs(out, exist_ok=True)
info = {'start': time.time(), 'slurmJob': os.environ.get('SLURM_JOB_ID'), 'checkpoint': ck,
        'found': sorted(os.listdir(ck)) if os.path.isdir(ck) else None}
json.dump({'eval_loss': 0.25, 'epoch': 1.0}, open(os.path.join(out, 'eval_results.json'), 'w'))
json.dump(info, open(os.path.join(out, 'eval-info.json'), 'w'))
print('eval done', flush=True)
`;

describe('eval chained to its train job on a real Slurm cluster (afterok)', () => {
  const cluster = new SlurmCluster();
  const s = slurmSuite<RunJson>(cluster, 'keel-slurm-chain-');
  const { h, root, jobDir, runs, wait } = s;
  const launch = (config: string): string => s.launch([config, '--gpus', '1']);
  const evalOf = (trainId: string): RunJson | undefined => runs().find((r) => r.parentRunId === trainId);
  const slurmIdOf = (runId: string): string => cluster.slurm('squeue', ['-h', '-t', 'all', '-n', `keel-${runId}-1`, '-o', '%i']).trim();

  before(() => s.setUp({
    train: { steps: 80, sleep: 0.3, checkpoint: true },
    broken: { steps: 60, sleep: 0.3, exit: 3 },
  }, () => {
    writeFileSync(join(root, 'eval.py'), EVAL_PY);
    appendFileSync(join(root, 'keel.yaml'), 'eval:\n  command: python3 eval.py --checkpoint {checkpoint} --out {output_dir}\n');
    execFileSync('git', ['add', 'eval.py', 'keel.yaml'], { cwd: root });
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=T', 'commit', '-qm', 'eval'], { cwd: root });
  }));
  after(() => s.tearDown());

  it('the eval is submitted with afterok before the train job ends, and both run on the cluster with the daemon stopped', async () => {
    const trainId = launch('configs/train.json');
    let evalId = '';
    await waitFor(() => {
      evalId = evalOf(trainId)?.id ?? '';
      return evalId !== '' && slurmIdOf(evalId) !== '';
    }, 90_000, 'the eval run submitted to Slurm');
    const trainSlurm = slurmIdOf(trainId);
    const evalSlurm = slurmIdOf(evalId);
    // Submitted behind the train job, which has not ended yet.
    const trainState = cluster.slurm('squeue', ['-h', '-j', trainSlurm, '-o', '%T']).trim();
    assert.match(trainState, /^(PENDING|RUNNING)$/, 'the train job is still in the queue');
    assert.equal(cluster.slurm('squeue', ['-h', '-j', evalSlurm, '-o', '%E']).trim(), `afterok:${trainSlurm}(unfulfilled)`);
    assert.match(cluster.slurm('scontrol', ['show', 'job', evalSlurm]), /KillOInInvalidDependent=Yes/);
    await waitFor(() => /queued on Slurm \(Dependency\)/.test(evalOf(trainId)?.statusReason ?? ''), 20_000, 'the eval shown pending on its dependency');

    // The laptop sleeps: no daemon from here until both jobs ended on the cluster.
    const pid = h.daemonPid();
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !isAlive(pid), 10_000, 'the daemon gone');
    await waitFor(() => cluster.slurm('sacct', ['-X', '-n', '-P', '-j', evalSlurm, '-o', 'State']).trim() === 'COMPLETED', 120_000, 'the eval job completed on the cluster');
    assert.ok([undefined, pid].includes(h.daemonPid()) && !isAlive(pid), 'no daemon ran meanwhile');
    const trainInfo = JSON.parse(readFileSync(join(jobDir(trainId), 'outputs', 'info.json'), 'utf8')) as { end: number };
    const evalInfo = JSON.parse(readFileSync(join(jobDir(evalId), 'outputs', 'eval-info.json'), 'utf8')) as { start: number; slurmJob: string; found: string[] | null; checkpoint: string };
    assert.equal(evalInfo.slurmJob, evalSlurm);
    assert.ok(evalInfo.start >= trainInfo.end, 'the eval ran after the train job');
    assert.equal(evalInfo.checkpoint, join(jobDir(trainId), 'outputs'));
    assert.ok(evalInfo.found?.includes('checkpoint-80'), `the eval saw the train job's checkpoint: ${JSON.stringify(evalInfo.found)}`);

    // The daemon back: both settled, the eval linked to the train run's checkpoint, its results read.
    const train = wait(trainId);
    assert.equal(train.status, 'succeeded', train.statusReason ?? '');
    const ev = wait(evalId);
    assert.equal(ev.status, 'succeeded', ev.statusReason ?? '');
    assert.equal(runs().filter((r) => r.parentRunId === trainId).length, 1, 'one eval, not a second one after the train run ended');
    assert.equal(cluster.jobIdsNamed(`keel-${evalId}-1`).length, 1, 'one eval job on the cluster');
    const detail = h.keelJson<{ checkpoints: { id: string; location: string }[] }>(['run', 'show', trainId]);
    const ckpt = detail.checkpoints.find((c) => c.location.endsWith('/checkpoint-80'));
    assert.ok(ckpt, JSON.stringify(detail.checkpoints));
    await waitFor(() => {
      const db = new Database(h.db, { readonly: true, fileMustExist: true });
      try {
        return db.prepare("SELECT count(*) FROM lineage_edges WHERE from_kind = 'checkpoint' AND from_id = ? AND to_kind = 'run' AND to_id = ? AND type = 'evaluated_by'").pluck().get(ckpt.id, evalId) === 1;
      } finally {
        db.close();
      }
    }, 20_000, 'the eval linked to the checkpoint');
    // Its eval_results.json came back from the cluster and was read into the eval run.
    const summary = h.keelJson<{ summary?: { key: string; value: number | null }[] }>(['run', 'show', evalId]).summary ?? [];
    assert.ok(summary.some((v) => /eval.loss/.test(v.key) && v.value === 0.25), `the eval's results are read: ${JSON.stringify(summary)}`);
  });

  it('a train job that fails: Slurm never runs the eval, and the eval run ends cancelled saying why', async () => {
    const trainId = launch('configs/broken.json');
    let evalId = '';
    await waitFor(() => {
      evalId = evalOf(trainId)?.id ?? '';
      return evalId !== '' && slurmIdOf(evalId) !== '';
    }, 90_000, 'the eval run submitted to Slurm');
    const train = wait(trainId);
    assert.equal(train.status, 'failed');
    assert.equal(train.exitCode, 3);
    const ev = wait(evalId);
    assert.equal(ev.status, 'cancelled', JSON.stringify(ev));
    assert.match(ev.statusReason ?? '', /never ran this eval.*DependencyNeverSatisfied/);
    assert.ok(!existsSync(join(jobDir(evalId), 'outputs', 'eval-info.json')), 'the eval never ran');
    const evalSlurm = slurmIdOf(evalId);
    assert.match(cluster.slurm('sacct', ['-X', '-n', '-P', '-j', evalSlurm, '-o', 'State']).trim(), /^CANCELLED/, 'Slurm cancelled it');
  });
});

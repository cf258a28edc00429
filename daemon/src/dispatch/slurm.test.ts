/**
 * The pure parts of Slurm dispatch: the sbatch options a launch becomes, the values refused
 * before they could reach sbatch, GRES counts, and how one poll's squeue/sacct/job-dir answer
 * is read (sacct empty = not known yet; a final state from either source wins; the job id
 * matched, never the name). The states and outputs here are the formats Slurm 22.05 printed
 * on the test cluster (test/dispatch-slurm.test.ts runs the real thing).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isFinalSlurmState, parseSlurmPoll, sbatchOptions, slurmJobName, slurmValueProblem, slurmViewOf, tresGpus } from './slurm.ts';

describe('sbatch options', () => {
  it('GPUs as GRES, the launch\'s limits, the host\'s account and QOS; a launch\'s partition wins over the host\'s', () => {
    assert.deepEqual(sbatchOptions({ partition: 'gpu', account: 'proj1', qos: 'high' }, 2, { time: '04:00:00', cpus: 16, mem: '64G' }),
      ['--gres=gpu:2', '--time=04:00:00', '--partition=gpu', '--cpus-per-task=16', '--mem=64G', '--account=proj1', '--qos=high']);
    assert.deepEqual(sbatchOptions({ partition: 'gpu', account: null, qos: null }, 0, { partition: 'debug' }), ['--partition=debug']);
    assert.deepEqual(sbatchOptions(null, 1, {}), ['--gres=gpu:1']);
    assert.equal(slurmJobName('run_abc', 2), 'keel-run_abc-2');
  });

  it('an eval chained to its train job: afterok on that job id, cancelled by Slurm when it can never run; a bad id is refused', () => {
    assert.deepEqual(sbatchOptions(null, 1, {}, '4242'), ['--dependency=afterok:4242', '--kill-on-invalid-dep=yes', '--gres=gpu:1']);
    assert.deepEqual(sbatchOptions(null, 0, {}, '17_3'), ['--dependency=afterok:17_3', '--kill-on-invalid-dep=yes']);
    assert.throws(() => sbatchOptions(null, 1, {}, '1;scancel -u x'), /not a Slurm job id/);
  });

  it('refuses values that are not what sbatch takes (so none can smuggle shell or another option)', () => {
    for (const [field, value] of [['partition', 'gpu;rm -rf ~'], ['partition', '--wrap=id'], ['account', 'a b'], ['qos', '$(id)'], ['time', '1 hour'], ['time', '4:00:00;x'], ['mem', '64 G'], ['mem', '-1']] as const) {
      assert.ok(slurmValueProblem(field, value), `${field} ${value} refused`);
    }
    for (const [field, value] of [['partition', 'gpu,gpu-long'], ['account', 'proj_1.x'], ['time', '30'], ['time', '00:01:00'], ['time', '2-12'], ['time', '1-00:00:00'], ['mem', '16000M'], ['mem', '64G']] as const) {
      assert.equal(slurmValueProblem(field, value), null, `${field} ${value} taken`);
    }
    assert.match(slurmValueProblem('time', 'soon') ?? '', /HH:MM:SS/);
  });

  it('counts GPUs in sacct\'s AllocTRES (the untyped count; typed ones repeat it)', () => {
    assert.equal(tresGpus('billing=1,cpu=1,gres/gpu=1,node=1'), 1);
    assert.equal(tresGpus('cpu=8,gres/gpu:a100=4,gres/gpu=4,mem=64G'), 4);
    assert.equal(tresGpus('billing=1,cpu=1,node=1'), 0);
    assert.equal(tresGpus(''), 0);
  });
});

describe('reading a Slurm poll', () => {
  const job = (dir: string, state: string): string => `KEEL_JOB ${dir}\nKEEL_STATE ${state}\nKEEL_HEARTBEAT 1\nKEEL_LOG_SIZE 10\nKEEL_CANCEL no\n`;

  it('squeue live, sacct final with its exit code, job dirs as probe.sh reports them', () => {
    const out = [
      'Welcome to the cluster!', // a banner: ignored
      'KEEL_SQ 12|RUNNING|None', 'KEEL_SQ 13|PENDING|Resources', 'KEEL_SQ 14|COMPLETED|None', 'KEEL_SQ 17_2|PENDING|JobArrayTaskLimit', 'KEEL_SQUEUE ok',
      'KEEL_POS 13|2|7|gpu', 'KEEL_POS 17_2|7|7|gpu,debug', 'KEEL_POS 18|x|7|gpu', // a malformed line: ignored
      'KEEL_SA 12|RUNNING|0:0', 'KEEL_SA 14|FAILED|3:0|41|billing=2,cpu=2,gres/gpu=2,gres/gpu:a100=2,node=1', 'KEEL_SA 15|CANCELLED by 0|0:15', 'KEEL_SACCT ok',
      job('/s/a', 'running 0') + job('/s/b', 'finished 3') + 'KEEL_END',
    ].join('\n');
    const poll = parseSlurmPoll(out, true);
    assert.deepEqual(slurmViewOf(poll, '12'), { state: 'RUNNING', reason: null, exitCode: null }, 'the live state from squeue');
    assert.deepEqual(slurmViewOf(poll, '13'), { state: 'PENDING', reason: 'Resources', exitCode: null });
    assert.deepEqual(slurmViewOf(poll, '14'), { state: 'FAILED', reason: null, exitCode: { code: 3, signal: 0 }, accounted: { seconds: 41, gpus: 2 } }, 'sacct\'s final state, with the exit code and what it used');
    assert.equal(slurmViewOf(poll, '15')?.state, 'CANCELLED by 0');
    assert.ok(isFinalSlurmState('CANCELLED by 0'), 'states match by prefix');
    assert.equal(slurmViewOf(poll, '16'), null, 'known to neither: not known yet');
    assert.deepEqual([...poll.positions], [['13', { position: 2, pending: 7, partition: 'gpu' }], ['17_2', { position: 7, pending: 7, partition: 'gpu,debug' }]], 'pending jobs\' places in their partition\'s queue');
    assert.deepEqual(poll.probe.jobs.map((j) => [j.jobDir, j.state]), [['/s/a', { state: 'running', pid: 0 }], ['/s/b', { state: 'finished', exitCode: 3 }]]);
    assert.equal(poll.probe.complete, true);
  });

  it('a final state in squeue wins over a live one sacct has not caught up with', () => {
    const poll = parseSlurmPoll('KEEL_SQ 20|TIMEOUT|TimeLimit\nKEEL_SQUEUE ok\nKEEL_SA 20|RUNNING|0:0\nKEEL_SACCT ok\nKEEL_END', true);
    assert.equal(slurmViewOf(poll, '20')?.state, 'TIMEOUT');
    assert.ok(!isFinalSlurmState('PENDING') && !isFinalSlurmState('REQUEUED') && !isFinalSlurmState('PREEMPTED'), 'requeues are not ends');
  });

  it('without slurmdbd: sacct unusable (said why), squeue alone decides; a failed squeue judges nothing', () => {
    const poll = parseSlurmPoll('KEEL_SQ 30|COMPLETED|None\nKEEL_SQUEUE ok\nKEEL_SACCT no sacct: Slurm accounting storage is disabled\nKEEL_END', true);
    assert.equal(poll.sacct, null);
    assert.match(poll.sacctError ?? '', /accounting storage is disabled/);
    assert.equal(slurmViewOf(poll, '30')?.state, 'COMPLETED');
    const down = parseSlurmPoll('KEEL_SQUEUE no slurm_load_jobs error: Unable to contact slurm controller\nKEEL_END', false);
    assert.equal(down.squeue, null);
    assert.equal(slurmViewOf(down, '30'), null);
  });
});

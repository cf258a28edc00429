/**
 * The client's Slurm rules are the daemon's: the launch wizard refuses exactly the time limits
 * `runs/launch` would refuse, and counts a partition's GPUs as the daemon does.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SLURM_NAME, gresGpus, slurmValueProblem } from '../dispatch/slurm.ts';
import { SLURM_PARTITION, gresGpuCount, slurmTimeProblem } from './slurm-values.ts';

describe('Slurm values shared with clients', () => {
  it('use the same time-limit rule as the daemon', () => {
    for (const t of ['30', '30:00', '02:00:00', '1-00', '1-12:00', '2-00:00:00', '', '2h', '02:00:00:00', '-1', '1:2', ' 02:00:00']) {
      assert.equal(slurmTimeProblem(t) === null, slurmValueProblem('time', t) === null, t);
    }
    assert.match(slurmTimeProblem('2h') ?? '', /not a Slurm time limit.*02:00:00/);
  });

  it('take one partition name as the daemon takes a Slurm name', () => {
    assert.equal(SLURM_PARTITION.source, SLURM_NAME.source);
  });

  it('count GRES GPUs as the daemon does', () => {
    for (const g of ['gpu:4', 'gpu:a100:2(S:0),gpu:v100:1', '(null)', '', 'gpu:tesla:8,mps:100']) assert.equal(gresGpuCount(g), gresGpus(g), g);
    assert.equal(gresGpuCount('gpu:a100:2(S:0),gpu:v100:1'), 3);
  });
});

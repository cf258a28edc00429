/**
 * The Slurm rules the launch wizard checks as the user types (and the daemon checks launches
 * with: dispatch/slurm.ts builds on these), each against values sbatch takes or refuses.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SLURM_PARTITION, gresGpuCount, slurmTimeProblem } from './slurm-values.ts';

describe('Slurm values shared with clients (the daemon checks launches with the same ones: dispatch/slurm.ts)', () => {
  it('takes the time limits sbatch takes, and says what one looks like', () => {
    for (const ok of ['30', '30:00', '02:00:00', '1-00', '1-12:00', '2-00:00:00']) assert.equal(slurmTimeProblem(ok), null, ok);
    for (const bad of ['', '2h', '02:00:00:00', '-1', '1:2', ' 02:00:00']) assert.notEqual(slurmTimeProblem(bad), null, bad);
    assert.match(slurmTimeProblem('2h') ?? '', /not a Slurm time limit.*02:00:00/);
  });

  it('takes one partition name: letters, digits, ".", "_", "-"', () => {
    for (const ok of ['gpu', 'a100-80g', 'debug.1_x']) assert.match(ok, SLURM_PARTITION);
    for (const bad of ['', 'a b', 'gpu;id', '-x', 'gpu,debug']) assert.doesNotMatch(bad, SLURM_PARTITION);
  });

  it('counts GRES GPUs, typed or not, and none in other GRES', () => {
    assert.deepEqual(['gpu:4', 'gpu:a100:2(S:0),gpu:v100:1', '(null)', '', 'gpu:tesla:8,mps:100'].map(gresGpuCount), [4, 3, 0, 0, 8]);
    assert.deepEqual(['gpu:a100:8(S:0-1)', 'gpu:2,shard:8'].map(gresGpuCount), [8, 2]);
  });
});

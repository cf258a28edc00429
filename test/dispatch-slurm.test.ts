/**
 * Dispatch to a real Slurm cluster (Slurm 22.05, one node with 4 GRES GPUs, slurmdbd on
 * MariaDB; test/support/slurm-cluster.ts brings it up on loopback), reached the way people
 * reach one: ssh to a login node as a non-root user, sbatch/squeue/sacct/scancel there, job
 * directories on the shared filesystem.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { SlurmCluster } from './support/slurm-cluster.ts';

describe('a real Slurm cluster on loopback', () => {
  const cluster = new SlurmCluster();

  before(async () => {
    await cluster.start();
  });

  after(async () => {
    await cluster.stop();
  });

  it('is up: the login user submits over ssh and Slurm hands the job a GPU', () => {
    const ssh = (cmd: string): string => execFileSync('ssh', ['-F', cluster.env.SSH_CONFIG, cluster.env.SSH_ALIAS, cmd], { encoding: 'utf8', timeout: 30_000 });
    assert.match(cluster.slurm('sinfo', ['-h', '-o', '%P %G %a']), /debug\* gpu:4 up/);
    const out = `${cluster.env.SHARED_DIR}/smoke.out`;
    const id = ssh(`sbatch --parsable --gres=gpu:1 --output=${out} --wrap 'echo "gpu=$CUDA_VISIBLE_DEVICES job=$SLURM_JOB_ID"'`).trim().split('\n').at(-1)?.split(';')[0] ?? '';
    assert.match(id, /^\d+$/);
    let text = '';
    for (let i = 0; i < 100 && !/job=/.test(text); i++) {
      execFileSync('sleep', ['0.1']);
      if (existsSync(out)) text = readFileSync(out, 'utf8');
    }
    assert.equal(text.trim(), `gpu=0 job=${id}`);
  });
});

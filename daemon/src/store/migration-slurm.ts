/**
 * The schema change of Slurm hosts, kept apart from migrations.ts so that it stays
 * self-contained (it only adds columns, NULL for every row that exists) and can be ordered
 * before or after another migration. `backend` already allows 'slurm' in both CHECKs (v1).
 *
 *  1. hosts.slurm_json: a Slurm host's submit defaults ({partition, account, qos}); NULL for
 *     local and SSH hosts.
 *  2. jobs.scheduler_job_id: the Slurm job id of an attempt once sbatch (or the look-up by
 *     job name before a resubmit) gave it; NULL for SSH jobs and before submission.
 */
import type { Migration } from './migrate.ts';

const SLURM = `
ALTER TABLE hosts ADD COLUMN slurm_json TEXT;
ALTER TABLE jobs ADD COLUMN scheduler_job_id TEXT;
`;

/** Slurm hosts' defaults and Slurm job ids. */
export const slurmMigration: Migration = {
  title: 'Slurm hosts: submit defaults per host, the Slurm job id of each attempt',
  steps: [SLURM],
};

/**
 * Slurm values a client checks as the user types them (the launch wizard's time limit) and
 * reads from `hosts/check` facts (a partition's GPUs). The daemon checks them again at launch
 * with the same rules (dispatch/slurm.ts uses these).
 */

/** sbatch --time: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS. */
export const SLURM_TIME = /^(\d{1,7}|\d{1,7}:\d{2}|\d{1,4}:\d{2}:\d{2}|\d{1,4}-\d{1,2}(:\d{2}){0,2})$/;

/** One partition name (letters, digits, `.`, `_`, `-`). */
export const SLURM_PARTITION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Why a time limit is not one sbatch takes, or null. */
export function slurmTimeProblem(value: string): string | null {
  return SLURM_TIME.test(value) ? null : `"${value}" is not a Slurm time limit: MM, MM:SS, HH:MM:SS or D-HH[:MM[:SS]] (e.g. 02:00:00)`;
}

/** GPUs in a GRES string: `gpu:4` → 4, `gpu:a100:2(S:0),gpu:v100:1` → 3, `(null)` → 0. */
export function gresGpuCount(gres: string): number {
  let n = 0;
  for (const part of gres.split(',')) {
    const m = /^gpu(?::[^:(]+)?:(\d+)/.exec(part.trim());
    if (m) n += Number(m[1]);
  }
  return n;
}

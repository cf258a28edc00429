/**
 * The host side of Keel's job protocol (design: shared/design/REMOTE-JOBS.md): five bash
 * scripts that need only bash ≥ 4.4, coreutils and util-linux (flock, setsid). The daemon
 * ships them as files and runs them with argument arrays — `ssh host -- <shellCommand([
 * 'bash', script, …args])>` or locally `spawn('bash', [script, …args])`.
 *
 *   run.sh     the wrapper, one per job attempt: `<keel_root>/jobs/<run>/<attempt>/run.sh`
 *   start.sh   `start.sh JOBDIR`            idempotent start
 *   probe.sh   `probe.sh JOBDIR…`           states of many jobs in one round trip
 *   cancel.sh  `cancel.sh JOBDIR [GRACE]`   stop a job
 *   leases.sh  `leases.sh KEEL_ROOT GPU…`   which GPUs are leased
 *
 * The texts are constants: no user data is ever spliced into them. Per-job values reach
 * run.sh through job.env (job-env.ts).
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CANCEL_SH, GPU_LEASES_SH, PROBE_SH, START_SH } from './control-sh.ts';
import { RUN_SH } from './run-sh.ts';

export { CANCEL_SH, GPU_LEASES_SH, PROBE_SH, RUN_SH, START_SH };

/** The file name each script is shipped under. */
export type JobScriptName = 'run.sh' | 'start.sh' | 'probe.sh' | 'cancel.sh' | 'leases.sh';

/** Every job script by its file name. */
export const JOB_SCRIPTS: Readonly<Record<JobScriptName, string>> = {
  'run.sh': RUN_SH,
  'start.sh': START_SH,
  'probe.sh': PROBE_SH,
  'cancel.sh': CANCEL_SH,
  'leases.sh': GPU_LEASES_SH,
};

/**
 * A short hash of all the scripts' text, for a versioned folder on the host
 * (`~/.keel/bin/<version>/`): a host has the current scripts exactly when that folder exists.
 */
export function jobScriptsVersion(): string {
  const hash = createHash('sha256');
  for (const [name, text] of Object.entries(JOB_SCRIPTS)) hash.update(`${name}\0${text}\0`);
  return hash.digest('hex').slice(0, 16);
}

/**
 * Writes the scripts into `dir` (created if needed) and returns their paths. Each file is
 * written to a temporary name and renamed into place, because bash reads a script as it
 * runs it: rewriting a file in place under a running run.sh would feed it the new bytes
 * from the old offset.
 */
export function writeJobScripts(dir: string, names: readonly JobScriptName[] = Object.keys(JOB_SCRIPTS) as JobScriptName[]): string[] {
  mkdirSync(dir, { recursive: true });
  return names.map((name) => {
    const target = join(dir, name);
    const temporary = `${target}.${process.pid}.tmp`;
    writeFileSync(temporary, JOB_SCRIPTS[name], { mode: 0o755 });
    chmodSync(temporary, 0o755); // the mode option is filtered by the umask
    renameSync(temporary, target);
    return target;
  });
}

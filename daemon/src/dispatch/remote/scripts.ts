/**
 * The host side of Keel's job protocol (design: docs/remote-jobs.md): bash scripts that need
 * only bash ≥ 4.4, coreutils and util-linux (flock, setsid). Every script Keel runs on a
 * host is here, shipped as a file into a versioned folder (`<workdir>/bin/<version>/`) by
 * one installer, `installScript`, which the tests run too; the daemon runs them with
 * argument arrays — `ssh host -- <anyShellCommand(['bash', script, …args])>` or locally
 * `bash script …args`. No script text travels as a command-line argument (a csh login shell
 * would reject its newlines).
 *
 *   run.sh        the wrapper, one per job attempt: `<workdir>/jobs/<run>/<attempt>/run.sh`
 *   start.sh      `start.sh JOBDIR`                 idempotent start
 *   probe.sh      `probe.sh JOBDIR…`                states of many jobs in one round trip
 *   cancel.sh     `cancel.sh JOBDIR [GRACE]`        stop a job
 *   leases.sh     `leases.sh LOCK_DIR GPU…`         which GPUs are leased, and by what
 *   cache.sh      `cache.sh ACTION DIR [DIGEST]`    check, hash, seal or drop a cache folder
 *   workspace.sh  `workspace.sh JOBDIR CODE […]`    the job's private working tree
 *   check.sh      `check.sh WORKDIR`                the host check
 *   artifacts.sh  `artifacts.sh OUT ART FINAL`      hash a job's complete checkpoints
 *   slurm.sh      `slurm.sh check|submit|poll|cancel …`  a Slurm login node's side (slurm-sh.ts)
 *
 * The texts are constants: no user data is ever spliced into them. Per-job values reach
 * run.sh through job.env (job-env.ts).
 */
import { createHash } from 'node:crypto';
import { CANCEL_SH, PROBE_SH, START_SH } from './control-sh.ts';
import { GPU_LEASES_SH } from './gpu-sh.ts';
import { CACHE_SH, WORKSPACE_SH } from './cache-sh.ts';
import { ARTIFACTS_SH, CHECK_SH } from './host-sh.ts';
import { RUN_SH } from './run-sh.ts';
import { SLURM_SH } from './slurm-sh.ts';
import { shellQuote } from './quote.ts';

export { ARTIFACTS_SH, CACHE_SH, CANCEL_SH, CHECK_SH, GPU_LEASES_SH, PROBE_SH, RUN_SH, SLURM_SH, START_SH, WORKSPACE_SH };

/** Every job script by its file name. */
export const JOB_SCRIPTS = {
  'run.sh': RUN_SH,
  'start.sh': START_SH,
  'probe.sh': PROBE_SH,
  'cancel.sh': CANCEL_SH,
  'leases.sh': GPU_LEASES_SH,
  'cache.sh': CACHE_SH,
  'workspace.sh': WORKSPACE_SH,
  'check.sh': CHECK_SH,
  'artifacts.sh': ARTIFACTS_SH,
  'slurm.sh': SLURM_SH,
} as const;

/** The file name each script is shipped under. */
export type JobScriptName = keyof typeof JOB_SCRIPTS;

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
 * The installer, run as `bash -s -- DIR` with this text on stdin (never as an argument):
 * writes every script into a temporary folder beside DIR and renames it to DIR with
 * `mv -T` — so a script is never rewritten under a running bash (which reads a script as
 * it runs it), and a DIR that appeared meanwhile is kept, never nested into. Exits 0 when
 * DIR holds the scripts.
 */
export function installScript(): string {
  const files = Object.entries(JOB_SCRIPTS)
    .map(([file, text]) => `printf '%s' ${shellQuote(text)} > "$tmp/${file}" && chmod 700 "$tmp/${file}"`)
    .join(' &&\n  ');
  return [
    'set -u',
    'umask 077',
    'd=$1',
    '[ -d "$d" ] && exit 0',
    'tmp="$d.tmp.$$"',
    'rm -rf -- "$tmp" && mkdir -p -- "$tmp" &&',
    `  ${files} || { rm -rf -- "$tmp"; exit 1; }`,
    'mv -T -- "$tmp" "$d" 2>/dev/null || { rm -rf -- "$tmp"; [ -d "$d" ]; }',
    '',
  ].join('\n');
}

/**
 * job.env: how the daemon hands one job attempt's parameters to run.sh.
 *
 * spec.json is the record (bash cannot parse JSON), job.env is what the wrapper reads: a
 * file of `NAME='value'` lines that run.sh sources. Sourcing runs shell code, so the file
 * is only ever produced here, and every value goes through shellQuote: inside single
 * quotes nothing expands, so sourcing it assigns variables and does nothing else, whatever
 * the values hold (spaces, quotes, `$()`, newlines, any Unicode). Names are checked too.
 *
 * The wrapper's own parameters are plain shell variables (sourced, not exported). The
 * user's environment (keel.yaml `env`) is one bash array, KEEL_JOB_ENV=('NAME=value' …),
 * which run.sh passes through `env` to the setup and the command only — so a user's
 * `IFS` or `BASH_ENV` can never change how the wrapper itself runs. Values are literal:
 * `$HOME/x` stays `$HOME/x`.
 */
import { shellQuote } from './quote.ts';

/** What run.sh needs to run one attempt. Paths are absolute paths on the job's host. */
export interface JobEnvSpec {
  runId: string;
  /** Shell text for `bash -c`, from the code dir: the user's template with each placeholder value already shellQuote'd. */
  command: string;
  /**
   * GPU ids to lease (`GPU-…` UUIDs; an nvidia-smi index from an older Keel also works);
   * empty for a CPU job; null when a scheduler (Slurm) picks the GPUs and sets
   * CUDA_VISIBLE_DEVICES itself. run.sh exports their current nvidia-smi indices.
   */
  gpus: readonly string[] | null;
  /** The GPUs' nvidia-smi indices when the job was placed (run.sh's fallback when nvidia-smi cannot say), in `gpus` order. */
  gpuIndices?: readonly number[];
  /** The machine-wide GPU lock folder (default in run.sh: /tmp/keel-gpu-locks). */
  gpuLockDir?: string;
  /** Where the run writes its outputs (exported as KEEL_OUTPUT_DIR). */
  outputDir: string;
  /** Exported as KEEL_CONFIG; '' when unset. */
  config?: string;
  /** Exported as KEEL_CHECKPOINT; '' when unset. */
  checkpoint?: string;
  /** Run once per code dir before the first command (installs); again only if its text changes. */
  setupCommand?: string;
  /** Keel's folder on the host; run.sh defaults to `$HOME/.keel`. */
  keelRoot?: string;
  /** The code snapshot; run.sh defaults to `<jobdir>/code`. */
  codeDir?: string;
  /** The user's environment for the setup and the command. */
  env?: Readonly<Record<string, string>>;
  /** How often run.sh touches state/heartbeat and polls state/cancel (default 15). */
  heartbeatSeconds?: number;
  /** How long a stopped job has between TERM and KILL (default 30). */
  killGraceSeconds?: number;
  /**
   * The umask for the setup and the command (the user's login umask on the host, `0022`).
   * Keel's own files are private (run.sh runs under 077 and the job folder is 0700); what the
   * job writes elsewhere, say a shared Hugging Face cache, gets the modes the user expects.
   */
  userUmask?: string;
}

/** A job.env that cannot be written as asked. */
export class JobEnvError extends Error {
  override name = 'JobEnvError';
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const GPU_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The text of job.env for `spec`. Throws JobEnvError naming the field that cannot be used. */
export function renderJobEnv(spec: JobEnvSpec): string {
  if (spec.runId === '') throw new JobEnvError('runId is empty');
  if (spec.command.trim() === '') throw new JobEnvError('command is empty');
  for (const gpu of spec.gpus ?? []) {
    if (!GPU_ID.test(gpu)) throw new JobEnvError(`GPU id ${JSON.stringify(gpu)} is not a plain name (letters, digits, ".", "_", "-")`);
  }
  for (const [field, value] of [['keelRoot', spec.keelRoot], ['codeDir', spec.codeDir]] as const) {
    if (value !== undefined && !value.startsWith('/')) throw new JobEnvError(`${field} must be an absolute path, got ${JSON.stringify(value)}`);
  }
  const lines = [
    '# Written by Keel for run.sh, which sources it. Every value is single-quoted.',
    assign('KEEL_RUN_ID', spec.runId),
    assign('KEEL_COMMAND', spec.command),
    assign('KEEL_OUTPUT_DIR', spec.outputDir),
    assign('KEEL_CONFIG', spec.config ?? ''),
    assign('KEEL_CHECKPOINT', spec.checkpoint ?? ''),
  ];
  if (spec.gpus !== null) lines.push(assign('KEEL_GPUS', spec.gpus.join(',')));
  if (spec.gpuIndices !== undefined) {
    if (!spec.gpuIndices.every((i) => Number.isInteger(i) && i >= 0)) throw new JobEnvError(`GPU indices must be whole numbers, got ${JSON.stringify(spec.gpuIndices)}`);
    lines.push(assign('KEEL_GPU_INDICES', spec.gpuIndices.join(',')));
  }
  if (spec.gpuLockDir !== undefined) {
    if (!spec.gpuLockDir.startsWith('/')) throw new JobEnvError(`gpuLockDir must be an absolute path, got ${JSON.stringify(spec.gpuLockDir)}`);
    lines.push(assign('KEEL_GPU_LOCK_DIR', spec.gpuLockDir));
  }
  if (spec.setupCommand !== undefined && spec.setupCommand.trim() !== '') lines.push(assign('KEEL_SETUP_COMMAND', spec.setupCommand));
  if (spec.keelRoot !== undefined) lines.push(assign('KEEL_ROOT', spec.keelRoot));
  if (spec.codeDir !== undefined) lines.push(assign('KEEL_CODE_DIR', spec.codeDir));
  if (spec.heartbeatSeconds !== undefined) lines.push(assign('KEEL_HEARTBEAT_SECONDS', seconds('heartbeatSeconds', spec.heartbeatSeconds)));
  if (spec.killGraceSeconds !== undefined) lines.push(assign('KEEL_KILL_GRACE_SECONDS', seconds('killGraceSeconds', spec.killGraceSeconds)));
  if (spec.userUmask !== undefined) {
    if (!/^[0-7]{3,4}$/.test(spec.userUmask)) throw new JobEnvError(`userUmask must be an octal umask like 0022, got "${spec.userUmask}"`);
    lines.push(assign('KEEL_USER_UMASK', spec.userUmask));
  }
  lines.push(`KEEL_JOB_ENV=(${userEnvWords(spec.env ?? {}).join(' ')})`);
  return `${lines.join('\n')}\n`;
}

function assign(name: string, value: string): string {
  return `${name}=${shellQuote(value)}`;
}

function seconds(field: string, value: number): string {
  // sleep(1) reads plain decimals; no exponents, no negatives.
  if (!Number.isFinite(value) || value < 0.1 || value > 86_400) throw new JobEnvError(`${field} must be between 0.1 and 86400 seconds, got ${value}`);
  return String(Math.round(value * 1000) / 1000);
}

function userEnvWords(env: Readonly<Record<string, string>>): string[] {
  return Object.entries(env).map(([name, value]) => {
    if (!ENV_NAME.test(name)) throw new JobEnvError(`environment variable name ${JSON.stringify(name)} is not a shell name`);
    if (name.startsWith('KEEL_')) throw new JobEnvError(`environment variable ${name}: names starting with KEEL_ are Keel's own`);
    // The job's env is applied after run.sh's exports, so this would undo the GPU lease.
    if (name === 'CUDA_VISIBLE_DEVICES') throw new JobEnvError('environment variable CUDA_VISIBLE_DEVICES is set by Keel from the GPUs it leases');
    return shellQuote(`${name}=${value}`);
  });
}

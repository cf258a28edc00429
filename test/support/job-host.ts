/**
 * Test support for the job-script tests in daemon/src/dispatch/remote: a throwaway "host" in a
 * temp dir — a Keel root, a code dir and the job scripts — and ways to run the scripts for
 * real with bash and to look at processes through /proc, as the scripts themselves do.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { renderJobEnv, type JobEnvSpec } from '../../daemon/src/dispatch/remote/job-env.ts';
import { installScript, type JobScriptName } from '../../daemon/src/dispatch/remote/scripts.ts';
import { parseLeasesOutput } from '../../daemon/src/dispatch/remote/markers.ts';

/** A temp-dir stand-in for a GPU host's `~/.keel` and a code snapshot. */
export interface TestHost {
  keelRoot: string;
  codeDir: string;
  binDir: string;
  /** This host's GPU lock folder (a test's own, instead of the machine-wide one). */
  lockDir: string;
  /** Kills every process group a test started and removes the temp dir. */
  cleanup(): void;
}

const startedGroups = new Set<number>();

/** A fresh host under a temp dir whose name holds `label` (spaces and Unicode welcome). */
export function makeHost(label = 'keel host'): TestHost {
  const base = mkdtempSync(join(tmpdir(), 'keel-remote-'));
  const keelRoot = join(base, label, '.keel');
  const codeDir = join(keelRoot, 'code', 'abc123');
  mkdirSync(codeDir, { recursive: true });
  const binDir = join(keelRoot, 'bin', 'v');
  installScripts(binDir);
  return {
    keelRoot,
    codeDir,
    binDir,
    lockDir: join(keelRoot, 'gpus'),
    cleanup() {
      for (const pgid of startedGroups) signalGroup(pgid, 'SIGKILL');
      startedGroups.clear();
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** Installs the job scripts into `dir` with the daemon's own installer (what hosts.ts ships). */
export function installScripts(dir: string): void {
  mkdirSync(join(dir, '..'), { recursive: true });
  const r = spawnSync('bash', ['-s', '--', dir], { input: installScript(), encoding: 'utf8' });
  assert.equal(r.status, 0, `the installer failed: ${r.stderr}`);
}

/** Writes `<keelRoot>/jobs/<runId>/<attempt>/` with run.sh and a job.env for `spec`. */
export function makeJob(host: TestHost, runId: string, spec: Partial<JobEnvSpec> & { command: string }, attempt = '1'): string {
  const jobDir = join(host.keelRoot, 'jobs', runId, attempt);
  mkdirSync(jobDir, { recursive: true });
  copyFileSync(join(host.binDir, 'run.sh'), join(jobDir, 'run.sh'));
  const full: JobEnvSpec = {
    runId,
    gpus: [],
    outputDir: join(host.keelRoot, 'outputs', runId),
    keelRoot: host.keelRoot,
    codeDir: host.codeDir,
    gpuLockDir: host.lockDir,
    heartbeatSeconds: 1,
    killGraceSeconds: 1,
    ...spec,
  };
  writeFileSync(join(jobDir, 'job.env'), renderJobEnv(full));
  return jobDir;
}

/** Runs `bash <binDir>/<script> args…` to the end and returns its stdout. */
export function runScript(host: TestHost, script: JobScriptName, args: readonly string[], env: Record<string, string> = {}): string {
  const result = spawnSync('bash', [join(host.binDir, script), ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  assert.equal(result.status, 0, `${script} failed: ${result.stderr}`);
  rememberGroups(args);
  return result.stdout;
}

/** Like runScript, but concurrent. */
export async function runScriptAsync(host: TestHost, script: JobScriptName, args: readonly string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', [join(host.binDir, script), ...args], { encoding: 'utf8', timeout: 30_000 });
  rememberGroups(args);
  return stdout;
}

// Whatever a script started is killed at cleanup, so a failed test leaves no sleepers.
function rememberGroups(jobDirs: readonly string[]): void {
  for (const dir of jobDirs) {
    for (const file of ['pid', 'job_pid']) {
      const pgid = Number(readState(dir, file)?.split(' ')[1]);
      if (Number.isInteger(pgid) && pgid > 1) startedGroups.add(pgid);
    }
  }
}

/** The text of `<jobDir>/state/<file>`, or undefined when it does not exist. */
export function readState(jobDir: string, file: string): string | undefined {
  const path = join(jobDir, 'state', file);
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** Polls `check` every 50 ms until it returns a value other than undefined or false. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits for state/exit_code and returns it as a number. */
export async function waitForExit(jobDir: string, timeoutMs = 10_000): Promise<number> {
  return Number(await waitFor(`exit_code in ${jobDir}`, () => readState(jobDir, 'exit_code'), timeoutMs));
}

/** Fields 3… of /proc/<pid>/stat (index 0 is field 3, the state), or undefined. */
export function procStat(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(') ') + 2).trim().split(' ');
  } catch {
    return undefined;
  }
}

/** True while `pid` is a live process (not a zombie). */
export function isAlive(pid: number): boolean {
  const state = procStat(pid)?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** Live (non-zombie) processes whose process group is `pgid`. */
export function groupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      const fields = procStat(pid);
      return fields !== undefined && fields[2] === String(pgid) && fields[0] !== 'Z';
    });
}

/** Live processes whose command line holds `needle`. */
export function processesWith(needle: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle) && isAlive(pid);
      } catch {
        return false;
      }
    });
}

/** Sends `signal` to process group `pgid`; false when there is no such group. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** This boot's id, as the scripts read it. */
export function currentBootId(): string {
  return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
}

/** leases.sh's answer for one GPU, as its state word ('free', 'busy', 'invalid'), or undefined. */
export function leaseState(output: string, gpu: string): string | undefined {
  return parseLeasesOutput(output)?.get(gpu)?.state;
}

/** leases.sh's answer as GPU → state word. */
export function leaseStates(output: string): Map<string, string> | undefined {
  const leases = parseLeasesOutput(output);
  return leases ? new Map([...leases].map(([id, lease]) => [id, lease.state])) : undefined;
}

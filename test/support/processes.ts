/**
 * Real child processes for tests that suspend, signal or race them: output collected as it
 * comes, the exit awaited, and every process a test started ended afterwards — a failed test
 * must not leave a SIGSTOPped client or a lingering daemon behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Proc {
  child: ChildProcess;
  pid: number;
  stdout: () => Buffer;
  stderr: () => string;
  /** Exit code, or null when a signal ended it. */
  exited: Promise<number | null>;
}

const started = new Set<ChildProcess>();

/** Starts `node ARGS` (the test's own Node) with `env`. */
export function startNode(args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  const out: Buffer[] = [];
  let err = '';
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, pid: child.pid ?? -1, stdout: () => Buffer.concat(out), stderr: () => err, exited };
}

/** The exit code of `p`, or — when it runs longer than `ms` — it is killed and this rejects (a hang is a failure, not a stuck test). */
export async function exitWithin(p: Proc, ms: number, what: string): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      p.child.kill('SIGKILL');
      reject(new Error(`${what} did not end within ${ms} ms (stderr: ${p.stderr()})`));
    }, ms);
  });
  try {
    return await Promise.race([p.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Continues and kills every process started here that is still running. */
export function endAllStarted(): void {
  for (const child of started) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
  started.clear();
}

/** Continues and kills a process that is not our child (a background daemon), if it lives. */
export function killHard(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(pid, 'SIGCONT');
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

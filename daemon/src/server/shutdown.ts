/**
 * A shutdown that always ends, and says where it is. Each step (server, dispatcher, tracker,
 * hash pool, store) runs with its own timeout; a slow step is logged and, past its timeout,
 * left behind. The current step is written to `daemon.shutdown.json` in KEEL_HOME, so
 * `keel daemon stop` can tell the user what the daemon still waits for after its socket is
 * gone. When the steps are done and something still holds the event loop (a leaked watcher,
 * a child process), the process logs what and exits explicitly rather than lingering.
 */
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log/logger.ts';

/** One step of the shutdown. */
export interface ShutdownStep {
  name: string;
  run: () => Promise<void> | void;
  timeoutMs: number;
  /** What the step is waiting for right now (e.g. the in-flight requests), for the report. */
  detail?: () => string | null;
}

/** What `daemon.shutdown.json` holds while a daemon stops. */
export interface ShutdownState {
  pid: number;
  reason: string;
  step: string;
  detail: string | null;
  /** When this step started (ms since the epoch). */
  since: number;
}

/** The state file of a stopping daemon (read by `keel daemon stop`). */
export function shutdownStatePath(home: string): string {
  return join(home, 'daemon.shutdown.json');
}

/** The shutdown state written by daemon `pid`, if it is stopping (a stale file of another pid is ignored). */
export function readShutdownState(home: string, pid: number): ShutdownState | undefined {
  try {
    const s = JSON.parse(readFileSync(shutdownStatePath(home), 'utf8')) as Partial<ShutdownState>;
    if (s.pid === pid && typeof s.step === 'string' && typeof s.since === 'number') {
      return { pid, reason: String(s.reason ?? ''), step: s.step, detail: typeof s.detail === 'string' ? s.detail : null, since: s.since };
    }
  } catch {
    /* none, or half-written */
  }
  return undefined;
}

/** Writes and removes this process's shutdown state file. */
export class ShutdownReport {
  private readonly file: string;
  private readonly reason: string;
  private written = false;
  /** The step under way (for the log of a forced exit). */
  current: string | null = null;

  constructor(home: string, reason: string) {
    this.file = shutdownStatePath(home);
    this.reason = reason;
  }

  set(step: string, detail: string | null, since = Date.now()): void {
    this.current = step;
    const state: ShutdownState = { pid: process.pid, reason: this.reason, step, detail, since };
    try {
      // Atomic: the CLI never reads half a file.
      writeFileSync(`${this.file}.tmp`, JSON.stringify(state), { mode: 0o600 });
      renameSync(`${this.file}.tmp`, this.file);
      this.written = true;
    } catch {
      /* the report is a courtesy; the shutdown goes on */
    }
  }

  remove(): void {
    if (!this.written) return;
    try {
      unlinkSync(this.file);
    } catch {
      /* already gone */
    }
  }
}

/** Runs the steps in order, each bounded by its timeout; never rejects. */
export async function runShutdownSteps(steps: readonly ShutdownStep[], log: Logger, report: ShutdownReport): Promise<void> {
  for (const step of steps) {
    const since = Date.now();
    report.set(step.name, step.detail?.() ?? null, since);
    const slow = setTimeout(() => {
      const detail = step.detail?.() ?? null;
      log.warn('shutdown step is slow', { step: step.name, ms: Date.now() - since, detail });
      report.set(step.name, detail, since);
    }, Math.min(2_000, step.timeoutMs / 2));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), step.timeoutMs); });
    const ran = Promise.resolve().then(step.run).then(
      () => 'done' as const,
      (err: unknown) => {
        log.error('shutdown step failed; going on', { step: step.name, error: (err as Error)?.stack ?? String(err) });
        return 'failed' as const;
      },
    );
    const outcome = await Promise.race([ran, timedOut]);
    clearTimeout(slow);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      log.error('shutdown step timed out; going on without it', { step: step.name, timeoutMs: step.timeoutMs, detail: step.detail?.() ?? null });
    }
  }
}

/**
 * Once the shutdown is done the process should end by itself. If it has not after `graceMs`,
 * something still holds the event loop: log what, and exit with `code` anyway, so a stop
 * never leaves a daemon behind that ignores signals (its handlers already ran).
 */
export function exitIfStillAlive(code: number, log: Logger, graceMs = 1_000): void {
  const timer = setTimeout(() => {
    log.warn('exiting with handles still open after shutdown', { handles: countHandles(process.getActiveResourcesInfo()), exitCode: code });
    process.exit(code);
  }, graceMs);
  timer.unref();
}

function countHandles(handles: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const h of handles) counts[h] = (counts[h] ?? 0) + 1;
  return counts;
}

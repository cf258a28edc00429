/**
 * Watches a running daemon while a test does something to it: a `daemon/status` round trip
 * every `intervalMs` from a real client (how long the daemon takes to answer anyone), and
 * the process's resident memory from /proc/<pid>/status.
 */
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import type { KeelClient } from '../../daemon/src/client/client.ts';
import { keelBin, type CliResult, type TestHome } from './keel-home.ts';

/** What a probe saw. */
export interface ProbeFigures {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  peakRssMiB: number;
}

/** VmRSS of a process in MiB (0 once it is gone). */
export function rssMiB(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Infinity;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Infinity;
}

export class DaemonProbe {
  private readonly client: KeelClient;
  private readonly pid: number;
  private readonly intervalMs: number;
  private readonly roundTrips: number[] = [];
  private peakRss = 0;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  private rssTimer: NodeJS.Timeout | undefined;

  constructor(client: KeelClient, pid: number, intervalMs = 20) {
    this.client = client;
    this.pid = pid;
    this.intervalMs = intervalMs;
  }

  start(): this {
    this.peakRss = rssMiB(this.pid);
    this.rssTimer = setInterval(() => (this.peakRss = Math.max(this.peakRss, rssMiB(this.pid))), 25);
    this.loop = this.sample();
    return this;
  }

  private async sample(): Promise<void> {
    while (!this.stopped) {
      const started = performance.now();
      // A status that never comes back counts as one very slow sample, not a hung test.
      await this.client.call('daemon/status', {}, { timeoutMs: 10_000 }).catch(() => undefined);
      this.roundTrips.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, this.intervalMs));
    }
  }

  /** Round trips timed so far. */
  get samples(): number {
    return this.roundTrips.length;
  }

  async stop(): Promise<ProbeFigures> {
    this.stopped = true;
    await this.loop;
    clearInterval(this.rssTimer);
    this.peakRss = Math.max(this.peakRss, rssMiB(this.pid));
    const sorted = [...this.roundTrips].sort((a, b) => a - b);
    return {
      samples: sorted.length, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99),
      maxMs: sorted.at(-1) ?? Infinity, peakRssMiB: this.peakRss,
    };
  }
}

/** Runs `keel ARGS` as a child process without blocking the test's event loop (so a probe keeps sampling). */
export function keelAsync(h: TestHome, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [keelBin, ...args], { cwd: opts.cwd ?? h.dir, env: h.env, encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      });
  });
}

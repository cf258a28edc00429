/** Benchmark helpers: medians, percentiles, and a private KEEL_HOME with a running daemon. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '..');
export const keelBin = join(repoRoot, 'bin', 'keel.js');

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}

export function fmt(n: number, digits = 2): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits });
}

export function tempHome(): { dir: string; home: string; env: NodeJS.ProcessEnv; keel: (args: string[]) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-'));
  const home = join(dir, 'home');
  const env = { ...process.env, KEEL_HOME: home };
  const keel = (args: string[]): string => {
    const r = spawnSync(process.execPath, [keelBin, ...args], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`keel ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  return {
    dir, home, env, keel,
    cleanup: () => {
      spawnSync(process.execPath, [keelBin, 'daemon', 'stop'], { env });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

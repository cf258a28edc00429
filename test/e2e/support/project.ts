/**
 * The e2e workspace and run data: a git-initialised copy of examples/tiny-finetune, and
 * the runs, checkpoints and evals the daemon records for it, read through the real CLI.
 */
import { cpSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { RunComparison, RunDetail, RunSummary } from '../../../daemon/src/protocol/index.ts';
import { repoRoot, type TestHome } from '../../support/keel-home.ts';

/** Copies the example (without outputs or caches) to `dest` and commits it, so runs record a clean commit. */
export function copyExample(dest: string): void {
  const src = join(repoRoot, 'examples', 'tiny-finetune');
  cpSync(src, dest, { recursive: true, filter: (p) => !/\/(outputs|__pycache__)(\/|$)/.test(p.slice(src.length)) });
  const git = (...args: string[]): void => {
    const r = spawnSync('git', ['-c', 'user.name=Keel e2e', '-c', 'user.email=e2e@keel.invalid', '-c', 'init.defaultBranch=main', ...args], { cwd: dest, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
  };
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'tiny-finetune example');
}

export function runs(h: TestHome): RunSummary[] {
  return h.keelJson<{ runs: RunSummary[] }>(['runs']).runs;
}

export function runDetail(h: TestHome, runId: string): RunDetail {
  return h.keelJson<RunDetail>(['run', 'show', runId]);
}

export function compare(h: TestHome, runIds: string[]): RunComparison {
  return h.keelJson<RunComparison>(['compare', ...runIds]);
}

/** Launches `config` on the local backend through the CLI; returns the run id. */
export function launch(h: TestHome, cwd: string, config: string): string {
  return h.keelJson<{ run: RunSummary }>(['launch', config, '--local'], { cwd }).run.id;
}

/** Waits for a run to end; throws with its log tail unless it succeeded. */
export function waitSucceeded(h: TestHome, runId: string): void {
  const r = h.keel(['wait', runId, '--timeout', '180', '--json'], { timeoutMs: 200_000 });
  if (r.code !== 0) throw new Error(`run ${runId} did not succeed (keel wait exit ${r.code}): ${r.stdout}\n${h.keel(['logs', runId]).stdout.slice(-2000)}`);
}

/**
 * What the lineage card of a checkpoint folder must show: its folder name, then the run that
 * made it — by `runName` when given (launched runs are named after their config), else the
 * run-named folder on its path (`bench-NN` in the bench).
 */
export function checkpointCard(location: string, runName?: string): RegExp {
  const parts = location.split('/');
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const run = runName ?? parts.find((p) => /^(run_[0-9a-z]+|bench-\d+)$/.test(p));
  return new RegExp(`${escape(parts.at(-1) ?? location)}\\b[^]*${run ? `\\b${escape(run)}\\b` : ''}`);
}

/**
 * `npm start` (scripts/demo.mjs), the README's first command: it launches the example's two
 * configs, waits for their evals and prints the comparison and the lineage of the best
 * checkpoint. The comparison must show each quantity once, and "best" must be the run whose
 * eval loss is lowest in the record.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { RunComparison } from '../daemon/src/protocol/index.ts';
import { repoRoot, TestHome } from './support/keel-home.ts';

describe('npm start', () => {
  const h = new TestHome('keel-demo-');
  after(() => h.cleanup());

  it('compares the two example runs with one series per quantity and follows the run with the lowest eval loss', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'demo.mjs')], { env: { ...h.env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 240_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const out = r.stdout.replace(/\x1b\[[0-9;]*m/g, '');
    const names = /^Comparing 2 runs: (\S+), (\S+)$/m.exec(out);
    assert.ok(names, out);
    // HF names (loss, eval_loss) are aliases of the canonical keys, never rows of their own.
    assert.doesNotMatch(out, /^(loss|eval_loss|epoch|learning_rate) \(/m, 'no quantity listed twice');
    assert.match(out, /^train\/loss \(min\)/m);
    const best = /^== Lineage of the best checkpoint \((\S+), lowest eval\/loss\)$/m.exec(out)?.[1];
    const runs = h.keelJson<{ runs: { id: string; name: string }[] }>(['runs']).runs.filter((x) => x.name === names[1] || x.name === names[2]);
    const cmp = h.keelJson<RunComparison>(['compare', ...runs.map((x) => x.id)]);
    const loss = cmp.metrics.find((m) => m.key === 'eval/loss');
    assert.ok(loss, 'the comparison has eval/loss');
    const lowest = [...runs].sort((a, b) => (loss.perRun[a.id]?.best ?? Infinity) - (loss.perRun[b.id]?.best ?? Infinity))[0];
    assert.equal(best, lowest?.name, 'the lineage shown is of the run with the lowest eval/loss');
  });
});

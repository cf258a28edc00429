/**
 * What the CLI writes, through real pipes and real processes: control characters in run
 * names, metric keys and messages are shown, never sent raw (JSON untouched); a reader that
 * closes the pipe early gets no stack trace.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keelBin, TestHome } from './support/keel-home.ts';
import { endAllStarted, startNode } from './support/processes.ts';

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('CLI output', () => {
  const h = new TestHome('keel-out-');
  const ids: Record<string, string> = {};

  const importRun = (name: string, lines: Record<string, unknown>[]): string => {
    const dir = join(h.dir, `run-${Object.keys(ids).length}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'metrics.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    return h.keelJson<{ runId: string }>(['import', dir, '--name', name]).runId;
  };

  before(() => {
    ids.hostile = importRun('bell\u0007run', [{ step: 1, loss: 2, '\u001b[2J': 0.5 }, { step: 2, loss: 1, '\u001b[2J': 0.25 }]);
    ids.plain = importRun('plain', [{ step: 1, loss: 3, '\u001b[2J': 0.75 }]);
    ids.long = importRun('long', Array.from({ length: 30_000 }, (_, i) => ({ step: i, loss: 1 / (i + 1) })));
  });
  after(() => {
    endAllStarted();
    h.cleanup();
  });

  it('shows control characters in names and keys as escapes in runs, run show and compare; JSON is unchanged', () => {
    const outputs = {
      runs: h.keel(['runs']),
      show: h.keel(['run', 'show', ids.hostile ?? '']),
      compare: h.keel(['compare', ids.hostile ?? '', ids.plain ?? '']),
    };
    for (const [what, r] of Object.entries(outputs)) {
      assert.equal(r.code, 0, `${what}: ${r.stderr}`);
      assert.doesNotMatch(r.stdout, CONTROL, `keel ${what} printed a raw control character`);
    }
    assert.match(outputs.runs.stdout, /bell\\arun/);
    assert.match(outputs.show.stdout, /^Run +bell\\arun \(run_/m);
    assert.match(outputs.show.stdout, /^train\/\\e\[2J \(\\e\[2J\) +2 +2 +0\.25/m);
    assert.match(outputs.compare.stdout, /^Comparing 2 runs: bell\\arun, plain$/m);
    assert.match(outputs.compare.stdout, /^train\/\\e\[2J \(max\) +0\.25 \/ 0\.5 @ 1 +0\.75/m);
    const json = h.keelJson<{ runs: { name: string }[] }>(['runs']);
    assert.ok(json.runs.some((r) => r.name === 'bell\u0007run'), 'JSON carries the name as it is');
  });

  it('keel runs pages with --limit and --after: the hint names the next page, the pages cover every run once', () => {
    const first = h.keel(['runs', '--limit', '2']);
    assert.equal(first.code, 0, first.stderr);
    const next = /^\(the newest 2; more: `keel runs --limit 2 --after (\S+)`\)$/m.exec(first.stdout);
    assert.ok(next, first.stdout);
    const second = h.keel(['runs', '--limit', '2', '--after', next[1] ?? '']);
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stdout, /more:/, 'the last page names no next one');
    const names = (out: string): string[] => out.split('\n').slice(1).filter((l) => l.startsWith('run_')).map((l) => l.split(/ +/)[1] ?? '');
    assert.deepEqual([...names(first.stdout), ...names(second.stdout)], ['long', 'plain', 'bell\\arun']);
    const json = h.keelJson<{ runs: { name: string }[]; nextCursor: string | null }>(['runs', '--limit', '2']);
    assert.equal(json.nextCursor, next[1]);
    const bad = h.keel(['runs', '--after', 'not-a-cursor']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /not a runs\/list cursor; pass the nextCursor of the previous page/);
    assert.match(h.keel(['runs', '--limit', '0']).stderr, /--limit must be an integer from 1 to 10000/);
  });

  it('an error message naming user text is made visible too', () => {
    const r = h.keel(['run', 'show', 'no\u001b]0;pwned\u0007such']);
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stderr, CONTROL);
    assert.match(r.stderr, /no\\e\]0;pwned\\asuch/);
  });

  it('a reader that stops early (`keel metrics … | head -1`) gets no stack trace, and keel exits 0', () => {
    const script = `"${process.execPath}" "${keelBin}" metrics ${ids.long ?? ''} loss --max-points 100000 2>"${h.dir}/err" | head -1; echo "\${PIPESTATUS[0]}" >"${h.dir}/status"`;
    const r = spawnSync('bash', ['-c', script], { env: h.env, encoding: 'utf8', timeout: 60_000 });
    assert.match(r.stdout, /^ *STEP +LOSS\n$/);
    assert.equal(readFileSync(join(h.dir, 'err'), 'utf8'), '', 'nothing on stderr');
    assert.equal(readFileSync(join(h.dir, 'status'), 'utf8').trim(), '0');
  });

  it('output closed before keel writes a word (`keel --help`) is quiet too', async () => {
    const p = startNode([keelBin, '--help'], h.env);
    p.child.stdout?.destroy();
    assert.equal(await p.exited, 0);
    assert.equal(p.stderr(), '');
  });
});

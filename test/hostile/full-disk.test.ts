/**
 * Ingestion never claims more than it wrote, through the real daemon and CLI:
 * - keel.db on a full disk (a 3 MiB tmpfs; root mounts it): `keel import` fails with the cause
 *   and the next step, the run is `incomplete`, and once there is room, importing again gives
 *   exactly the points of a clean import;
 * - a daemon killed with SIGKILL in the middle of an import leaves the run `incomplete`
 *   ("import in progress", never `running`); the next daemon resumes the import by itself,
 *   and it ends with exactly the points of a clean import (no gaps, no duplicates);
 * - a launched run whose final ingest cannot be written is `incomplete` with the reason — also
 *   once the disk has a little room again, enough for a status change but not for the points
 *   — and succeeds with every point once there is room.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { keelBin, TestHome, waitFor } from '../support/keel-home.ts';
import { writeTrainerState } from '../support/trainer-state.ts';

interface RunRow { id: string; status: string; outputDir: string | null }

/** Every point of the run at `outputDir` in keel.db `db`, as sorted `key@step=value` lines. */
function dumpPoints(db: string, outputDir: string): string[] {
  const conn = new Database(db, { readonly: true });
  try {
    const rows = conn.prepare(`SELECT s.key, m.step, m.value FROM metrics m JOIN metric_series s ON s.id = m.series_id
                               JOIN runs r ON r.id = s.run_id WHERE r.output_dir = ?`).raw().all(outputDir) as [string, number, number | null][];
    return rows.map(([key, step, value]) => `${key}@${step}=${value}`).sort();
  } finally {
    conn.close();
  }
}

function pointCount(db: string): number {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return conn.prepare('SELECT count(*) FROM metrics').pluck().get() as number;
  } finally {
    conn.close();
  }
}

/**
 * A project whose trainer writes `steps` losses to metrics.jsonl and prints nothing (its
 * log stays empty, so only the metrics ingest meets the full disk), in a git repository.
 */
function writeQuietProject(root: string, steps: number): void {
  mkdirSync(join(root, 'configs'), { recursive: true });
  writeFileSync(join(root, 'job.py'), [
    'import json, os, sys',
    'out = sys.argv[1]',
    'os.makedirs(out, exist_ok=True)',
    "with open(os.path.join(out, 'metrics.jsonl'), 'w') as m:",
    `    for s in range(1, ${steps} + 1): m.write(json.dumps({'step': s, 'loss': 1.0 / s}) + '\\n')`,
    '',
  ].join('\n'));
  writeFileSync(join(root, 'configs', 'run.json'), '{"steps": 1}\n');
  writeFileSync(join(root, 'keel.yaml'), 'name: quiet\nconfigs: [configs/*.json]\noutputs: [outputs/*]\ntrain:\n  command: python3 job.py {output_dir}\n');
  const git = (...args: string[]): void => void execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=T', ...args], { cwd: root, stdio: 'ignore' });
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'quiet project');
}

/** A tmpfs of `size` at `dir` with keel.db of `home` linked into it (SQLite keeps its WAL beside the real file). */
function dbOnTmpfs(home: string, dir: string, size: string): void {
  mkdirSync(dir, { recursive: true });
  mkdirSync(home, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  symlinkSync(join(dir, 'keel.db'), join(home, 'keel.db'));
}

describe('ingestion never claims more than it wrote', () => {
  const clean = new TestHome('keel-clean-');
  const full = new TestHome('keel-full-');
  const killed = new TestHome('keel-killed-');
  const fullFs = join(full.dir, 'small-disk');
  const runA = join(clean.dir, 'run-a');
  const runB = join(clean.dir, 'run-b');
  const mounted: string[] = [];

  before(() => {
    mkdirSync(runA, { recursive: true });
    mkdirSync(runB, { recursive: true });
    writeTrainerState(join(runA, 'trainer_state.json'), { entries: 100_000, keys: ['grad_norm', 'loss'], nanEvery: 777, finished: true });
    writeTrainerState(join(runB, 'trainer_state.json'), { entries: 400_000, keys: ['grad_norm', 'loss'], nanEvery: 777, finished: true });
    for (const dir of [runA, runB]) assert.equal(clean.keel(['import', dir]).code, 0);
    dbOnTmpfs(full.home, fullFs, '3m');
    mounted.push(fullFs);
  });

  after(() => {
    for (const h of [clean, full, killed]) {
      if (h !== killed) assert.equal(h.integrity(), 'ok');
      h.keel(['daemon', 'stop']);
    }
    for (const dir of mounted) execFileSync('umount', ['-l', dir]);
    for (const h of [clean, full, killed]) h.cleanup();
  });

  it('on a full disk, keel import fails with the cause and the next step and leaves the run unfinished; with room, importing again equals a clean import', () => {
    const r = full.keel(['import', runA]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, new RegExp(`recording run run_\\w+ from ${runA} stopped: the database could not be written \\(database or disk is full\\); the run was not marked finished\\. Free space on the disk holding ${fullFs}, then run \`keel import ${runA}\` again`));
    const runs = full.keelJson<{ runs: (RunRow & { statusReason: string | null })[] }>(['runs']).runs;
    // Marked incomplete when the import began (the write that would say "stopped" may not fit either).
    assert.deepEqual(runs.map((x) => [x.outputDir, x.status]), [[runA, 'incomplete']]);
    assert.match(runs[0]?.statusReason ?? '', /import in progress|ingestion stopped: .*database or disk is full/);
    const partial = pointCount(full.db);
    // 100,000 entries × 2 keys, plus the final entry's epoch (its other values are summary values, not points).
    assert.ok(partial > 0 && partial < 200_001, `${partial} points were written before the disk filled`);

    execFileSync('mount', ['-o', 'remount,size=256m', fullFs]);
    const again = full.keelJson<{ issues: string[] }>(['import', runA]);
    assert.deepEqual(again.issues, []);
    assert.equal(full.keelJson<{ runs: RunRow[] }>(['runs']).runs[0]?.status, 'succeeded');
    const expected = dumpPoints(clean.db, runA);
    assert.equal(expected.length, 200_001);
    assert.deepEqual(dumpPoints(full.db, runA), expected);
  });

  it('after the daemon is killed with SIGKILL mid-import, the run is incomplete, and the next daemon resumes the import to a clean import\'s points', async () => {
    killed.keelJson(['status']);
    const pid = killed.daemonPid() ?? 0;
    const cli = spawn(process.execPath, [keelBin, 'import', runB], { env: killed.env, stdio: 'ignore' });
    const cliExit = new Promise<number | null>((resolve) => cli.once('exit', resolve));
    await waitFor(() => pointCount(killed.db) > 100_000, 60_000, 'the import to be under way');
    process.kill(pid, 'SIGKILL');
    assert.notEqual(await cliExit, 0, 'the interrupted import did not claim success');
    const written = pointCount(killed.db);
    assert.ok(written < 800_001, `${written} points before the kill`);
    const conn = new Database(killed.db, { readonly: true });
    const left = conn.prepare('SELECT status, status_reason FROM runs WHERE output_dir = ?').get(runB) as { status: string; status_reason: string };
    conn.close();
    assert.deepEqual(left, { status: 'incomplete', status_reason: 'import in progress' }, 'a half-imported run is never left "running"');
    // The next daemon finds it and resumes it from its cursors, without being asked.
    killed.keelJson(['status']);
    await waitFor(() => killed.keelJson<{ runs: RunRow[] }>(['runs']).runs.find((x) => x.outputDir === runB)?.status === 'succeeded', 120_000, 'the resumed import');
    const { events } = killed.keelJson<{ events: { kind: string; message: string }[] }>(['events']);
    assert.ok(events.some((e) => e.kind === 'import_interrupted' && e.message.includes(runB)), 'an event says the import was interrupted and resumed');
    assert.equal(killed.integrity(), 'ok');
    assert.deepEqual(dumpPoints(killed.db, runB), dumpPoints(clean.db, runB));
  });

  it('a launched run whose final ingest cannot be written is not marked succeeded; with room it succeeds with every point', async () => {
    const h = new TestHome('keel-full-launch-', { KEEL_POLL_MS: '300' });
    const fs = join(h.dir, 'small-disk');
    try {
      dbOnTmpfs(h.home, fs, '3m');
      mounted.push(fs);
      // Ballast to delete later: a disk with a little room again takes small writes (a status
      // change) but not the rest of the points, which is how a run once ended up succeeded.
      const ballast = join(fs, 'ballast');
      writeFileSync(ballast, Buffer.alloc(512 * 1024));
      const root = join(h.dir, 'proj');
      writeQuietProject(root, 150_000);
      h.keelJson(['init', root]);
      const id = h.keelJson<{ run: RunRow }>(['launch', 'configs/run.json', '--local'], { cwd: root }).run.id;
      const exitCode = join(h.home, 'local', 'jobs', id, '1', 'state', 'exit_code');
      await waitFor(() => { try { execFileSync('test', ['-e', exitCode]); return true; } catch { return false; } }, 120_000, 'the job to finish');
      await new Promise((r) => setTimeout(r, 2_000));
      rmSync(ballast);
      // Several reconcile ticks with a little room: each tried the final drain and failed.
      await new Promise((r) => setTimeout(r, 3_000));
      const shown = h.keelJson<{ run: RunRow & { statusReason: string | null } }>(['run', 'show', id]).run;
      assert.equal(shown.status, 'incomplete', 'a run with points missing is never succeeded: it is incomplete, with the reason');
      assert.match(shown.statusReason ?? '', /ingestion stopped: .*database or disk is full/);
      assert.match(readFileSync(join(h.home, 'daemon.log'), 'utf8'), /final ingest stopped; the run is left unsettled.*database or disk is full/);
      execFileSync('mount', ['-o', 'remount,size=256m', fs]);
      const done = h.keel(['wait', id, '--timeout', '120', '--json']);
      assert.equal(done.code, 0, done.stdout + done.stderr);
      const loss = h.keelJson<{ metrics: { key: string; points: number }[] }>(['run', 'show', id]).metrics.find((m) => m.key === 'train/loss');
      assert.equal(loss?.points, 150_000);
    } finally {
      h.keel(['daemon', 'stop']);
      execFileSync('umount', ['-l', fs]);
      mounted.splice(mounted.indexOf(fs), 1);
      h.cleanup();
    }
  });
});

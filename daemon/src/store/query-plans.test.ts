/**
 * The hot queries of runs/list, runs/get, runs/compare, lineage and the scheduler, as the
 * store writes them, each answered through an index: EXPLAIN QUERY PLAN names the index and
 * shows no SCAN of the table, on a store closed once (so `PRAGMA optimize` left statistics).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from './index.ts';
import { runPageQuery, type RunListFilter } from './run-list.ts';

const RUN = 'SELECT runs.*, (SELECT name FROM hosts WHERE hosts.id = runs.host_id) AS host_name FROM runs';

/** [what, SQL as the store sends it, the index it must use]. */
const HOT: readonly [string, string, string][] = [
  ['runs, newest first', `${RUN} ORDER BY runs.created_at DESC LIMIT 1000`, 'runs_by_created'],
  ['is a code snapshot still in use', "SELECT 1 FROM runs INDEXED BY runs_by_status WHERE status IN ('queued', 'syncing', 'starting', 'running', 'incomplete') AND CASE WHEN json_valid(launch_json) THEN json_extract(launch_json, '$.frozen.code.snapshotId') END = 's' LIMIT 1", 'runs_by_status'],
  ['a run by id prefix or name', `${RUN} WHERE (runs.id >= 'run_ab' AND runs.id < 'run_ac') OR runs.name = 'run_ab' LIMIT 2`, 'runs_by_name'],
  ['names a default run name could clash with', "SELECT name FROM runs WHERE name = 'baseline' OR (name >= 'baseline #' AND name < 'baseline $')", 'runs_by_name'],
  ['another run with a name', `${RUN} WHERE runs.name = 'baseline' AND runs.id != 'r' LIMIT 1`, 'runs_by_name'],
  ['lineage nodes: runs by id', `${RUN} WHERE runs.id IN (SELECT value FROM json_each('["r"]'))`, 'sqlite_autoindex_runs_1'],
  ['the runs of a sweep', "SELECT id FROM runs WHERE sweep_id = 's' ORDER BY created_at", 'runs_by_sweep'],
  ['the children of a run', "UPDATE runs SET parent_run_id = NULL, updated_at = 1 WHERE parent_run_id = 'r'", 'runs_by_parent'],
  ['active jobs on a host', "SELECT * FROM jobs WHERE state IN ('preparing', 'starting', 'running') AND host_id = 'h' ORDER BY created_at", 'jobs_by_state_host'],
  ['evals an eval run wrote', "SELECT * FROM evals WHERE evals.eval_run_id = 'r'", 'evals_by_eval_run'],
  ['a run\'s series for compare', "SELECT key FROM metric_series WHERE run_id = 'r' ORDER BY key LIMIT 500", 'sqlite_autoindex_metric_series_1'],
  ['lineage into a record', "SELECT * FROM lineage_edges WHERE to_kind = 'run' AND to_id = 'r' ORDER BY id", 'lineage_to'],
  ['lineage out of a record', "SELECT * FROM lineage_edges WHERE from_kind = 'run' AND from_id = 'r' ORDER BY id", 'sqlite_autoindex_lineage_edges_1'],
  ['NaN/Inf points of a series', 'SELECT step FROM metrics INDEXED BY metrics_special WHERE series_id = 1 AND step > 0 AND step < 9 AND (value IS NULL OR value IN (9e999, -9e999)) ORDER BY step LIMIT 9', 'metrics_special'],
  ['rollup buckets of a series', 'SELECT * FROM metric_rollups WHERE series_id = 1 AND level = 3 AND bucket BETWEEN 0 AND 99 ORDER BY bucket', 'PRIMARY KEY'],
];

function plans(file: string): string[][] {
  const db = new Database(file, { readonly: true });
  try {
    return HOT.map(([, sql]) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail));
  } finally {
    db.close();
  }
}

describe('hot queries use an index', () => {
  let dir: string;
  let file: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'keel-plans-'));
    file = join(dir, 'keel.db');
    const store = new Store(file);
    for (let i = 0; i < 2000; i++) {
      const run = store.runs.create({ projectId: null, source: 'import', name: `run-${i}` });
      store.metrics.record(run.id, [{ key: 'loss', step: 1, value: 1 }, { key: 'eval/loss', step: 1, value: 2 }]);
    }
    store.close();
    // Configs, sweeps and parents spread over the runs as a team's store has them (rows the
    // planner's statistics describe; their own tables do not matter here, so keys dangle).
    const db = new Database(file);
    db.pragma('foreign_keys = OFF');
    db.exec(`UPDATE runs SET config_id = 'cfg_' || (rowid % 400), sweep_id = 'sw_' || (rowid % 100), parent_run_id = CASE WHEN rowid % 3 = 0 THEN 'run_parent' || (rowid % 500) END;
      INSERT INTO config_paths (config_id, project_id, abs_path, seen_at) SELECT DISTINCT config_id, NULL, '/w/' || (rowid % 40) || '.yaml', 1 FROM runs;`);
    db.close();
    new Store(file).close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names its index and scans no table, with the statistics a clean close leaves', () => {
    const fresh = plans(file);
    const db = new Database(file, { readonly: true });
    const analysed = db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'").pluck().get();
    db.close();
    assert.equal(analysed, 1, 'a clean close ran PRAGMA optimize');
    HOT.forEach(([what, , index], i) => {
      const plan = (fresh[i] ?? []).join(' | ');
      assert.ok(plan.includes(index), `${what}: uses ${index}: ${plan}`);
      for (const table of ['runs', 'jobs', 'evals', 'metric_series', 'lineage_edges', 'metrics', 'metric_rollups']) {
        // `SCAN t USING INDEX i` walks an index in order (with a LIMIT); a bare `SCAN t` reads the table.
        assert.ok(!new RegExp(`\\bSCAN ${table}\\b(?! USING)`).test(plan), `${what}: scans ${table}: ${plan}`);
      }
    });
  });

  it('runs/list pages (one query with their summaries) read each table through an index', () => {
    const pages: [string, RunListFilter, string][] = [
      ['the first page', { limit: 100 }, 'runs_by_created'],
      ['a later page', { limit: 100, after: { createdAt: 1, id: 'run_x' } }, 'runs_by_created'],
      ['a project\'s page', { projectId: 'p', limit: 100, after: { createdAt: 1, id: 'run_x' } }, 'runs_by_project'],
      ['active runs', { statuses: ['queued', 'running'] }, 'runs_by_status'],
      ['a config file\'s runs', { configPaths: ['/w/1.yaml'], limit: 200 }, 'runs_by_config'],
      ['one run\'s row', { ids: ['run_x'], limit: 1 }, 'sqlite_autoindex_runs_1'],
    ];
    const db = new Database(file, { readonly: true });
    try {
      for (const [what, filter, index] of pages) {
        const { sql, args } = runPageQuery(filter);
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail).join(' | ');
        assert.ok(plan.includes(index), `${what}: uses ${index}: ${plan}`);
        for (const table of ['runs', 'metric_series', 'events', 'hosts']) {
          assert.ok(!new RegExp(`\\bSCAN ${table}\\b(?! USING)`).test(plan), `${what}: scans ${table}: ${plan}`);
        }
      }
    } finally {
      db.close();
    }
  });
});

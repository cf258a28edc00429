/**
 * The schema change of the scale work, kept apart from migrations.ts so that it stays
 * self-contained (it reads and writes only what it adds, plus `metric_series`/`metrics` as
 * earlier versions made them) and can be ordered before or after another migration.
 *
 *  1. level-of-detail rollups of metric series (metric-rollups.ts). Series that exist already
 *     are marked not ready and built lazily on first draw, in bounded slices: a backfill of
 *     a store with hundreds of millions of points would hold the upgrade for minutes.
 *  2. the step of each series' minimum and maximum, so "best at step N" reads one row. Old
 *     series find theirs on first use (one scan of that series) and keep it.
 *  3. indexes for hot lookups that scanned a table (query-plans.test.ts names each query).
 */
import type { Migration } from './migrate.ts';

const ROLLUPS = `
ALTER TABLE metric_series ADD COLUMN min_step INTEGER;
ALTER TABLE metric_series ADD COLUMN max_step INTEGER;
ALTER TABLE metric_series ADD COLUMN rollup_ready INTEGER NOT NULL DEFAULT 0;
CREATE TABLE metric_rollups (
  series_id INTEGER NOT NULL REFERENCES metric_series(id) ON DELETE CASCADE,
  level INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  n INTEGER NOT NULL,
  min_value REAL,
  min_step INTEGER,
  min_wall REAL,
  max_value REAL,
  max_step INTEGER,
  max_wall REAL,
  PRIMARY KEY (series_id, level, bucket)
) WITHOUT ROWID;
-- NaN (NULL) and ±Inf points, which downsampling keeps apart from the min/max per bucket.
CREATE INDEX metrics_special ON metrics(series_id, step) WHERE value IS NULL OR value IN (9e999, -9e999);
`;

const INDEXES = `
CREATE INDEX IF NOT EXISTS jobs_by_state_host ON jobs(state, host_id);
CREATE INDEX IF NOT EXISTS runs_by_name ON runs(name);
CREATE INDEX IF NOT EXISTS runs_by_created ON runs(created_at);
CREATE INDEX IF NOT EXISTS runs_by_config ON runs(config_id);
CREATE INDEX IF NOT EXISTS runs_by_sweep ON runs(sweep_id);
CREATE INDEX IF NOT EXISTS runs_by_parent ON runs(parent_run_id);
CREATE INDEX IF NOT EXISTS evals_by_eval_run ON evals(eval_run_id);
`;

/** Rollups, best steps, hot-path indexes. */
export const scaleMigration: Migration = {
  title: 'metric rollups for drawing long series, the step of each series\' best value, indexes for hot lookups',
  steps: [ROLLUPS, INDEXES],
};

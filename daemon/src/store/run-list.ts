/**
 * The run list as the views show it (`runs/list`, the `runs` notification): each run with
 * its summary — last step, last training loss, open alerts, kind and overrides of a launch —
 * in ONE query, however many runs it returns (it was five per run). Pages are keyset pages
 * in a stable order, newest first (created_at, then id, both descending): a cursor names the
 * last run of a page, and the next page starts after it, so runs created meanwhile never
 * shift a page and no page costs more than the runs it returns.
 */
import type { RunStatus, RunSummary } from '../protocol/index.ts';
import type { Db } from './db.ts';
import { toRun, type RunRow } from './runs.ts';

/** What to list; see RunStore.summaries. */
export interface RunListFilter {
  projectId?: string;
  statuses?: RunStatus[];
  /** Runs whose config was read from one of these files (any version of each). */
  configPaths?: string[];
  /** Only these runs (the `runs` notification's row). */
  ids?: string[];
  limit?: number;
  /** Start after this run (a cursor from a previous page). */
  after?: RunCursor;
}

/** Where a page ends: the last run's creation time and id. */
export interface RunCursor {
  createdAt: number;
  id: string;
}

/** One page of runs, and the cursor of the next (null on the last page). */
export interface RunPage {
  runs: RunSummary[];
  nextCursor: string | null;
}

interface SummaryRow extends RunRow {
  parent_run_id: string | null;
  last_step_any: number | null;
  loss_value: number | null;
  loss_step: number | null;
  alerts: number;
  launch_kind: unknown;
  overrides_json: string | null;
}

/**
 * The training loss of a run: canonical `train/loss`, else a key as a custom logger wrote it
 * (`loss`, `train_loss`, else the first key by name that contains "loss"; case matters, as
 * it always did). The subquery names the series; the join reads its last value and step.
 */
const LOSS_SERIES = `(SELECT id FROM metric_series WHERE run_id = runs.id AND instr(key, 'loss') > 0
  ORDER BY CASE key WHEN 'train/loss' THEN 0 WHEN 'loss' THEN 1 WHEN 'train_loss' THEN 2 ELSE 3 END, key LIMIT 1)`;

/** The summary columns, each read through an index on the run's id; CASE guards JSON functions from a bad launch_json. */
const SUMMARY_COLUMNS = `runs.*, hosts.name AS host_name,
  (SELECT max(last_step) FROM metric_series WHERE run_id = runs.id) AS last_step_any,
  loss.last_value AS loss_value, loss.last_step AS loss_step,
  (SELECT count(*) FROM events WHERE run_id = runs.id AND severity != 'info' AND acknowledged = 0) AS alerts,
  CASE WHEN json_valid(runs.launch_json) THEN CASE WHEN json_type(runs.launch_json) = 'object' THEN json_extract(runs.launch_json, '$.kind') END END AS launch_kind,
  CASE WHEN json_valid(runs.launch_json) THEN CASE WHEN json_type(runs.launch_json, '$.overrides') = 'array' THEN json_extract(runs.launch_json, '$.overrides') END END AS overrides_json`;

function selectSummaries(runsFrom: string): string {
  return `SELECT ${SUMMARY_COLUMNS} FROM ${runsFrom} LEFT JOIN hosts ON hosts.id = runs.host_id LEFT JOIN metric_series loss ON loss.id = ${LOSS_SERIES}`;
}

function overridesOf(json: string | null): string[] {
  if (json === null) return [];
  const parsed = JSON.parse(json) as unknown;
  return Array.isArray(parsed) ? parsed.filter((o): o is string => typeof o === 'string') : [];
}

function toSummary(r: SummaryRow): RunSummary {
  return {
    ...toRun(r), lastLoss: r.loss_value, lastStep: r.last_step_any, alerts: r.alerts, lastLossStep: r.loss_step,
    kind: r.launch_kind === 'eval' ? 'eval' : 'train', parentRunId: r.parent_run_id, overrides: overridesOf(r.overrides_json),
  };
}

/** The text of a cursor: opaque to clients (they hand it back as it came). */
export function formatRunCursor(c: RunCursor): string {
  return `${c.createdAt}:${c.id}`;
}

/** The cursor a client handed back, or undefined when it is not one this daemon made. */
export function parseRunCursor(text: string): RunCursor | undefined {
  const m = /^(\d{1,16}):([A-Za-z0-9_-]{1,200})$/.exec(text);
  return m ? { createdAt: Number(m[1]), id: m[2] as string } : undefined;
}

/** WHERE clauses (ANDed) and their arguments for runs/list's filters. */
function runFilterClauses(filter: Pick<RunListFilter, 'configPaths' | 'ids' | 'projectId' | 'statuses'>): { where: string[]; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.configPaths) {
    // Every version of the file counts: each edit is a new config record at the same path.
    where.push(`runs.config_id IN (SELECT config_id FROM config_paths WHERE abs_path IN (${filter.configPaths.map(() => '?').join(',') || 'NULL'}))`);
    args.push(...filter.configPaths);
  }
  if (filter.ids) {
    where.push(`runs.id IN (${filter.ids.map(() => '?').join(',') || 'NULL'})`);
    args.push(...filter.ids);
  }
  if (filter.projectId) {
    where.push('runs.project_id = ?');
    args.push(filter.projectId);
  }
  if (filter.statuses?.length) {
    where.push(`runs.status IN (${filter.statuses.map(() => '?').join(',')})`);
    args.push(...filter.statuses);
  }
  return { where, args };
}

/** The SQL of one page (limit + 1 rows, so the caller sees whether more follow) and its arguments. */
export function runPageQuery(filter: RunListFilter = {}): { sql: string; args: unknown[]; limit: number } {
  const { where, args } = runFilterClauses(filter);
  if (filter.after) {
    // `<=` first, so the index on created_at bounds the walk; ties broken by id.
    where.push('runs.created_at <= ? AND (runs.created_at < ? OR runs.id < ?)');
    args.push(filter.after.createdAt, filter.after.createdAt, filter.after.id);
  }
  const limit = Math.max(1, filter.limit ?? 1000);
  // A config file names a handful of runs: found through runs_by_config then sorted, where
  // the planner would rather walk the whole table (its estimate of the IN list is blind).
  const select = selectSummaries(filter.configPaths ? 'runs INDEXED BY runs_by_config' : 'runs');
  const sql = `${select} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY runs.created_at DESC, runs.id DESC LIMIT ?`;
  return { sql, args: [...args, Math.min(limit + 1, Number.MAX_SAFE_INTEGER)], limit };
}

/** One page of run summaries, newest first; see RunListFilter. */
export function listRunSummaries(db: Db, filter: RunListFilter = {}): RunPage {
  const { sql, args, limit } = runPageQuery(filter);
  const rows = db.prepare(sql).all(...args) as SummaryRow[];
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page.at(-1);
  return { runs: page.map(toSummary), nextCursor: more && last ? formatRunCursor({ createdAt: last.created_at, id: last.id }) : null };
}

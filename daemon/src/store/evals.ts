/**
 * Eval results: one row per (results file, task, metric, filter), upserted on that key so
 * reading a results file again changes nothing. The rows of one file form an eval group —
 * the lineage node of kind `eval` — whose id is derived from the file's path (see
 * {@link evalGroupId}), so it is stable across re-ingests and needs no column of its own.
 */
import { createHash } from 'node:crypto';
import type { EvalResult } from '../protocol/index.ts';
import type { Db } from './db.ts';
import { newId } from './ids.ts';

/** One result to store. `value` NaN is stored as NULL; `stderr` null means unknown. */
export interface EvalInput {
  subjectKind: EvalResult['subjectKind'];
  subjectId: string | null;
  subjectRef?: string | null;
  evalRunId?: string | null;
  /** The results file (absolute real path, or `host:path`). */
  sourcePath: string;
  task: string;
  metric: string;
  filter?: string;
  value: number;
  stderr: number | null;
  nShot?: number | null;
  higherIsBetter?: boolean | null;
  isGroup?: boolean;
  /** When the eval ran (ms since epoch); defaults to now on first insert. */
  createdAt?: number;
}

interface EvalRow {
  id: string;
  subject_kind: EvalResult['subjectKind'];
  subject_id: string | null;
  subject_ref: string | null;
  eval_run_id: string | null;
  source_path: string;
  task: string;
  metric: string;
  filter: string;
  value: number | null;
  stderr: number | null;
  n_shot: number | null;
  higher_is_better: number | null;
  is_group: number;
  created_at: number;
  /** Status of the eval run (joined), when there is one. */
  eval_run_status?: string | null;
}

/** Eval rows with the status of the run that wrote them (for "the eval job failed"). */
const SELECT = 'SELECT evals.*, runs.status AS eval_run_status FROM evals LEFT JOIN runs ON runs.id = evals.eval_run_id';
/** Statuses of an eval job that did not end well: its results may be partial. */
const FAILED = new Set(['failed', 'cancelled', 'lost']);

const GROUP_PREFIX = 'evg_';
const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';

/**
 * The eval group id of a results file: `evg_` + 12 base32 characters of the SHA-256 of its
 * source path. Deterministic, so the same file always maps to the same lineage node.
 */
export function evalGroupId(sourcePath: string): string {
  const digest = createHash('sha256').update(sourcePath, 'utf8').digest();
  let out = '';
  for (let i = 0; i < 12; i++) out += alphabet[(digest[i] ?? 0) % alphabet.length];
  return `${GROUP_PREFIX}${out}`;
}

function toEval(r: EvalRow): EvalResult {
  return {
    id: r.id,
    subjectKind: r.subject_kind,
    subjectId: r.subject_id,
    subjectRef: r.subject_ref,
    groupId: evalGroupId(r.source_path),
    isGroup: r.is_group === 1,
    task: r.task,
    metric: r.metric,
    filter: r.filter,
    value: r.value,
    stderr: r.stderr,
    nShot: r.n_shot,
    higherIsBetter: r.higher_is_better === null ? null : r.higher_is_better === 1,
    sourcePath: r.source_path,
    createdAt: r.created_at,
    evalRunId: r.eval_run_id,
    evalJobFailed: FAILED.has(r.eval_run_status ?? ''),
  };
}

const order = 'ORDER BY evals.source_path, evals.is_group DESC, evals.task, evals.metric, evals.filter';

export class EvalStore {
  private readonly db: Db;
  private readonly stmts;
  /** groupId → source path, filled lazily (a group id cannot be turned back into its path). */
  private readonly groupSources = new Map<string, string>();

  constructor(db: Db) {
    this.db = db;
    this.stmts = {
      upsert: db.prepare(`INSERT INTO evals (id, subject_kind, subject_id, subject_ref, eval_run_id, source_path, task, metric, filter,
          value, stderr, n_shot, higher_is_better, is_group, created_at)
        VALUES (@id, @subject_kind, @subject_id, @subject_ref, @eval_run_id, @source_path, @task, @metric, @filter,
          @value, @stderr, @n_shot, @higher_is_better, @is_group, @created_at)
        ON CONFLICT (source_path, task, metric, filter) DO UPDATE SET
          subject_kind = excluded.subject_kind, subject_id = excluded.subject_id, subject_ref = excluded.subject_ref,
          eval_run_id = excluded.eval_run_id, value = excluded.value, stderr = excluded.stderr, n_shot = excluded.n_shot,
          higher_is_better = excluded.higher_is_better, is_group = excluded.is_group, created_at = excluded.created_at`),
      exists: db.prepare('SELECT 1 FROM evals WHERE source_path = ? AND task = ? AND metric = ? AND filter = ?').pluck(),
      bySource: db.prepare(`${SELECT} WHERE evals.source_path = ? ${order}`),
      anyForSource: db.prepare('SELECT 1 FROM evals WHERE source_path = ? LIMIT 1').pluck(),
      sources: db.prepare('SELECT DISTINCT source_path FROM evals').pluck(),
    };
  }

  /** Upserts rows on (source, task, metric, filter) in one transaction; returns how many were new. */
  upsertMany(inputs: readonly EvalInput[]): { created: number; updated: number } {
    let created = 0;
    this.db.transaction(() => {
      const now = Date.now();
      for (const input of inputs) {
        const filter = input.filter ?? 'none';
        const isNew = this.stmts.exists.get(input.sourcePath, input.task, input.metric, filter) === undefined;
        this.stmts.upsert.run(toRow(input, filter, now));
        if (isNew) created++;
        this.groupSources.set(evalGroupId(input.sourcePath), input.sourcePath);
      }
    })();
    return { created, updated: inputs.length - created };
  }

  /** Upserts one row; returns it. */
  upsert(input: EvalInput): EvalResult {
    this.upsertMany([input]);
    const rows = this.bySource(input.sourcePath);
    return rows.find((r) => r.task === input.task && r.metric === input.metric && r.filter === (input.filter ?? 'none')) as EvalResult;
  }

  /** Every row read from one results file. */
  bySource(sourcePath: string): EvalResult[] {
    return (this.stmts.bySource.all(sourcePath) as EvalRow[]).map(toEval);
  }

  /** The group id of a results file, when rows from it are stored. */
  groupIdForSource(sourcePath: string): string | undefined {
    return this.stmts.anyForSource.get(sourcePath) === undefined ? undefined : evalGroupId(sourcePath);
  }

  /** Every row of one eval group (one results file); empty for an unknown id. */
  group(groupId: string): EvalResult[] {
    if (!groupId.startsWith(GROUP_PREFIX)) return [];
    let source = this.groupSources.get(groupId);
    if (source === undefined) {
      for (const path of this.stmts.sources.all() as string[]) this.groupSources.set(evalGroupId(path), path);
      source = this.groupSources.get(groupId);
    }
    return source === undefined ? [] : this.bySource(source);
  }

  /** Results about one checkpoint, run or model (`id` is the subject id, or the ref for a model). */
  bySubject(kind: EvalResult['subjectKind'], id: string): EvalResult[] {
    const rows = this.db
      .prepare(`${SELECT} WHERE evals.subject_kind = ? AND (evals.subject_id = ? OR (evals.subject_id IS NULL AND evals.subject_ref = ?)) ${order}`)
      .all(kind, id, id) as EvalRow[];
    return rows.map(toEval);
  }

  /** Results written by an eval run. */
  byEvalRun(runId: string): EvalResult[] {
    return (this.db.prepare(`${SELECT} WHERE evals.eval_run_id = ? ${order}`).all(runId) as EvalRow[]).map(toEval);
  }

  /** All results, newest first, optionally for one task (and its metric). */
  list(filter: { task?: string; metric?: string; limit?: number } = {}): EvalResult[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.task !== undefined) {
      where.push('evals.task = ?');
      args.push(filter.task);
    }
    if (filter.metric !== undefined) {
      where.push('evals.metric = ?');
      args.push(filter.metric);
    }
    const sql = `${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY evals.created_at DESC, evals.source_path, evals.task, evals.metric, evals.filter LIMIT ?`;
    return (this.db.prepare(sql).all(...args, filter.limit ?? 10_000) as EvalRow[]).map(toEval);
  }
}

function toRow(input: EvalInput, filter: string, now: number): EvalRow {
  return {
    id: newId('eval'),
    subject_kind: input.subjectKind,
    subject_id: input.subjectId,
    subject_ref: input.subjectRef ?? null,
    eval_run_id: input.evalRunId ?? null,
    source_path: input.sourcePath,
    task: input.task,
    metric: input.metric,
    filter,
    value: Number.isNaN(input.value) ? null : input.value,
    stderr: input.stderr === null || Number.isNaN(input.stderr) ? null : input.stderr,
    n_shot: input.nShot ?? null,
    higher_is_better: input.higherIsBetter === undefined || input.higherIsBetter === null ? null : input.higherIsBetter ? 1 : 0,
    is_group: input.isGroup === true ? 1 : 0,
    created_at: input.createdAt ?? now,
  };
}

/**
 * What every part of one ingest shares: the store, the run, the report being filled, and
 * small helpers for issues, file identities and batched metric writes.
 */
import { stat } from 'node:fs/promises';
import { relative } from 'node:path';
import type { Logger } from '../../log/logger.ts';
import type { MetricInput, Store } from '../../store/index.ts';
import type { ParsePool } from '../../work/parse-pool.ts';
import { FormatError } from '../formats/index.ts';
import type { ParseIssue } from '../formats/index.ts';
import { asIngestStopped } from './ingest-stopped.ts';
import type { DisagreementNote, DroppedPoints } from './metric-writes.ts';

/** The outcome of ingesting one output folder. */
export interface IngestReport {
  runId: string;
  /** True when this call created the run. */
  created: boolean;
  /** Metric points written (upserted) by this call. */
  points: number;
  /** Checkpoints registered or updated by this call. */
  checkpoints: number;
  /** Eval result rows written by this call. */
  evals: number;
  /** Problems, each naming its file (and line where there is one); none stopped the rest. */
  issues: string[];
  /**
   * Checkpoint folders seen but not registered yet because they may still be written; look
   * again later (a second look with the same files registers them).
   */
  pending: string[];
}

/** Identity of one version of a file: replaced (other dev/inode) or rewritten (size, mtime). */
export interface FileStamp {
  dev: string;
  ino: string;
  size: number;
  mtimeNs: string;
}

export interface IngestContext {
  store: Store;
  runId: string;
  /** Cursor owner for this run's files. */
  owner: string;
  /** The output folder (absolute real path). */
  dir: string;
  projectRoot: string | null;
  report: IngestReport;
  log: Logger | undefined;
  /** Metric points per store transaction (and per batch streamed from a parse worker). */
  batchSize: number;
  /** Hears points past each series' last step (live charts); absent where nobody listens. */
  onNewPoints?: (runId: string, points: readonly MetricInput[]) => void;
  /** Parses files off the event loop. */
  parser: ParsePool;
  /** The run's metric keys, read on the first write (see metric-writes.ts). */
  metricKeys?: Set<string>;
  /** Each series' last step before this ingest, kept up to date as points are written (for onNewPoints). */
  lastSteps?: Map<string, number>;
  /** Points dropped by the key cap, by file. */
  dropped: Map<string, DroppedPoints>;
  /** Canonical key of each key as written met in this ingest, by source, and whether it is a summary value. */
  keyNames?: Map<string, Map<string, { key: string; summary: boolean }>>;
  /** Steps where this file's value disagreed with another file's, by file. */
  disagreements?: Map<string, DisagreementNote>;
}

/** At most this many parse issues are reported per file; the rest are counted. */
const MAX_ISSUES_PER_FILE = 20;

/** `file` relative to the run folder when inside it (shorter, still unambiguous), else as is. */
export function displayPath(ctx: IngestContext, file: string): string {
  const rel = relative(ctx.dir, file);
  return rel === '' ? '.' : rel.startsWith('..') ? file : rel;
}

/** Adds one issue naming the file (and line). */
export function addIssue(ctx: IngestContext, file: string, message: string, line?: number): void {
  const where = line === undefined ? displayPath(ctx, file) : `${displayPath(ctx, file)}:${line}`;
  ctx.report.issues.push(`${where}: ${message}`);
}

/** Adds a parser's per-entry issues, capped per file. */
export function addParseIssues(ctx: IngestContext, file: string, issues: readonly ParseIssue[]): void {
  for (const issue of issues.slice(0, MAX_ISSUES_PER_FILE)) addIssue(ctx, file, issue.message, issue.line);
  if (issues.length > MAX_ISSUES_PER_FILE) addIssue(ctx, file, `${issues.length - MAX_ISSUES_PER_FILE} more problems not listed`);
}

/**
 * Adds an issue for an error about a whole file. A FormatError's message already names the
 * line and column; its leading file name is replaced by the shorter display path.
 * A store write error is not the file's problem: it is thrown as an IngestStoppedError,
 * which stops the whole ingest (see ingest-stopped.ts).
 */
export function addErrorIssue(ctx: IngestContext, file: string, err: unknown, suffix = ''): void {
  const stopped = asIngestStopped(err, { runId: ctx.runId, dir: ctx.dir, db: ctx.store.file });
  if (stopped) throw stopped;
  const text = errorText(err);
  const message = err instanceof FormatError && text.startsWith(`${file}: `) ? text.slice(file.length + 2) : text;
  addIssue(ctx, file, `${message}${suffix}`);
}

/** The message of an unknown error. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The file's stamp, or undefined when it is gone. */
export async function fileStamp(path: string): Promise<FileStamp | undefined> {
  try {
    const st = await stat(path, { bigint: true });
    return { dev: st.dev.toString(), ino: st.ino.toString(), size: Number(st.size), mtimeNs: st.mtimeNs.toString() };
  } catch {
    return undefined;
  }
}

/** Reads a stamp back from cursor state (untrusted JSON). */
export function stampFrom(state: unknown): FileStamp | undefined {
  if (typeof state !== 'object' || state === null) return undefined;
  const s = state as Record<string, unknown>;
  if (typeof s.dev !== 'string' || typeof s.ino !== 'string' || typeof s.size !== 'number' || typeof s.mtimeNs !== 'string') return undefined;
  return { dev: s.dev, ino: s.ino, size: s.size, mtimeNs: s.mtimeNs };
}

export function sameFile(a: FileStamp | undefined, b: FileStamp | undefined): boolean {
  return a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

export function sameVersion(a: FileStamp | undefined, b: FileStamp | undefined): boolean {
  return sameFile(a, b) && a?.size === b?.size && a?.mtimeNs === b?.mtimeNs;
}

/**
 * True when a whole-file source (trainer_state.json, results files) is unchanged since it was
 * last read in full for this run, so reading it again would add nothing.
 */
export function unchangedSinceLastRead(ctx: IngestContext, file: string, now: FileStamp | undefined): boolean {
  const cursor = ctx.store.cursors.get(ctx.owner, file);
  return sameVersion(stampFrom(cursor?.state), now);
}

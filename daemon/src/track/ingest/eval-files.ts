/**
 * lm-evaluation-harness results files → eval rows (one per task, metric and filter), linked to
 * what they measured. All rows of one file form an eval group, the lineage node of kind
 * `eval` with id `evalGroupId(<real path of the file>)`; edges: checkpoint (or run) → eval
 * (evaluated), and eval run → eval (produced) when the file came from a Keel eval run.
 */
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Store, EvalInput } from '../../store/index.ts';
import { EdgeTypes, evalGroupId } from '../../store/index.ts';
import { FormatError } from '../formats/index.ts';
import type { LmEvalResults } from '../formats/index.ts';
import { INLINE_PARSE_BYTES, readLmEvalResultsFile } from '../formats/results-file.ts';
import { InputFileError } from '../input-file.ts';
import { defaultParsePool, type ParsePool } from '../../work/parse-pool.ts';
import { errorText } from './context.ts';
import { matchModelRef } from './match-model.ts';
import type { EvalSubject } from './match-model.ts';
import { existingRealPath } from './model-refs.ts';

/** Where an eval file came from. */
export interface EvalFileOptions {
  projectId: string | null;
  /** The Keel run (kind eval) that wrote the file, if any. */
  runId?: string;
  /** Where large files are parsed; default: the process's parse pool. */
  parser?: ParsePool;
}

/** Outcome of one results file. */
export interface EvalFileReport {
  /** Result rows stored (upserted). */
  evals: number;
  /** The checkpoint or run the eval measured; null when it matched none (stored as subject 'model'). */
  subject: EvalSubject | null;
  issues: string[];
}

/**
 * Reads an lm-eval results file and upserts every result row on (file, task, metric, filter).
 * Never throws for a bad file: problems come back in `issues`, naming the file. With
 * `quiet.notResults`, a JSON file that is not an lm-eval results file is skipped silently.
 */
export async function ingestEvalFile(
  store: Store, path: string, opts: EvalFileOptions, quiet: { notResults?: boolean } = {},
): Promise<EvalFileReport> {
  const report: EvalFileReport = { evals: 0, subject: null, issues: [] };
  const source = existingRealPath(path);
  if (source === undefined) {
    report.issues.push(`${path}: file not found`);
    return report;
  }
  let parsed: LmEvalResults;
  try {
    // Read with the input-file checks (regular file, at most 64 MiB); a large one is parsed in a worker.
    const size = (await stat(source).catch(() => undefined))?.size ?? 0;
    parsed = size > INLINE_PARSE_BYTES ? await (opts.parser ?? defaultParsePool()).readLmEvalResults(source) : await readLmEvalResultsFile(source);
  } catch (err) {
    // A JSON file that merely has a results-like name is not a problem when scanning a folder.
    if (quiet.notResults === true && err instanceof FormatError && err.code === 'E_SHAPE') return report;
    report.issues.push(err instanceof FormatError || err instanceof InputFileError ? err.message : `${source}: ${errorText(err)}`);
    return report;
  }
  for (const issue of parsed.issues) report.issues.push(`${source}${issue.line === undefined ? '' : `:${issue.line}`}: ${issue.message}`);
  const projectRoot = opts.projectId === null ? undefined : store.projects.get(opts.projectId)?.root;
  report.subject = findSubject(store, parsed, [dirname(source), ...(projectRoot === undefined ? [] : [projectRoot])], opts.projectId, (m) => report.issues.push(`${source}: ${m}`));
  let evalRunId = opts.runId ?? null;
  if (evalRunId !== null && store.runs.get(evalRunId) === undefined) {
    report.issues.push(`${source}: eval run ${evalRunId} does not exist; stored without it`);
    evalRunId = null;
  }
  const rows = toRows(parsed, source, report.subject, evalRunId);
  store.transaction(() => {
    store.evals.upsertMany(rows);
    const group = { kind: 'eval' as const, id: evalGroupId(source) };
    if (rows.length > 0 && report.subject !== null) store.lineage.addEdge(report.subject, group, EdgeTypes.Evaluated);
    if (rows.length > 0 && evalRunId !== null) store.lineage.addEdge({ kind: 'run', id: evalRunId }, group, EdgeTypes.Produced);
  });
  report.evals = rows.length;
  return report;
}

/** One row per result; the subject ref is what the eval named (`pretrained=`, else `peft=`, else `model_name`). */
function toRows(parsed: LmEvalResults, source: string, subject: EvalSubject | null, evalRunId: string | null): EvalInput[] {
  const subjectRef = parsed.modelArgs.pretrained ?? parsed.modelArgs.peft ?? parsed.modelName ?? null;
  const createdAt = parsed.date === undefined ? undefined : Math.round(parsed.date * 1000);
  return parsed.results.map((r) => ({
    subjectKind: subject?.kind ?? 'model',
    subjectId: subject?.id ?? null,
    subjectRef,
    evalRunId,
    sourcePath: source,
    task: r.task,
    metric: r.metric,
    filter: r.filter,
    value: r.value,
    stderr: r.stderr,
    nShot: r.nShot ?? null,
    higherIsBetter: r.higherIsBetter ?? null,
    isGroup: r.isGroup,
    ...(createdAt === undefined ? {} : { createdAt }),
  }));
}

/** The adapter (`peft=`) is what was fine-tuned, so it is matched first, then `pretrained=`. */
function findSubject(
  store: Store, parsed: LmEvalResults, bases: string[], projectId: string | null, onIssue: (message: string) => void,
): EvalSubject | null {
  for (const ref of [parsed.modelArgs.peft, parsed.modelArgs.pretrained]) {
    if (ref === undefined) continue;
    const match = matchModelRef(store, ref, bases, projectId);
    if (match.subject !== undefined) return match.subject;
    if (match.ambiguous !== undefined) onIssue(`model "${ref}" matches several checkpoints (${match.ambiguous.join(', ')}); not linked`);
  }
  return null;
}

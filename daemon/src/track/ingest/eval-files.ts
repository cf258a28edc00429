/**
 * lm-evaluation-harness results files → eval rows (one per task, metric and filter), linked to
 * what they measured. All rows of one file form an eval group, the lineage node of kind
 * `eval` with id `evalGroupId(<real path of the file>)`; edges: checkpoint (or run, or model)
 * → eval (evaluated), eval run → eval (produced) when the file came from a Keel run, and
 * dataset version → eval (evaluated_on) for each tracked data file the tasks read.
 *
 * The subject is what was evaluated: with `peft=ADAPTER` that is the adapter (lm-eval loads
 * the base and applies it), else `pretrained=`. A reference that is no checkpoint of a Keel
 * run becomes a model record (a hub id, a local folder), so a base model's eval has a subject too.
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
import { recordBaseModel } from '../models/base-model.ts';
import { existingPaths } from '../config/track-config.ts';

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
  /** What the eval measured: a checkpoint, a run, or a model record; null when it names no model. */
  subject: Subject | null;
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
  const bases = [dirname(source), ...(projectRoot === undefined ? [] : [projectRoot])];
  report.subject = await findSubject(store, parsed, bases, opts.projectId, (m) => report.issues.push(`${source}: ${m}`));
  let evalRunId = opts.runId ?? null;
  if (evalRunId !== null && store.runs.get(evalRunId) === undefined) {
    report.issues.push(`${source}: eval run ${evalRunId} does not exist; stored without it`);
    evalRunId = null;
  }
  const data = projectRoot === undefined ? [] : await evalData(store, parsed.dataFiles, projectRoot);
  const rows = toRows(parsed, source, report.subject, evalRunId);
  store.transaction(() => {
    store.evals.upsertMany(rows);
    const group = { kind: 'eval' as const, id: evalGroupId(source) };
    if (rows.length === 0) return;
    if (report.subject !== null) store.lineage.addEdge(report.subject, group, EdgeTypes.Evaluated);
    if (evalRunId !== null) store.lineage.addEdge({ kind: 'run', id: evalRunId }, group, EdgeTypes.Produced);
    for (const version of data) store.lineage.addEdge({ kind: 'dataset_version', id: version }, group, EdgeTypes.EvaluatedOn);
  });
  report.evals = rows.length;
  return report;
}

/** The latest version of each tracked dataset holding one of the tasks' data files (resolved against the project root). */
async function evalData(store: Store, files: readonly string[], root: string): Promise<string[]> {
  const versions = new Set<string>();
  for (const file of files) {
    for (const path of await existingPaths(file, root, root)) {
      const dataset = store.datasets.findContaining(path)?.dataset;
      const version = dataset && store.datasets.latestVersion(dataset.id);
      if (version) versions.add(version.id);
    }
  }
  return [...versions];
}

/** One row per result; the subject ref is what the eval named (`peft=`, else `pretrained=`, else `model_name`). */
function toRows(parsed: LmEvalResults, source: string, subject: Subject | null, evalRunId: string | null): EvalInput[] {
  const subjectRef = parsed.modelArgs.peft ?? parsed.modelArgs.pretrained ?? parsed.modelName ?? null;
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

/** What an eval measured: a checkpoint or run (see match-model.ts), or a model record. */
type Subject = EvalSubject | { kind: 'model'; id: string };

/**
 * The evaluated model: the adapter when `peft=` names one, else `pretrained=`, else
 * `model_name`. A reference that matches no checkpoint or run is recorded as a model (never
 * the base standing in for the adapter).
 */
async function findSubject(
  store: Store, parsed: LmEvalResults, bases: string[], projectId: string | null, onIssue: (message: string) => void,
): Promise<Subject | null> {
  const { peft, pretrained } = parsed.modelArgs;
  // `model_name` is the harness's own name for the model (0.4.13 sets it to the `peft` path);
  // it names the subject only when model_args names no weights.
  const ref = peft ?? pretrained ?? parsed.modelName;
  if (ref === undefined) return null;
  const match = matchModelRef(store, ref, bases, projectId);
  if (match.subject !== undefined) return match.subject;
  if (match.ambiguous !== undefined) {
    onIssue(`model "${ref}" matches several checkpoints (${match.ambiguous.join(', ')}); not linked`);
    return null;
  }
  const model = await recordBaseModel({ store }, ref, { bases, ...(ref === pretrained && parsed.modelRevision ? { revision: parsed.modelRevision } : {}) });
  return model ?? null;
}

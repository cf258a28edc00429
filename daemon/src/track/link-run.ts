/**
 * Links a run to what produced it, so lineage can answer "where did this come from?":
 * config → run (the config whose `output_dir` is the run's folder), dataset versions →
 * run, base model → run, and code version → run.
 *
 * For a launched run the config and code are known exactly. For a run that Keel only
 * watched, the config is the one whose `output_dir` resolves to the run folder, choosing
 * the version of that config file seen last before the run appeared; the code version is
 * the working tree's state when Keel first saw the run (the closest record there is).
 *
 * Data lineage is exact (data-edges.ts): "trained on" (`used_data`) the datasets the run's
 * config names as training data, "evaluated on" (`evaluated_on`) those it names as validation
 * data and those its eval results name; only a launched run whose config names none keeps
 * the datasets shipped with it, as `shipped_data`.
 */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Logger } from '../log/logger.ts';
import { EdgeTypes, type Store } from '../store/index.ts';
import { parseTrainingConfig } from './config/parse.ts';
import type { TrainingConfig } from './config/types.ts';
import { snapshotCode } from './code/index.ts';
import type { FileHasher, HashCache } from './hash/index.ts';
import { recordBaseModel } from './models/base-model.ts';
import { linkRunData } from './data-edges.ts';

export interface LinkDeps {
  store: Store;
  log: Logger;
  /** Hashes local base model folders (to know one again when it moves); without it they are recorded unhashed. */
  hasher?: FileHasher;
  hashCache?: HashCache;
}

function resolveOutput(outputDir: string, bases: string[]): string[] {
  return isAbsolute(outputDir) ? [resolve(outputDir)] : bases.map((b) => resolve(b, outputDir));
}

/** Finds the config that wrote to `runDir`, if any. */
function findConfigFor(store: Store, projectId: string, projectRoot: string, runDir: string, runCreatedAt: number): string | undefined {
  const candidates = store.runLinks
    .configsWithOutputDir(projectId)
    .filter((c) => resolveOutput(c.outputDir, [projectRoot, dirname(c.configPath)]).includes(runDir));
  if (candidates.length === 0) return undefined;
  const before = candidates.filter((c) => c.seenAt <= runCreatedAt + 60_000);
  return (before[0] ?? candidates[candidates.length - 1])?.configId;
}

/** Links the run (see the module comment); safe to call after every ingest. */
export async function linkRun(deps: LinkDeps, runId: string, project: { id: string; root: string } | null): Promise<void> {
  const { store } = deps;
  const run = store.runs.get(runId);
  if (!run) return;
  const runRef = { kind: 'run' as const, id: run.id };

  let configId = run.configId;
  if (!configId && project && run.outputDir) {
    configId = findConfigFor(store, project.id, project.root, run.outputDir, run.createdAt) ?? null;
    if (configId) store.runLinks.setRunConfig(run.id, configId);
  }
  let config: { parsed: TrainingConfig; dir: string } | undefined;
  if (configId) {
    store.lineage.addEdge({ kind: 'config', id: configId }, runRef, EdgeTypes.UsedConfig);
    if (!store.runLinks.hasParams(run.id)) store.runLinks.setParams(run.id, store.configs.params(configId));
    config = runConfig(deps, run.id, configId, project?.root ?? null);
    if (config) await linkBaseModels(deps, run.id, config, project?.root ?? null);
  }
  await linkRunData(store, run, config === undefined ? null : { refs: config.parsed.refs.datasets, dir: config.dir, root: project?.root ?? config.dir });

  if (!run.codeVersionId && project) {
    const { codeVersion, warning } = await snapshotCode({ store }, project);
    if (warning) deps.log.info('code version', { run: run.id, warning });
    if (codeVersion) store.runLinks.setRunCodeVersion(run.id, codeVersion.id);
  }
  const codeVersionId = store.runs.get(run.id)?.codeVersionId;
  if (codeVersionId) store.lineage.addEdge({ kind: 'code_version', id: codeVersionId }, runRef, EdgeTypes.UsedCode);
}

/**
 * The config the run ran with, parsed: a launched run's effective config (after `--set`
 * overrides), else the config file's recorded text; and the folder its relative paths start
 * from. Undefined (logged) when it cannot be read again.
 */
function runConfig(deps: LinkDeps, runId: string, configId: string, root: string | null): { parsed: TrainingConfig; dir: string } | undefined {
  const { store } = deps;
  const spec = store.runs.launchSpec(runId) as { effectiveConfigHash?: unknown; configPath?: unknown; projectRoot?: unknown } | null;
  const launched = spec !== null && typeof spec.effectiveConfigHash === 'string' && typeof spec.configPath === 'string' && typeof spec.projectRoot === 'string';
  const text = launched ? store.blobs.getText(spec.effectiveConfigHash as string) : store.configs.content(configId);
  const path = launched ? join(spec.projectRoot as string, spec.configPath as string) : (store.configs.get(configId)?.paths[0] ?? join(root ?? '/', 'config.yaml'));
  if (text === undefined || text === null) return undefined;
  try {
    return { parsed: parseTrainingConfig(text, path), dir: dirname(path) };
  } catch (err) {
    deps.log.warn('config could not be re-read for lineage', { config: configId, error: (err as Error).message });
    return undefined;
  }
}

/** The models the config starts from (base, teacher) become model records (or checkpoints) → run. */
async function linkBaseModels(deps: LinkDeps, runId: string, config: { parsed: TrainingConfig; dir: string }, root: string | null): Promise<void> {
  const { store } = deps;
  const run = store.runs.get(runId);
  const bases = [...(root === null ? [] : [root]), config.dir];
  for (const m of config.parsed.refs.baseModels) {
    if (m.role !== 'base' && m.role !== 'teacher') continue;
    const record = await recordBaseModel(deps, m.ref, { bases, ...(run?.outputDir ? { exclude: run.outputDir } : {}), ...(m.revision ? { revision: m.revision } : {}) });
    if (record) store.lineage.addEdge(record, { kind: 'run', id: runId }, EdgeTypes.BaseModel);
  }
}

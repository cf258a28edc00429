/**
 * Links a run to what produced it, so lineage can answer "where did this come from?":
 * config → run (the config whose `output_dir` is the run's folder), dataset versions →
 * run (those the config references), base model → run, and code version → run.
 *
 * For a launched run the config and code are known exactly. For a run that Keel only
 * watched, the config is the one whose `output_dir` resolves to the run folder, choosing
 * the version of that config file seen last before the run appeared; the code version is
 * the working tree's state when Keel first saw the run (the closest record there is).
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Logger } from '../log/logger.ts';
import { EdgeTypes, type Store } from '../store/index.ts';
import { parseTrainingConfig } from './config/parse.ts';
import { snapshotCode } from './code/index.ts';

export interface LinkDeps {
  store: Store;
  log: Logger;
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
  if (configId) {
    store.lineage.addEdge({ kind: 'config', id: configId }, runRef, EdgeTypes.UsedConfig);
    linkConfigInputs(deps, configId, runRef);
    if (!store.runLinks.hasParams(run.id)) store.runLinks.setParams(run.id, store.configs.params(configId));
  }

  if (!run.codeVersionId && project) {
    const { codeVersion, warning } = await snapshotCode({ store }, project);
    if (warning) deps.log.info('code version', { run: run.id, warning });
    if (codeVersion) store.runLinks.setRunCodeVersion(run.id, codeVersion.id);
  }
  const codeVersionId = store.runs.get(run.id)?.codeVersionId;
  if (codeVersionId) store.lineage.addEdge({ kind: 'code_version', id: codeVersionId }, runRef, EdgeTypes.UsedCode);
}

/** Dataset versions the config references, and its base models, become the run's inputs. */
function linkConfigInputs(deps: LinkDeps, configId: string, runRef: { kind: 'run'; id: string }): void {
  const { store } = deps;
  for (const e of store.lineage.incoming({ kind: 'config', id: configId })) {
    if (e.type === EdgeTypes.References && e.fromKind === 'dataset_version') {
      store.lineage.addEdge({ kind: 'dataset_version', id: e.fromId }, runRef, EdgeTypes.UsedData);
    }
  }
  const text = store.configs.content(configId);
  const path = store.configs.get(configId)?.paths[0] ?? 'config.yaml';
  if (text === undefined) return;
  try {
    const parsed = parseTrainingConfig(text, path);
    for (const m of parsed.refs.baseModels) {
      if (m.role !== 'base' && m.role !== 'teacher') continue;
      const ref = isAbsolute(m.ref) || !m.ref.startsWith('.') ? m.ref : resolve(dirname(path), m.ref);
      const base = store.checkpoints.ensureReference(ref);
      store.lineage.addEdge({ kind: 'checkpoint', id: base.id }, runRef, EdgeTypes.BaseModel);
    }
  } catch (err) {
    deps.log.warn('config could not be re-read for lineage', { config: configId, error: (err as Error).message });
  }
}

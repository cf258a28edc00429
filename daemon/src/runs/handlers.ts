/** Protocol methods for runs: list, show, compare, import, delete, metrics, evals. */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ErrorCode, RpcError, type Run } from '../protocol/index.ts';
import { parseRunCursor } from '../store/index.ts';
import type { DaemonContext } from '../server/daemon.ts';
import type { FeatureContext } from '../server/features.ts';
import type { Handlers } from '../server/handlers.ts';
import { compareRuns, evalsOfRun } from './compare.ts';
import { deleteRun } from './delete-run.ts';
import { runUsage } from './usage.ts';
import { metricPoints, metricsPage, shownSeries } from './metric-answers.ts';
import { findProject } from '../projects/handlers.ts';
import { refusedFolderReason } from '../projects/refused-folders.ts';
import { looksLikeRunDir, RUN_DIR_MARKERS } from '../track/ingest/scan.ts';

export function findRun(ctx: DaemonContext, ref: string): Run {
  const run = ctx.store.runs.find(ref);
  if (!run) throw new RpcError(ErrorCode.NotFound, `no run "${ref}"; \`keel runs\` lists them (an id prefix or a unique name works)`);
  return run;
}

/** The paths a config file may be recorded under: as given and with symlinks resolved. */
function configPathsOf(path: string): string[] {
  if (!isAbsolute(path)) throw new RpcError(ErrorCode.InvalidParams, `give the config as an absolute path, got "${path}"`);
  const abs = resolve(path);
  let real = abs;
  try {
    real = realpathSync(abs);
  } catch {
    /* a deleted config still has its runs */
  }
  return [...new Set([abs, real])];
}

/** The launch spec recorded with a run, as an object (null for watched and imported runs). */
function launchOf(ctx: DaemonContext, runId: string): Record<string, unknown> | null {
  const spec = ctx.store.runs.launchSpec(runId);
  return typeof spec === 'object' && spec !== null && !Array.isArray(spec) ? (spec as Record<string, unknown>) : null;
}

/**
 * Refuses a folder `keel import` must not record: a missing one, /, the kernel's folders,
 * Keel's own home (each would become a run nothing can delete, after a walk of the whole
 * machine), and a folder with nothing a trainer writes.
 */
async function checkImportable(ctx: DaemonContext, dir: string): Promise<void> {
  if (!isAbsolute(dir)) throw new RpcError(ErrorCode.InvalidParams, `give an absolute folder path, got "${dir}"`);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new RpcError(ErrorCode.NotFound, `no such folder: ${dir}`);
  const real = realpathSync(dir);
  const refused = refusedFolderReason(real, ctx.paths.home, 'a run folder');
  if (refused) throw new RpcError(ErrorCode.InvalidParams, `${refused}. Import the output folder of one training run (its output_dir).`, { path: dir });
  if (!(await looksLikeRunDir(real))) {
    throw new RpcError(ErrorCode.InvalidParams, `${dir} does not look like a training output folder: Keel looks for ${RUN_DIR_MARKERS}. `
      + 'Point `keel import` at the folder your trainer wrote (its output_dir).', { path: dir });
  }
}

export function runHandlers(ctx: FeatureContext): Partial<Handlers> {
  const { store } = ctx;
  const projectId = (ref: string | undefined): string | undefined => (ref ? findProject(ctx, ref).id : undefined);
  return {
    'runs/list': ({ project, statuses, config, limit, cursor }) => {
      const pid = projectId(project);
      const configPaths = config === undefined ? undefined : configPathsOf(config);
      const after = cursor === undefined ? undefined : parseRunCursor(cursor);
      if (cursor !== undefined && !after) throw new RpcError(ErrorCode.InvalidParams, `"${cursor}" is not a runs/list cursor; pass the nextCursor of the previous page as it came, or leave it out for the first page`);
      return store.runs.summaries({
        ...(pid ? { projectId: pid } : {}), ...(statuses ? { statuses } : {}), ...(configPaths ? { configPaths } : {}), ...(after ? { after } : {}), limit: limit ?? 200,
      });
    },
    'runs/get': ({ run: ref }) => {
      const run = findRun(ctx, ref);
      const datasets = [...new Set(store.lineage
        .incoming({ kind: 'run', id: run.id })
        .filter((e) => e.fromKind === 'dataset_version')
        .map((e) => e.fromId))]
        .flatMap((id) => store.datasets.version(id) ?? []);
      return {
        run,
        params: store.runLinks.params(run.id),
        ...shownSeries(store, run.id),
        summary: store.summaries.list(run.id),
        checkpoints: store.checkpoints.byRunAll(run.id),
        evals: evalsOfRun(store, run.id),
        config: run.configId ? store.configs.get(run.configId) ?? null : null,
        codeVersion: run.codeVersionId ? store.codeVersions.get(run.codeVersionId) ?? null : null,
        datasets,
        launch: launchOf(ctx, run.id),
        usage: runUsage(store, run),
      };
    },
    'runs/compare': ({ runs }) => {
      if (runs.length < 1) throw new RpcError(ErrorCode.InvalidParams, 'name at least one run to compare');
      const found = [...new Map(runs.map((r) => findRun(ctx, r)).map((r) => [r.id, r])).values()];
      return compareRuns(store, found);
    },
    'runs/import': async ({ dir, project, name }) => {
      await checkImportable(ctx, dir);
      const pid = projectId(project) ?? store.projects.containing(dir)?.id ?? null;
      const report = await ctx.tracker.ingestRun(pid, dir, 'import', name ? { name } : {});
      return report;
    },
    'runs/delete': ({ run, force }) => deleteRun(ctx, findRun(ctx, run), force ?? false),
    'metrics/get': (params) => metricPoints(store, findRun(ctx, params.run), params),
    'metrics/list': (params) => metricsPage(store, findRun(ctx, params.run), params),
    'runs/config': ({ run: ref }) => {
      const run = findRun(ctx, ref);
      const spec = store.runs.launchSpec(run.id) as { effectiveConfigHash?: string | null; configFormat?: 'yaml' | 'json'; configPath?: string | null } | null;
      if (spec?.effectiveConfigHash) {
        return { runId: run.id, text: store.blobs.getText(spec.effectiveConfigHash) ?? null, format: spec.configFormat ?? null, path: spec.configPath ?? null };
      }
      const config = run.configId ? store.configs.get(run.configId) : undefined;
      return { runId: run.id, text: config ? store.configs.content(config.id) ?? null : null, format: config?.format ?? null, path: config?.paths[0] ?? null };
    },
    'evals/list': ({ project, task, run }) => {
      if (run) return { evals: evalsOfRun(store, findRun(ctx, run).id).filter((e) => !task || e.task === task) };
      const pid = projectId(project);
      return { evals: store.evals.list({ ...(task ? { task } : {}), ...(pid ? { projectId: pid } : {}) }) };
    },
  };
}

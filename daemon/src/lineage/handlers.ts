/** Protocol methods for lineage, datasets and model aliases. */
import { ErrorCode, RpcError, type Checkpoint, type ModelAliasInfo } from '../protocol/index.ts';
import type { DaemonContext } from '../server/daemon.ts';
import type { Handlers } from '../server/handlers.ts';
import { describeNode } from './describe.ts';
import { lineageGraph } from './graph.ts';
import { resolveRef } from './resolve.ts';
import { findProject } from '../projects/handlers.ts';

function notTracked(ref: string): RpcError {
  return new RpcError(ErrorCode.NotFound, `Keel tracks nothing at "${ref}". Paths must match a keel.yaml glob (datasets, configs, outputs, evals) or be imported with \`keel import\`.`);
}

export function lineageHandlers(ctx: DaemonContext): Partial<Handlers> {
  const { store } = ctx;
  const projectId = (ref: string | undefined): string | undefined => (ref ? findProject(ctx, ref).id : undefined);
  return {
    'lineage/get': async ({ ref, cwd, depth }) => {
      const found = await resolveRef(store, ref, cwd);
      const graph = found && lineageGraph(store, found.kind, found.id, depth ?? 10);
      if (!graph) throw notTracked(ref);
      return graph;
    },
    'lineage/resolve': async ({ ref, cwd }) => {
      const found = await resolveRef(store, ref, cwd);
      return { node: found ? describeNode(store, found.kind, found.id) ?? null : null };
    },
    'datasets/list': ({ project }) => ({ datasets: store.datasets.list(project ? { projectId: findProject(ctx, project).id } : {}) }),
    'datasets/show': async ({ ref, cwd }) => {
      const found = await resolveRef(store, ref, cwd);
      const version = found?.kind === 'dataset_version' ? store.datasets.version(found.id) : undefined;
      const dataset = version && store.datasets.get(version.datasetId);
      if (!dataset) throw new RpcError(ErrorCode.NotFound, `"${ref}" is not a tracked dataset; add it to \`datasets:\` in keel.yaml`);
      return { dataset, versions: store.datasets.versions(dataset.id) };
    },
    'models/tag': async ({ checkpoint, alias, cwd, note }) => {
      const found = await resolveRef(store, checkpoint, cwd);
      if (found?.kind !== 'checkpoint') throw new RpcError(ErrorCode.NotFound, `"${checkpoint}" is not a tracked checkpoint; \`keel run show RUN\` lists a run's checkpoints`);
      const ckpt = store.checkpoints.get(found.id) as Checkpoint;
      if (ckpt.deletedAt != null) {
        throw new RpcError(ErrorCode.InvalidState, `checkpoint ${ckpt.location} was deleted from disk ${new Date(ckpt.deletedAt).toISOString()} (Keel keeps it as history only), so it cannot be tagged; \`keel run show ${ckpt.runId ?? 'RUN'}\` lists the run's present checkpoints`);
      }
      const run = ckpt.runId ? store.runs.get(ckpt.runId) : undefined;
      const pid = run?.projectId ?? null;
      const { changed, previousCheckpointId } = store.models.tag(pid, alias, ckpt.id, note ?? null);
      ctx.log.info('model tagged', { alias, checkpoint: ckpt.id, previous: previousCheckpointId });
      // Every window's Models view hears of it, whichever client (a terminal's `keel tag`) moved it.
      if (changed) ctx.server.publish('models', { alias, checkpointId: ckpt.id, projectId: pid });
      return { alias, checkpoint: ckpt, changed, previous: previousCheckpointId && previousCheckpointId !== ckpt.id ? store.checkpoints.get(previousCheckpointId) ?? null : null };
    },
    'models/list': ({ project }) => {
      const pid = projectId(project);
      const models: ModelAliasInfo[] = store.models.list(pid).map((m) => ({
        alias: m.alias,
        projectId: m.projectId,
        checkpoint: store.checkpoints.get(m.checkpointId) ?? null,
        updatedAt: m.updatedAt,
        history: store.models.history(m.projectId, m.alias).map((h) => ({ checkpointId: h.checkpointId, previousCheckpointId: h.previousCheckpointId, at: h.at, note: h.note })),
      }));
      return { models, baseModels: store.baseModels.list() };
    },
  };
}

/** Describes any record as a lineage node: a short label and the facts a person wants. */
import { basename } from 'node:path';
import type { Checkpoint, LineageNode, RecordKind, Run } from '../protocol/index.ts';
import type { Store } from '../store/index.ts';
import { flavorLabel } from '../track/config/flavor.ts';

function short(hash: string | null | undefined): string | null {
  return hash ? hash.replace(/^(\w+:)?(.{12}).*$/, '$1$2') : null;
}

function runNode(r: Run, launch: unknown): LineageNode {
  // Overrides tell runs of one config apart wherever a lineage label is shown.
  const spec = launch as { overrides?: unknown } | null;
  const overrides = Array.isArray(spec?.overrides) ? spec.overrides.filter((o): o is string => typeof o === 'string').join(' ') : '';
  return { kind: 'run', id: r.id, label: r.name, details: { status: r.status, host: r.hostName, outputDir: r.outputDir, exitCode: r.exitCode, createdAt: r.createdAt, overrides: overrides || null } };
}

function checkpointNode(c: Checkpoint, aliases: readonly string[]): LineageNode {
  const also = (c.locations ?? []).filter((l) => l.deletedAt === null).map((l) => l.location);
  return {
    kind: 'checkpoint', id: c.id, label: c.location,
    details: {
      step: c.step, kind: c.kind, hash: short(c.hash), sizeBytes: c.sizeBytes, runId: c.runId, aliases: aliases.join(', ') || null,
      // A deleted checkpoint stays in lineage as history: when it was seen gone.
      deletedAt: c.deletedAt ?? null, final: c.final === true, alsoAt: also.join(', ') || null, createdAt: c.createdAt,
    },
  };
}

/**
 * The nodes for many records, in their order, leaving out those that no longer exist. Runs and
 * checkpoints — the many in a big graph (a dataset hundreds of runs trained on, a run's
 * checkpoints) — are read a few queries for all, not a few each.
 */
export function describeNodes<T extends { kind: RecordKind; id: string }>(store: Store, refs: readonly T[]): (LineageNode & Omit<T, 'kind' | 'id'>)[] {
  const ids = (kind: RecordKind): string[] => refs.filter((r) => r.kind === kind).map((r) => r.id);
  const runs = store.runs.getMany(ids('run'));
  const checkpointIds = ids('checkpoint');
  const checkpoints = store.checkpoints.getMany(checkpointIds);
  const aliases = store.models.aliasesOfMany(checkpointIds);
  return refs.flatMap((ref) => {
    let node: LineageNode | undefined;
    if (ref.kind === 'run') {
      const found = runs.get(ref.id);
      node = found && runNode(found.run, found.launch);
    } else if (ref.kind === 'checkpoint') {
      const c = checkpoints.get(ref.id);
      node = c && checkpointNode(c, aliases.get(ref.id) ?? []);
    } else node = describeNode(store, ref.kind, ref.id);
    return node ? [{ ...ref, ...node }] : [];
  });
}

/** The node for `kind:id`, or undefined when the record no longer exists. */
export function describeNode(store: Store, kind: RecordKind, id: string): LineageNode | undefined {
  switch (kind) {
    case 'run': {
      const r = store.runs.get(id);
      return r ? runNode(r, store.runs.launchSpec(id)) : undefined;
    }
    case 'checkpoint': {
      const c = store.checkpoints.get(id);
      return c && checkpointNode(c, store.models.aliasesOf(id));
    }
    case 'model': {
      const m = store.baseModels.get(id);
      if (!m) return undefined;
      const label = m.kind === 'hub' && m.revision !== '' ? `${m.ref}@${m.revision}` : m.ref;
      return { kind, id, label, details: { modelKind: m.kind, revision: m.revision || null, hash: short(m.hash), locations: m.locations.length, createdAt: m.createdAt } };
    }
    case 'dataset_version': {
      const v = store.datasets.version(id);
      if (!v) return undefined;
      const d = store.datasets.get(v.datasetId);
      const latest = d ? store.datasets.latestVersion(d.id) : undefined;
      return { kind, id, label: d?.path ?? v.hash, details: { hash: short(v.hash), sizeBytes: v.sizeBytes, files: v.fileCount, latest: latest?.id === v.id, createdAt: v.createdAt, datasetId: v.datasetId } };
    }
    case 'config': {
      const c = store.configs.get(id);
      if (!c) return undefined;
      return { kind, id, label: c.paths[0] ? basename(c.paths[0]) : c.hash, details: { path: c.paths[0] ?? null, hash: short(c.hash), flavor: c.flavor, flavorLabel: flavorLabel(c.flavor, c.format) } };
    }
    case 'code_version': {
      const c = store.codeVersions.get(id);
      if (!c) return undefined;
      return { kind, id, label: c.commit ? `${c.commit.slice(0, 10)}${c.dirty ? '+dirty' : ''}` : 'no git', details: { commit: c.commit, branch: c.branch, remote: c.remote, dirty: c.dirty } };
    }
    case 'eval': {
      const rows = store.evals.group(id);
      const first = rows[0];
      if (!first) return undefined;
      const main = rows.find((r) => !r.stderr || r.metric.startsWith('acc')) ?? first;
      // Task names (groups first, as lm-eval lists them) say what an eval measured; the file name is a timestamp.
      const tasks = [...new Set(rows.map((r) => r.task))];
      return {
        kind, id, label: first.sourcePath ? basename(first.sourcePath) : first.task,
        details: { results: rows.length, tasks: tasks.length, taskNames: tasks.join(', '), example: `${main.task} ${main.metric}=${main.value ?? 'NaN'}`, sourcePath: first.sourcePath, createdAt: first.createdAt, evalJobFailed: first.evalJobFailed === true },
      };
    }
    default:
      return { kind, id, label: id, details: {} };
  }
}

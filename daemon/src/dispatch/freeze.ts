/**
 * The frozen launch spec: what a run will execute, decided once, at launch — the train and
 * eval commands (and setup, and env NAMES: values are secrets and are read at each start),
 * the code (commit + patch hash, and the snapshot of the exact files shipped), and the exact
 * dataset versions. Every attempt, retry, rerun and the eval after it uses these; keel.yaml
 * and the working tree may change freely afterwards.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, RpcError } from '../protocol/index.ts';
import type { Store } from '../store/index.ts';
import { EdgeTypes } from '../store/index.ts';
import { snapshotCode } from '../track/code/index.ts';
import { trackDataset } from '../track/datasets/index.ts';
import type { FileHasher, HashCache } from '../track/hash/index.ts';
import type { JobCommand, KeelProject } from '../track/project/keel-yaml.ts';
import { expandGlob, isIgnoredPath } from '../track/watch/expand.ts';
import { matchingAncestor } from '../track/watch/glob.ts';
import { compileProjectGlobs } from '../track/watch/project-watcher.ts';
import type { CodeSnapshots } from './code-snapshots.ts';
import { LARGE_SNAPSHOT_BYTES, shippedCode } from './shipped-code.ts';

/** A command as frozen at launch. */
export interface FrozenCommand {
  /** The template from keel.yaml, placeholders (`{config}`…) still in it. */
  command: string;
  setup: string | null;
  /** Names of the env variables given to the job (values are read from keel.yaml at each start). */
  envNames: string[];
}

/** One dataset version the run uses. */
export interface FrozenDataset {
  datasetId: string;
  /** Where it sits in the project (and in the job's workspace). */
  path: string;
  kind: 'file' | 'folder';
  versionId: string;
  hash: string;
}

/** The code the run uses. */
export interface FrozenCode {
  versionId: string | null;
  commit: string | null;
  patchHash: string | null;
  /** The snapshot of the shipped files (`code/<snapshotId>` on hosts). */
  snapshotId: string;
  snapshotHash: string;
  files: number;
  bytes: number;
  /** The snapshot can be rebuilt from commit + patch (nothing was left out of the patch). */
  rebuildable: boolean;
}

/** What a run executes, decided at launch. */
export interface FrozenSpec {
  frozenAt: number;
  job: FrozenCommand;
  /** keel.yaml's eval command at launch, run on the best checkpoint after success (train runs). */
  eval: FrozenCommand | null;
  code: FrozenCode;
  datasets: FrozenDataset[];
}

/** The code and data of a launch, shared by every point of a sweep. */
export interface FrozenSources {
  code: FrozenCode;
  datasets: FrozenDataset[];
  /** Notes for the run's events (files left home as secrets, a large snapshot, the code version's warning). */
  notes: { kind: string; severity: 'info' | 'warning'; message: string }[];
}

export interface FreezeDeps {
  store: Store;
  hasher: FileHasher;
  hashCache: HashCache;
  snapshots: CodeSnapshots;
}

/** A command of keel.yaml, frozen. */
export function freezeCommand(c: JobCommand | undefined): FrozenCommand | null {
  if (!c?.command) return null;
  return { command: c.command, setup: c.setup ?? null, envNames: Object.keys(c.env ?? {}) };
}

/** Freezes the project's code and datasets as they are now. */
export async function freezeSources(deps: FreezeDeps, project: { id: string; root: string }, keel: KeelProject): Promise<FrozenSources> {
  const notes: FrozenSources['notes'] = [];
  const shipped = await shippedCode(project.root, keel, { hasher: deps.hasher, hashCache: deps.hashCache });
  const snapshot = await deps.snapshots.freeze(project.root, shipped);
  if (snapshot.bytes > LARGE_SNAPSHOT_BYTES) {
    notes.push({ kind: 'large_sync', severity: 'warning', message: `the code snapshot is ${(snapshot.bytes / 1e6).toFixed(0)} MB; add large files to .keelignore or keel.yaml datasets` });
  }
  if (shipped.secrets.length > 0) {
    notes.push({
      kind: 'secrets_not_shipped', severity: 'info',
      message: `not shipped, because they look like secrets: ${shipped.secrets.slice(0, 10).join(', ')}${shipped.secrets.length > 10 ? ` and ${shipped.secrets.length - 10} more` : ''}. ` +
        'Give the job secret values through keel.yaml train.env (it reads them from its private job.env); to ship a file that holds none, ' +
        'add "!<its path>" under keel.yaml `secrets:`, in quotes (YAML reads a bare ! as a tag).',
    });
  }
  const cv = await snapshotCode({ store: deps.store }, { id: project.id, root: project.root, secrets: keel.secrets ?? [] });
  if (cv.warning) notes.push({ kind: 'code_version_warning', severity: 'info', message: `code version: ${cv.warning}` });
  if (cv.codeVersion) deps.store.codeVersions.setSnapshotHash(cv.codeVersion.id, snapshot.hash);
  const code: FrozenCode = {
    versionId: cv.codeVersion?.id ?? null, commit: cv.codeVersion?.commit ?? null, patchHash: cv.codeVersion?.patchHash ?? null,
    snapshotId: snapshot.id, snapshotHash: snapshot.hash, files: snapshot.files.length, bytes: snapshot.bytes,
    rebuildable: cv.codeVersion !== null && cv.leftOut.length === 0 && snapshot.id === shipped.id,
  };
  return { code, datasets: await freezeDatasets(deps, project, keel), notes };
}

/**
 * The paths of the project's datasets: those already recorded, and every current match of
 * keel.yaml's dataset globs — a launch right after `keel init` (or after adding a dataset)
 * may come before the tracker has walked the tree, and a frozen spec without the data would
 * run the job on nothing.
 */
async function datasetPaths(deps: FreezeDeps, project: { id: string; root: string }, keel: KeelProject): Promise<string[]> {
  const paths = new Set<string>();
  for (const dataset of deps.store.datasets.list({ projectId: project.id })) {
    const abs = deps.store.datasets.absPath(dataset.id);
    if (abs) paths.add(abs);
  }
  const globs = compileProjectGlobs(keel);
  for (const glob of globs.datasets) {
    for (const rel of await expandGlob(project.root, glob)) {
      if (!isIgnoredPath(rel) && !matchingAncestor(globs.ignore, rel)) paths.add(join(project.root, rel));
    }
  }
  return [...paths].sort();
}

/** Each dataset of the project at its current version; a dataset being written is waited for a little, then refused. */
async function freezeDatasets(deps: FreezeDeps, project: { id: string; root: string }, keel: KeelProject): Promise<FrozenDataset[]> {
  const out: FrozenDataset[] = [];
  for (const abs of await datasetPaths(deps, project, keel)) {
    let tracked = await trackDataset({ store: deps.store, hasher: deps.hasher, hashCache: deps.hashCache }, project, abs).catch(() => null);
    for (let i = 0; i < 3 && tracked?.retry; i++) {
      await sleep(1000);
      tracked = await trackDataset({ store: deps.store, hasher: deps.hasher, hashCache: deps.hashCache }, project, abs).catch(() => null);
    }
    if (tracked === null) continue; // gone since it was tracked: nothing to ship
    if (tracked.retry || !tracked.version) {
      throw new RpcError(ErrorCode.InvalidState, `dataset ${tracked?.dataset.path ?? abs} is being written right now (it changed while Keel hashed it); launch again once it settles`, { path: abs });
    }
    const { dataset } = tracked;
    out.push({ datasetId: dataset.id, path: dataset.path, kind: dataset.kind, versionId: tracked.version.id, hash: tracked.version.hash });
  }
  return out;
}

/** The lineage of a frozen run: its code version and dataset versions, recorded at launch. */
export function recordFrozenLineage(store: Store, runId: string, sources: Pick<FrozenSources, 'code' | 'datasets'>): void {
  if (sources.code.versionId) {
    store.runLinks.setRunCodeVersion(runId, sources.code.versionId);
    store.lineage.addEdge({ kind: 'code_version', id: sources.code.versionId }, { kind: 'run', id: runId }, EdgeTypes.UsedCode);
  }
  for (const d of sources.datasets) store.lineage.addEdge({ kind: 'dataset_version', id: d.versionId }, { kind: 'run', id: runId }, EdgeTypes.UsedData);
}

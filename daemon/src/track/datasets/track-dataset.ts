/**
 * Tracks a dataset file or folder: hashes it (unchanged files come from the hash cache and are
 * never read), and records a new dataset version only when the content hash differs from the
 * latest one. Changing back to earlier content makes that earlier version the latest again.
 *
 * A hash taken while files were being written must not become a version: when a file vanished
 * or kept changing during the walk, nothing is recorded and the result says `retry`. New
 * content is profiled (row counts, invalid lines, PII hints), then hashed once more — cheaply,
 * from the cache — so the profile is known to describe the hashed bytes.
 */
import type { BigIntStats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ErrorCode, RpcError, type Dataset, type DatasetVersion } from '../../protocol/index.ts';
import type { Store } from '../../store/index.ts';
import { hashTree } from '../hash/index.ts';
import type { FileHasher, HashCache, IgnoreRule, SkippedPath, TreeHash } from '../hash/index.ts';
import { profileFile, profileFolder, type FileProfile, type FolderProfile, type ProfileProgress } from './profile-folder.ts';

/** Names never part of a dataset folder: tool and OS litter, not data. */
const IGNORED_NAMES = new Set(['.git', 'node_modules', '__pycache__', '.DS_Store']);

/** Leaves out `.git`, `node_modules`, `__pycache__` and `.DS_Store` at any depth. */
export const defaultDatasetIgnore: IgnoreRule = (relPath) => IGNORED_NAMES.has(relPath.slice(relPath.lastIndexOf('/') + 1));

/** Where a long tracking job is. Sent at most every {@link PROGRESS_INTERVAL_MS}, plus the end of each phase. */
export interface DatasetProgress {
  phase: 'hashing' | 'profiling';
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** Path inside the dataset being read ('' when between files). */
  currentPath: string;
}

/** Progress reports are throttled to this interval. */
export const PROGRESS_INTERVAL_MS = 200;

/** What trackDataset needs. */
export interface TrackDatasetDeps {
  store: Store;
  /** The daemon's hash pool (or any FileHasher). */
  hasher: FileHasher;
  /** Usually `store.fileHashes`. */
  hashCache: HashCache;
  onProgress?: (progress: DatasetProgress) => void;
  signal?: AbortSignal;
  /** Defaults to {@link defaultDatasetIgnore}. */
  ignore?: IgnoreRule;
  /** Passed to hashTree: files modified this recently are hashed but not cached (default 2000 ms). */
  racyWindowMs?: number;
}

/** The project a dataset belongs to. */
export interface DatasetProject {
  id: string;
  root: string;
}

/** What trackDataset found and recorded. */
export interface TrackedDataset {
  dataset: Dataset;
  /** The dataset's latest version after this call; null when nothing could be recorded (see `retry`). */
  version: DatasetVersion | null;
  /** A new version was written. */
  created: boolean;
  /** The content changed back to an earlier version, which is the latest again. */
  reactivated: boolean;
  /** Paths left out of the hash. Unreadable files and broken links are left out of the version too. */
  skipped: SkippedPath[];
  /** Files vanished or kept changing while being read: nothing was recorded; call again later. */
  retry: boolean;
}

/** Skips that mean "being written right now", not "broken". */
const TRANSIENT_SKIPS = new Set<SkippedPath['kind']>(['deleted', 'changed']);

/**
 * Hashes the dataset at `absPath` and records a version when its content is new.
 * Throws E_NOT_FOUND when the path does not exist and E_IO when it cannot be read.
 */
export async function trackDataset(deps: TrackDatasetDeps, project: DatasetProject, absPath: string): Promise<TrackedDataset> {
  const abs = resolve(absPath);
  const kind = datasetKind(abs, await statDataset(abs));
  const progress = throttled(deps.onProgress);
  const tree = await hashDataset(deps, abs, (p) => progress({ phase: 'hashing', ...p }));
  const datasets = deps.store.datasets;
  const dataset = datasets.ensure({ projectId: project.id, path: projectPath(project.root, abs), absPath: abs, kind });
  const done = (version: DatasetVersion | null, flags: Partial<Pick<TrackedDataset, 'created' | 'reactivated' | 'retry'>>): TrackedDataset => ({
    dataset: datasets.get(dataset.id) ?? dataset, version, skipped: tree.skipped,
    created: flags.created ?? false, reactivated: flags.reactivated ?? false, retry: flags.retry ?? false,
  });
  if (tree.skipped.some((s) => TRANSIENT_SKIPS.has(s.kind))) return done(null, { retry: true });

  const latest = datasets.latestVersion(dataset.id);
  if (latest?.hash === tree.hash) return done(latest, {});
  // Content seen before (a revert): that version becomes the latest again, nothing to read.
  let profile: FileProfile | FolderProfile | null = null;
  if (!datasets.versionByHash(dataset.id, tree.hash)) {
    const onProfile = (p: ProfileProgress): void => progress({ phase: 'profiling', ...p });
    profile = kind === 'file'
      ? await profileFile(abs, tree.size, { signal: deps.signal, onProgress: onProfile })
      : await profileFolder(abs, tree.files, tree.skipped, { signal: deps.signal, onProgress: onProfile });
    progress.flush();
    const again = await hashDataset(deps, abs, () => undefined);
    if (again.hash !== tree.hash) return done(null, { retry: true });
  }
  const added = datasets.addVersion(dataset.id, {
    hash: tree.hash, sizeBytes: tree.size, fileCount: tree.fileCount, profile, files: tree.files,
  });
  if (added.created && tree.skipped.length > 0) reportIncomplete(deps.store, dataset, added.version, abs, tree.skipped);
  return done(added.version, { created: added.created, reactivated: added.reactivated });
}

/** Paths named in a `dataset_incomplete` event; the version's profile keeps more. */
const EVENT_PATHS = 5;

/**
 * A new version that left paths out (FIFOs, links leaving the folder, unreadable files) is
 * recorded as it is, and a warning event says so: a run trained on it lacks those files.
 */
function reportIncomplete(store: Store, dataset: Dataset, version: DatasetVersion, abs: string, skipped: readonly SkippedPath[]): void {
  const listed = skipped.slice(0, EVENT_PATHS).map((s) => `${s.path} (${s.reason})`).join('; ');
  const more = skipped.length > EVENT_PATHS ? `; and ${skipped.length - EVENT_PATHS} more` : '';
  const count = skipped.length === 1 ? '1 path' : `${skipped.length} paths`;
  store.events.add({
    kind: 'dataset_incomplete', severity: 'warning',
    message: `dataset ${dataset.path}: version ${version.hash.slice(0, 19)}… leaves out ${count}: ${listed}${more}. `
      + `Replace them with regular files inside the folder or remove them; \`keel dataset show ${abs}\` lists them.`,
    data: { datasetId: dataset.id, versionId: version.id, skipped: skipped.length },
  });
}

async function statDataset(abs: string): Promise<BigIntStats> {
  try {
    return await stat(abs, { bigint: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new RpcError(ErrorCode.NotFound, `dataset ${abs} does not exist`, { path: abs });
    throw new RpcError(ErrorCode.Io, `cannot read dataset ${abs}: ${(err as Error).message}`, { path: abs });
  }
}

function datasetKind(abs: string, stats: BigIntStats): 'file' | 'folder' {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'folder';
  throw new RpcError(ErrorCode.Io, `dataset ${abs} is not a regular file or folder; Keel reads only files and folders. Replace it with one.`, { path: abs });
}

async function hashDataset(deps: TrackDatasetDeps, abs: string, onProgress: (p: Omit<DatasetProgress, 'phase'>) => void): Promise<TreeHash> {
  try {
    return await hashTree(abs, {
      cache: deps.hashCache, pool: deps.hasher, ignore: deps.ignore ?? defaultDatasetIgnore, what: 'dataset folder',
      signal: deps.signal, onProgress, racyWindowMs: deps.racyWindowMs,
    });
  } catch (err) {
    deps.signal?.throwIfAborted();
    throw new RpcError(ErrorCode.Io, (err as Error).message, { path: abs });
  }
}

/**
 * The dataset's path as stored: relative to the project root with `/` separators, or
 * absolute when the data lives outside the project (a `../..` path would break when the
 * project moves, an absolute one names the same data).
 */
export function projectPath(root: string, abs: string): string {
  const rel = relative(resolve(root), abs);
  if (rel === '') return '.';
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return abs.split(sep).join('/');
  return rel.split(sep).join('/');
}

interface Throttled {
  (progress: DatasetProgress): void;
  flush(): void;
}

/** Forwards progress at most every PROGRESS_INTERVAL_MS; a phase's last report always goes out. */
function throttled(onProgress: ((progress: DatasetProgress) => void) | undefined): Throttled {
  let lastSent = 0;
  let pending: DatasetProgress | undefined;
  const send = (p: DatasetProgress): void => {
    lastSent = Date.now();
    pending = undefined;
    onProgress?.(p);
  };
  const fn = (p: DatasetProgress): void => {
    if (!onProgress) return;
    const finished = p.filesDone === p.filesTotal && p.bytesDone >= p.bytesTotal;
    if (finished || Date.now() - lastSent >= PROGRESS_INTERVAL_MS) send(p);
    else pending = p;
  };
  fn.flush = (): void => {
    if (pending) send(pending);
  };
  return fn;
}

/**
 * Content hash of a dataset, checkpoint or code folder (or of one file).
 *
 * Rules, so equal content always gives an equal version id:
 * - A folder's hash is the hash of its manifest (manifest.ts): every regular file reached,
 *   sorted by path. Empty folders and file modes are not part of it (as in git); a symlink
 *   counts as its target's content under the symlink's own path.
 * - A single file's hash is its content hash, so a one-file dataset's version id does not
 *   depend on its name; its manifest has one entry named after the file.
 * - Symlinks are followed only while their real target stays inside the folder (walk.ts).
 * - Paths that cannot be included (deleted or changed while hashing, unreadable, loops,
 *   FIFOs, links leaving the folder, entries past the walk's limit) are listed in `skipped`; the hash covers `files` only, so a caller should treat a
 *   non-empty `skipped` as an incomplete version.
 */
import type { BigIntStats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { setImmediate } from 'node:timers/promises';
import { basename } from 'node:path';
import { HASH_ALGO, isCurrentHash } from './algorithm.ts';
import type { HashAlgo } from './algorithm.ts';
import { fileIdentity, sameIdentity } from './cache.ts';
import type { HashCache } from './cache.ts';
import { forEachLimited } from './concurrency.ts';
import { FileReadError } from './file-hash.ts';
import { manifestHash, sortEntries } from './manifest.ts';
import type { ManifestEntry } from './manifest.ts';
import type { FileHasher } from './pool.ts';
import { walkFolder } from './walk.ts';
import type { IgnoreRule, SkippedPath, WalkedFile } from './walk.ts';

/** Progress of one hashTree call; `bytesDone` counts cache hits as done. */
export interface TreeProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  currentPath: string;
}

/** Options of hashTree. */
export interface HashTreeOptions {
  cache: HashCache;
  pool: FileHasher;
  ignore?: IgnoreRule;
  /** What the folder is, for skip reasons ("dataset folder"); see walk.ts. */
  what?: string;
  /** Entries a folder walk looks at before it stops (walk.ts DEFAULT_MAX_ENTRIES). */
  maxEntries?: number;
  /** Called after every chunk and every file; often, so throttle before sending it anywhere. */
  onProgress?: (progress: TreeProgress) => void;
  signal?: AbortSignal;
  /** Files hashed at once (queued in the pool); default 4. */
  concurrency?: number;
  /**
   * A file modified less than this long before its hash started is hashed but not cached:
   * a later write within the same file-system timestamp tick would leave its identity
   * unchanged. Default 2000 ms (coarse enough for FAT and network file systems).
   */
  racyWindowMs?: number;
}

/** The hashed content of a folder or file. */
export interface TreeHash {
  /** Version id: `'sha256:<hex>'` */
  hash: string;
  algo: HashAlgo;
  /** Total bytes of `files`. */
  size: number;
  fileCount: number;
  files: ManifestEntry[];
  skipped: SkippedPath[];
}

/** Cache lookups between two turns of the event loop. */
const CACHE_SLICE = 4_096;

/** Tries per file when it keeps changing while being read. */
const MAX_ATTEMPTS = 3;

/**
 * Hashes the folder or file at `root`, reading only files the cache does not know.
 * Throws only when `root` itself cannot be read, on abort, or when a one-file root fails.
 */
export async function hashTree(root: string, opts: HashTreeOptions): Promise<TreeHash> {
  opts.signal?.throwIfAborted();
  let rootStats: BigIntStats;
  try {
    rootStats = await stat(root, { bigint: true });
  } catch (err) {
    throw new Error(`cannot hash ${root}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (rootStats.isFile()) return hashSingleFile(root, rootStats, opts);
  if (!rootStats.isDirectory()) throw new Error(`cannot hash ${root}: not a regular file or folder`);
  const walked = await walkFolder(root, rootStats, {
    ignore: opts.ignore, signal: opts.signal, what: opts.what, maxEntries: opts.maxEntries,
    // The pool's workers list folders with blocking calls off this thread, one message per folder.
    lister: opts.pool.listFolder?.bind(opts.pool),
  });
  const { files, skipped } = await hashFiles(walked.files, opts);
  const sorted = sortEntries(files);
  return summarize(manifestHash(sorted), sorted, sortEntries([...walked.skipped, ...skipped]));
}

async function hashSingleFile(root: string, rootStats: BigIntStats, opts: HashTreeOptions): Promise<TreeHash> {
  const file: WalkedFile = { relPath: basename(root), absPath: root, identity: fileIdentity(rootStats) };
  const { files, skipped } = await hashFiles([file], opts);
  const entry = files[0];
  if (!entry) throw new Error(`cannot hash ${root}: ${skipped[0]?.reason ?? 'unknown error'}`);
  return summarize(entry.hash, files, []);
}

/** `files` and `skipped` must already be in manifest order. */
function summarize(hash: string, files: ManifestEntry[], skipped: SkippedPath[]): TreeHash {
  const size = files.reduce((sum, f) => sum + f.size, 0);
  return { hash, algo: HASH_ALGO, size, fileCount: files.length, files, skipped };
}

/** Hashes walked files with bounded concurrency, reporting progress as bytes flow. */
async function hashFiles(
  walked: WalkedFile[], opts: HashTreeOptions,
): Promise<{ files: ManifestEntry[]; skipped: SkippedPath[] }> {
  const files: ManifestEntry[] = [];
  const skipped: SkippedPath[] = [];
  const progress = { filesDone: 0, filesTotal: walked.length, bytesDone: 0, bytesTotal: 0, currentPath: '' };
  progress.bytesTotal = walked.reduce((sum, f) => sum + f.identity.size, 0);
  const inFlight = new Map<string, number>();
  const report = (currentPath: string): void => {
    let partial = 0;
    for (const bytes of inFlight.values()) partial += bytes;
    opts.onProgress?.({ ...progress, bytesDone: progress.bytesDone + partial, currentPath });
  };
  // Files the cache knows first, without a promise each (an unchanged folder is all of them);
  // the event loop gets a turn every CACHE_SLICE of them.
  const misses: WalkedFile[] = [];
  for (let i = 0; i < walked.length; i++) {
    if (i > 0 && i % CACHE_SLICE === 0) await setImmediate();
    opts.signal?.throwIfAborted();
    const file = walked[i] as WalkedFile;
    const cached = opts.cache.get(file.identity);
    if (cached === undefined || !isCurrentHash(cached)) {
      misses.push(file);
      continue;
    }
    files.push({ path: file.relPath, size: file.identity.size, hash: cached });
    progress.filesDone++;
    progress.bytesDone += file.identity.size;
    report(file.relPath);
  }
  await forEachLimited(misses, opts.concurrency ?? 4, async (file) => {
    opts.signal?.throwIfAborted();
    const outcome = await hashOneFile(file, opts, (bytes) => {
      inFlight.set(file.relPath, bytes);
      report(file.relPath);
    });
    inFlight.delete(file.relPath);
    if ('kind' in outcome) skipped.push(outcome);
    else files.push(outcome);
    progress.filesDone++;
    progress.bytesDone += file.identity.size;
    report(file.relPath);
  });
  return { files, skipped };
}

/**
 * One file the cache did not know (hashFiles looked): read, then re-checked; when it changed
 * meanwhile, its new identity may be known to the cache.
 */
async function hashOneFile(
  file: WalkedFile, opts: HashTreeOptions, onBytes: (bytes: number) => void,
): Promise<ManifestEntry | SkippedPath> {
  let identity = file.identity;
  for (let attempt = 1; ; attempt++) {
    const cached = attempt === 1 ? undefined : opts.cache.get(identity);
    if (cached !== undefined && isCurrentHash(cached)) return { path: file.relPath, size: identity.size, hash: cached };
    const startedNs = BigInt(Date.now()) * 1_000_000n;
    let result;
    try {
      result = await opts.pool.hashFile(file.absPath, { signal: opts.signal, onProgress: onBytes });
    } catch (err) {
      if (err instanceof FileReadError) return readFailure(file.relPath, err);
      throw err;
    }
    const after = result.identityAfter !== undefined
      ? result.identityAfter
      : await stat(file.absPath, { bigint: true }).then(fileIdentity, () => null);
    if (!after) return { path: file.relPath, kind: 'deleted', reason: 'deleted while hashing' };
    if (sameIdentity(identity, after) && result.size === identity.size) {
      if (!isRacy(identity, startedNs, opts.racyWindowMs ?? 2000)) opts.cache.put(identity, result.hash, file.absPath);
      return { path: file.relPath, size: result.size, hash: result.hash };
    }
    if (attempt >= MAX_ATTEMPTS) {
      return { path: file.relPath, kind: 'changed', reason: `changed while hashing (${MAX_ATTEMPTS} tries)` };
    }
    identity = after;
  }
}

function isRacy(identity: { mtimeNs: string }, startedNs: bigint, windowMs: number): boolean {
  return BigInt(identity.mtimeNs) + BigInt(Math.round(windowMs * 1e6)) > startedNs;
}

function readFailure(path: string, err: FileReadError): SkippedPath {
  if (err.code === 'ENOENT') return { path, kind: 'deleted', reason: 'deleted while hashing' };
  if (err.code === 'ENOTREG') return { path, kind: 'not-regular-file', reason: 'not a regular file' };
  return { path, kind: 'unreadable', reason: `cannot read (${err.code}): ${err.message}` };
}

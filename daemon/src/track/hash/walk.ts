/**
 * Lists the files of a folder for hashing: follows symlinks that stay inside the folder (to
 * files: their target's content; to folders: each folder once; see links.ts for the rule and
 * its Hugging Face cache exception), never loops, stops after a number of entries, and turns
 * every problem with a single entry into a `skipped` record instead of an exception.
 */
import type { BigIntStats, Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileIdentity } from './cache.ts';
import type { FileIdentity } from './cache.ts';
import { forEachLimited } from './concurrency.ts';
import { errorCode } from './file-hash.ts';
import { linkBoundary, targetOutside } from './links.ts';
import { sortEntries } from './manifest.ts';

/** Why a path is not part of a hashed folder. */
export type SkipKind =
  | 'deleted'
  | 'unreadable'
  | 'symlink-loop'
  | 'duplicate-dir'
  | 'broken-symlink'
  | 'not-regular-file'
  | 'changed'
  /** A symlink whose real target is outside the folder (links.ts). */
  | 'outside-link'
  /** The walk stopped at its entry limit; this path and everything after it is left out. */
  | 'walk-limit';

/** A path left out of a hash, with the reason in words. */
export interface SkippedPath {
  path: string;
  kind: SkipKind;
  reason: string;
}

/** A file found by the walk, with the identity its cache lookup uses. */
export interface WalkedFile {
  relPath: string;
  absPath: string;
  identity: FileIdentity;
}

/** Decides whether a path (relative, `/`-separated) is left out; a left-out folder is not entered. */
export type IgnoreRule = (relPath: string, isDirectory: boolean) => boolean;

/** What a walk found. */
export interface WalkResult {
  files: WalkedFile[];
  skipped: SkippedPath[];
}

/** Options of walkFolder. */
export interface WalkOptions {
  ignore?: IgnoreRule;
  signal?: AbortSignal;
  /** What the folder is, for reasons: "link leaves the dataset folder: -> /". Default "folder". */
  what?: string;
  /** Entries (files, folders, links) looked at before the walk stops; default {@link DEFAULT_MAX_ENTRIES}. */
  maxEntries?: number;
}

interface WalkState {
  ignore: IgnoreRule | undefined;
  signal: AbortSignal | undefined;
  what: string;
  /** Real folder that symlinks must stay in. */
  boundary: string;
  /** Entries left before the walk stops. */
  budget: number;
  maxEntries: number;
  /** dev:ino of every folder walked so far → its relative path ('' for the root). */
  visited: Map<string, string>;
  result: WalkResult;
}

/** Parallel stats per folder: enough to hide latency, few enough to leave file handles free. */
const STAT_CONCURRENCY = 32;

/** A million entries: far past any dataset folder a profile or a manifest row per file suits. */
export const DEFAULT_MAX_ENTRIES = 1_000_000;

/** Walks the folder `root`, whose own stat the caller already has. */
export async function walkFolder(root: string, rootStats: BigIntStats, opts: WalkOptions = {}): Promise<WalkResult> {
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const state: WalkState = {
    ignore: opts.ignore,
    signal: opts.signal,
    what: opts.what ?? 'folder',
    boundary: linkBoundary(await realpath(root)),
    budget: maxEntries,
    maxEntries,
    visited: new Map([[dirKey(rootStats), '']]),
    result: { files: [], skipped: [] },
  };
  const entries = await readdir(root, { withFileTypes: true });
  await walkEntries(state, root, '', entries, new Set([dirKey(rootStats)]));
  return state.result;
}

function dirKey(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}`;
}

/** One folder level: stat the entries in parallel, then enter sub-folders in name order. */
async function walkEntries(
  state: WalkState, absDir: string, relDir: string, unsorted: Dirent[], ancestors: Set<string>,
): Promise<void> {
  if (!spend(state, relDir, unsorted.length)) return;
  const entries = sortEntries(unsorted.map((entry) => ({ entry, path: entry.name }))).map((e) => e.entry);
  const stats = new Array<BigIntStats | Error>(entries.length);
  await forEachLimited(entries, STAT_CONCURRENCY, async (entry, i) => {
    state.signal?.throwIfAborted();
    stats[i] = await stat(join(absDir, entry.name), { bigint: true }).catch((err: unknown) =>
      err instanceof Error ? err : new Error(String(err)));
  });
  for (const [i, entry] of entries.entries()) {
    state.signal?.throwIfAborted();
    const relPath = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
    const entryStats = stats[i];
    if (!entryStats) continue;
    const isDir = entryStats instanceof Error ? entry.isDirectory() : entryStats.isDirectory();
    if (state.ignore?.(relPath, isDir)) continue;
    const absPath = join(absDir, entry.name);
    if (entryStats instanceof Error) skipUnstattable(state, relPath, entry, entryStats);
    else if (entry.isSymbolicLink() && (await leavesFolder(state, absPath, relPath))) continue;
    else if (entryStats.isFile()) state.result.files.push({ relPath, absPath, identity: fileIdentity(entryStats) });
    else if (isDir) await enterFolder(state, absPath, relPath, entryStats, ancestors);
    else skip(state, relPath, 'not-regular-file', `${fileType(entryStats)}, not a regular file`);
    if (state.budget < 0) return;
  }
}

/** Takes `count` entries from the walk's budget; false (and one `walk-limit` skip) once it is spent. */
function spend(state: WalkState, relDir: string, count: number): boolean {
  if (state.budget < 0) return false;
  state.budget -= count;
  if (state.budget >= 0) return true;
  skip(state, relDir === '' ? '.' : relDir, 'walk-limit',
    `more than ${state.maxEntries} entries: the walk stopped here, and the rest of the ${state.what} is left out`);
  return false;
}

/** A link whose real target is outside the boundary is skipped with where it leads. */
async function leavesFolder(state: WalkState, absPath: string, relPath: string): Promise<boolean> {
  const target = await targetOutside(absPath, state.boundary);
  if (target === undefined) return false;
  skip(state, relPath, 'outside-link', `link leaves the ${state.what}: -> ${target}`);
  return true;
}

/** What a stat that is not a file or folder is, in words. */
function fileType(st: BigIntStats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a file or folder';
}

/** Enters a folder unless it is an ancestor (a symlink loop) or was already walked. */
async function enterFolder(
  state: WalkState, absPath: string, relPath: string, stats: BigIntStats, ancestors: Set<string>,
): Promise<void> {
  const key = dirKey(stats);
  const seenAs = state.visited.get(key);
  if (ancestors.has(key)) {
    skip(state, relPath, 'symlink-loop', `symlink loop: leads back to ${JSON.stringify(seenAs || '.')}`);
    return;
  }
  if (seenAs !== undefined) {
    skip(state, relPath, 'duplicate-dir', `folder already included as ${JSON.stringify(seenAs)}`);
    return;
  }
  state.visited.set(key, relPath);
  let entries: Dirent[];
  try {
    entries = await readdir(absPath, { withFileTypes: true });
  } catch (err) {
    skipUnstattable(state, relPath, undefined, err);
    return;
  }
  await walkEntries(state, absPath, relPath, entries, new Set(ancestors).add(key));
}

function skipUnstattable(state: WalkState, relPath: string, entry: Dirent | undefined, err: unknown): void {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ELOOP') skip(state, relPath, 'symlink-loop', 'symlink loop: too many levels of symbolic links');
  else if (code === 'ENOENT' && entry?.isSymbolicLink()) skip(state, relPath, 'broken-symlink', 'symlink target does not exist');
  else if (code === 'ENOENT') skip(state, relPath, 'deleted', 'deleted while hashing');
  else skip(state, relPath, 'unreadable', `cannot read: ${message}`);
}

function skip(state: WalkState, path: string, kind: SkipKind, reason: string): void {
  state.result.skipped.push({ path, kind, reason });
}

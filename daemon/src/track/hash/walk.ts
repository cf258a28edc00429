/**
 * Lists the files of a folder for hashing: follows symlinks that stay inside the folder (to
 * files: their target's content; to folders: each folder once; see links.ts for the rule and
 * its Hugging Face cache exception), never loops, stops after a number of entries, and turns
 * every problem with a single entry into a `skipped` record instead of an exception.
 */
import type { BigIntStats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
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

/** What a walk needs of an entry's stat (following links): what it is, and its identity. */
export interface EntryStat {
  kind: 'file' | 'dir' | 'fifo' | 'socket' | 'char' | 'block' | 'other';
  identity: FileIdentity;
}

/** One entry of a listed folder: its name, what readdir says it is, and its stat (or why it has none). */
export interface ListedEntry {
  name: string;
  /** The entry itself, not following a link. */
  dirent: 'dir' | 'link' | 'file' | 'other';
  stat: EntryStat | Error;
}

/**
 * Lists a folder with a stat of every entry; rejects with the folder's readdir error. The
 * hash pool lists in its worker threads (blocking calls there, one message per folder);
 * {@link listFolder} does the same with async calls on the caller's thread.
 */
export type FolderLister = (absDir: string) => Promise<ListedEntry[]>;

/** Options of walkFolder. */
export interface WalkOptions {
  ignore?: IgnoreRule;
  signal?: AbortSignal;
  /** What the folder is, for reasons: "link leaves the dataset folder: -> /". Default "folder". */
  what?: string;
  /** Entries (files, folders, links) looked at before the walk stops; default {@link DEFAULT_MAX_ENTRIES}. */
  maxEntries?: number;
  /** How folders are listed; default {@link listFolder}. */
  lister?: FolderLister;
}

interface WalkState {
  list: FolderLister;
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

/** Sub-folders listed ahead of the one being walked (their listings wait in memory). */
const LIST_AHEAD = 4;

/** The kind of a stat, in the walk's terms. */
export function statKind(st: { isFile(): boolean; isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): EntryStat['kind'] {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'other';
}

/** Lists `absDir` with async calls on this thread (the default lister). */
export async function listFolder(absDir: string): Promise<ListedEntry[]> {
  const dirents = await readdir(absDir, { withFileTypes: true });
  const out = new Array<ListedEntry>(dirents.length);
  await forEachLimited(dirents, STAT_CONCURRENCY, async (entry, i) => {
    const dirent = entry.isDirectory() ? 'dir' : entry.isSymbolicLink() ? 'link' : entry.isFile() ? 'file' : 'other';
    const st = await stat(join(absDir, entry.name), { bigint: true }).then(
      (s): EntryStat => ({ kind: statKind(s), identity: fileIdentity(s) }),
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
    out[i] = { name: entry.name, dirent, stat: st };
  });
  return out;
}

/** A million entries: far past any dataset folder a profile or a manifest row per file suits. */
export const DEFAULT_MAX_ENTRIES = 1_000_000;

/**
 * `join(dir, name)` for a normalized `dir` and a name from readdir (never `.`, `..` or with a
 * separator), without join's normalizing pass over the whole path: a walk makes one per entry.
 */
function childPath(dir: string, name: string): string {
  if (dir === '.') return name;
  return dir.endsWith(sep) ? dir + name : dir + sep + name;
}

/** Walks the folder `root`, whose own stat the caller already has. */
export async function walkFolder(rootPath: string, rootStats: BigIntStats, opts: WalkOptions = {}): Promise<WalkResult> {
  const root = normalize(rootPath);
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const rootKey = dirKey(fileIdentity(rootStats));
  const state: WalkState = {
    list: opts.lister ?? listFolder,
    ignore: opts.ignore,
    signal: opts.signal,
    what: opts.what ?? 'folder',
    boundary: linkBoundary(await realpath(root)),
    budget: maxEntries,
    maxEntries,
    visited: new Map([[rootKey, '']]),
    result: { files: [], skipped: [] },
  };
  const entries = await state.list(root);
  await walkEntries(state, root, '', entries, new Set([rootKey]));
  return state.result;
}

function dirKey(identity: FileIdentity): string {
  return `${identity.dev}:${identity.ino}`;
}

/** A listing started early; a rejection nobody awaits is not an unhandled one. */
function listAhead(state: WalkState, absPath: string): Promise<ListedEntry[]> {
  const listing = state.list(absPath);
  listing.catch(() => {});
  return listing;
}

/** One folder level (entries already stat'ed): files in name order, sub-folders entered in name order. */
async function walkEntries(
  state: WalkState, absDir: string, relDir: string, unsorted: ListedEntry[], ancestors: Set<string>,
): Promise<void> {
  if (!spend(state, relDir, unsorted.length)) return;
  const entries = sortEntries(unsorted.map((entry) => ({ entry, path: entry.name }))).map((e) => e.entry);
  state.signal?.throwIfAborted();
  // Plain sub-folders (not links: a link's target is checked first; not ignored ones) are
  // listed a few ahead, so the lister works while this thread handles the folder before.
  // The ignore rule is asked once per entry, in name order.
  const relOf = (name: string): string => (relDir === '' ? name : `${relDir}/${name}`);
  const isDirAt = (e: ListedEntry): boolean => (e.stat instanceof Error ? e.dirent === 'dir' : e.stat.kind === 'dir');
  const ignored = entries.map((e) => state.ignore?.(relOf(e.name), isDirAt(e)) === true);
  const folders = entries.flatMap((e, i) => (e.dirent === 'dir' && !(e.stat instanceof Error) && e.stat.kind === 'dir' && !ignored[i] ? [i] : []));
  const ahead = new Map<number, Promise<ListedEntry[]>>();
  let nextAhead = 0;
  for (const [i, entry] of entries.entries()) {
    while (nextAhead < folders.length && ahead.size < LIST_AHEAD) {
      const f = folders[nextAhead++] as number;
      ahead.set(f, listAhead(state, childPath(absDir, (entries[f] as ListedEntry).name)));
    }
    const listing = ahead.get(i);
    ahead.delete(i);
    state.signal?.throwIfAborted();
    const relPath = relOf(entry.name);
    const entryStat = entry.stat;
    const isDir = isDirAt(entry);
    if (ignored[i]) continue;
    const absPath = childPath(absDir, entry.name);
    if (entryStat instanceof Error) skipUnstattable(state, relPath, entry, entryStat);
    else if (entry.dirent === 'link' && (await leavesFolder(state, absPath, relPath))) continue;
    else if (entryStat.kind === 'file') state.result.files.push({ relPath, absPath, identity: entryStat.identity });
    else if (isDir) await enterFolder(state, absPath, relPath, entryStat, ancestors, listing);
    else skip(state, relPath, 'not-regular-file', `${fileType(entryStat)}, not a regular file`);
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
function fileType(st: EntryStat): string {
  if (st.kind === 'fifo') return 'a FIFO (named pipe)';
  if (st.kind === 'socket') return 'a socket';
  if (st.kind === 'char') return 'a character device';
  if (st.kind === 'block') return 'a block device';
  return 'not a file or folder';
}

/** Enters a folder unless it is an ancestor (a symlink loop) or was already walked; `listing` may be under way already. */
async function enterFolder(
  state: WalkState, absPath: string, relPath: string, st: EntryStat, ancestors: Set<string>, listing: Promise<ListedEntry[]> | undefined,
): Promise<void> {
  const key = dirKey(st.identity);
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
  let entries: ListedEntry[];
  try {
    entries = await (listing ?? state.list(absPath));
  } catch (err) {
    skipUnstattable(state, relPath, undefined, err);
    return;
  }
  await walkEntries(state, absPath, relPath, entries, new Set(ancestors).add(key));
}

function skipUnstattable(state: WalkState, relPath: string, entry: ListedEntry | undefined, err: unknown): void {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ELOOP') skip(state, relPath, 'symlink-loop', 'symlink loop: too many levels of symbolic links');
  else if (code === 'ENOENT' && entry?.dirent === 'link') skip(state, relPath, 'broken-symlink', 'symlink target does not exist');
  else if (code === 'ENOENT') skip(state, relPath, 'deleted', 'deleted while hashing');
  else skip(state, relPath, 'unreadable', `cannot read: ${message}`);
}

function skip(state: WalkState, path: string, kind: SkipKind, reason: string): void {
  state.result.skipped.push({ path, kind, reason });
}

/**
 * Expands a project's globs by walking from each glob's static base folder (never the whole
 * repository), skipping `.git`, `node_modules` and the like. The walk is asynchronous and
 * yields to the event loop every few hundred entries, so a folder of 100 000 files never
 * holds up a request; it stops after `maxEntries` and says so.
 */
import { opendir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CompiledGlob } from './glob.ts';

/** Folders never walked or watched. */
export const IGNORED_DIRS = new Set(['.git', 'node_modules', '__pycache__', '.venv', 'venv', '.mypy_cache', '.pytest_cache', '.tox', '.idea', '.vscode-test']);

export function isIgnoredPath(relPath: string): boolean {
  return relPath.split('/').some((part) => IGNORED_DIRS.has(part));
}

/** Entries read per directory batch, and between two yields to the event loop. */
const BATCH = 256;

/** Gives pending I/O and timers a turn. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Options of {@link expandGlob} and {@link walkTree}. */
export interface TreeWalkOptions {
  /** Entries looked at before the walk stops; default 100 000. */
  maxEntries?: number;
  /** Called once when the walk stopped at `maxEntries`, with a sentence saying so. */
  onLimit?: (message: string) => void;
  signal?: AbortSignal;
}

/**
 * Visits the entries under `root`/`start` (relative POSIX paths, folders before their
 * contents, symlinks not followed). `visit` returns true to descend into a folder.
 */
export async function walkTree(
  root: string, start: string, visit: (relPath: string, isDirectory: boolean, isSymlink: boolean) => boolean, opts: TreeWalkOptions = {},
): Promise<void> {
  const maxEntries = opts.maxEntries ?? 100_000;
  let seen = 0;
  const pending = [start];
  for (let rel = pending.pop(); rel !== undefined; rel = pending.pop()) {
    let dir;
    try {
      dir = await opendir(join(root, rel), { bufferSize: BATCH });
    } catch {
      continue; // missing or unreadable: nothing to match
    }
    for await (const e of dir) {
      opts.signal?.throwIfAborted();
      if (++seen > maxEntries) {
        opts.onLimit?.(`${join(root, start)}: more than ${maxEntries} entries; the walk stopped and the rest was not looked at`);
        return; // leaving the for-await closes the directory
      }
      if (seen % BATCH === 0) await yieldToEventLoop();
      if (IGNORED_DIRS.has(e.name)) continue;
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (visit(child, e.isDirectory(), e.isSymbolicLink()) && e.isDirectory()) pending.push(child);
    }
  }
}

/** Relative POSIX paths (files and folders) under `root` that match `glob`, in no particular order. */
export async function expandGlob(root: string, glob: CompiledGlob, opts: TreeWalkOptions = {}): Promise<string[]> {
  if (glob.source === glob.base) {
    const exists = await stat(join(root, glob.base)).then(() => true, () => false);
    return exists ? [glob.base] : [];
  }
  const out: string[] = [];
  const depth = glob.source.split('/').length;
  const anyDepth = glob.source.includes('**');
  await walkTree(root, glob.base, (child, isDirectory) => {
    if (glob.match(child)) out.push(child);
    // A matched folder is one record (a dataset, a run): don't look for matches inside it,
    // unless the glob can reach deeper (`**`, or more segments than this path has).
    return isDirectory && (anyDepth || depth > child.split('/').length);
  }, opts);
  return out;
}

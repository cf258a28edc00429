/**
 * Expands a project's globs by walking from each glob's static base folder (never the whole
 * repository), skipping `.git`, `node_modules` and the like. Bounded by `maxEntries`.
 */
import { existsSync, readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import type { CompiledGlob } from './glob.ts';

/** Folders never walked or watched. */
export const IGNORED_DIRS = new Set(['.git', 'node_modules', '__pycache__', '.venv', 'venv', '.mypy_cache', '.pytest_cache', '.tox', '.idea', '.vscode-test']);

export function isIgnoredPath(relPath: string): boolean {
  return relPath.split('/').some((part) => IGNORED_DIRS.has(part));
}

/** Relative POSIX paths (files and folders) under `root` that match `glob`. */
export function expandGlob(root: string, glob: CompiledGlob, maxEntries = 100_000): string[] {
  const out: string[] = [];
  let visited = 0;
  const walk = (rel: string): void => {
    if (visited++ > maxEntries) return;
    let entries: Dirent[];
    try {
      entries = readdirSync(join(root, rel), { withFileTypes: true });
    } catch {
      return; // missing or unreadable: nothing to match
    }
    for (const e of entries) {
      if (IGNORED_DIRS.has(e.name)) continue;
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (glob.match(child)) out.push(child);
      // A matched folder is one record (a dataset, a run): don't look for matches inside it,
      // unless the glob can reach deeper (`**`, or more segments than this path has).
      const deeper = glob.source.includes('**') || glob.source.split('/').length > child.split('/').length;
      if (e.isDirectory() && deeper) walk(child);
    }
  };
  if (glob.source === glob.base) return existsSync(join(root, glob.base)) ? [glob.base] : [];
  walk(glob.base);
  return out;
}

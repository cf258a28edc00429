/**
 * Watches one project with chokidar (native events, no polling). Only the folders that can
 * hold a match are watched: each glob's static base and the folders leading to it, so a
 * large repository costs little. Events are classified into the records they touch.
 */
import { watch, type FSWatcher } from 'chokidar';
import { relative, sep } from 'node:path';
import type { KeelProject } from '../project/keel-yaml.ts';
import { compileGlobs, matchesAny, matchingAncestor, type CompiledGlob, type GlobError } from './glob.ts';
import { isIgnoredPath } from './expand.ts';

export type TrackedKind = 'dataset' | 'config' | 'run' | 'eval' | 'project-file';

export interface TrackedChange {
  kind: TrackedKind;
  /** POSIX path relative to the project root: the dataset, config, run folder or eval file. */
  relPath: string;
}

export interface ProjectGlobs {
  datasets: CompiledGlob[];
  configs: CompiledGlob[];
  outputs: CompiledGlob[];
  evals: CompiledGlob[];
  ignore: CompiledGlob[];
}

/**
 * Compiles a project's globs. keel.yaml reading already turned unusable globs into errors; a
 * project stored by an older daemon may still hold one, which is left out and reported.
 */
export function compileProjectGlobs(p: KeelProject, onInvalid: (err: GlobError) => void = () => {}): ProjectGlobs {
  const c = (xs: readonly string[]): CompiledGlob[] => compileGlobs(xs, onInvalid);
  return { datasets: c(p.datasets), configs: c(p.configs), outputs: c(p.outputs), evals: c(p.evals), ignore: c(p.ignore) };
}

/** What a changed path means for the record: which dataset/config/run/eval it belongs to. */
export function classifyPath(globs: ProjectGlobs, relPath: string): TrackedChange[] {
  if (relPath === 'keel.yaml') return [{ kind: 'project-file', relPath }];
  if (isIgnoredPath(relPath) || matchingAncestor(globs.ignore, relPath)) return [];
  const out: TrackedChange[] = [];
  const dataset = matchingAncestor(globs.datasets, relPath);
  if (dataset) out.push({ kind: 'dataset', relPath: dataset });
  if (matchesAny(globs.configs, relPath)) out.push({ kind: 'config', relPath });
  if (matchesAny(globs.evals, relPath)) out.push({ kind: 'eval', relPath });
  const run = matchingAncestor(globs.outputs, relPath);
  if (run) out.push({ kind: 'run', relPath: run });
  return out;
}

function mayHoldMatches(globs: ProjectGlobs, rel: string): boolean {
  if (rel === '' || rel === 'keel.yaml') return true;
  if (isIgnoredPath(rel)) return false;
  for (const g of [...globs.datasets, ...globs.configs, ...globs.outputs, ...globs.evals]) {
    if (g.base === '') {
      if (g.source.includes('**') || !rel.includes('/')) return true;
      continue;
    }
    if (rel === g.base || rel.startsWith(`${g.base}/`) || g.base.startsWith(`${rel}/`)) return true;
  }
  return false;
}

export class ProjectWatcher {
  private watcher: FSWatcher | null = null;
  private readonly root: string;
  private readonly globs: ProjectGlobs;
  private readonly onChange: (c: TrackedChange) => void;
  private readonly onError: (err: Error) => void;
  private readonly excluded: string[];

  constructor(root: string, globs: ProjectGlobs, handlers: { onChange: (c: TrackedChange) => void; onError: (err: Error) => void; exclude?: string[] }) {
    this.root = root;
    this.globs = globs;
    this.onChange = handlers.onChange;
    this.onError = handlers.onError;
    this.excluded = handlers.exclude ?? [];
  }

  /** Starts watching; resolves once chokidar has its initial view (events before that are ignored). */
  start(): Promise<void> {
    const toRel = (p: string): string => relative(this.root, p).split(sep).join('/');
    this.watcher = watch(this.root, {
      ignoreInitial: true,
      persistent: true,
      followSymlinks: false,
      ignored: (p: string) => {
        if (this.excluded.some((x) => p === x || p.startsWith(`${x}${sep}`))) return true;
        const rel = toRel(p);
        return rel.startsWith('..') || !mayHoldMatches(this.globs, rel);
      },
    });
    this.watcher.on('all', (_event, p) => {
      for (const change of classifyPath(this.globs, toRel(p))) this.onChange(change);
    });
    this.watcher.on('error', (err) => this.onError(err as Error));
    const w = this.watcher;
    return new Promise((resolve) => w.once('ready', () => resolve()));
  }

  async close(): Promise<void> {
    const w = this.watcher;
    this.watcher = null;
    if (w) await w.close();
  }
}

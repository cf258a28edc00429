/**
 * Globs from keel.yaml (`data/*.jsonl`, `outputs/**`, `configs/{a,b}.yaml`), matched against
 * POSIX relative paths with minimatch. A hand-rolled glob→RegExp compiler backtracked
 * exponentially (`data/*a*a*a*a*a*a*a*a*b` against one 64-character name froze the daemon for
 * 40 s); minimatch matches segment by segment without that blow-up. Brace expansion is the
 * other way a glob can cost without bound (`{a,b}` twenty times is a million patterns), so a
 * glob is checked before it is used: {@link globProblem} says why it cannot be, in words.
 */
import { braceExpand, Minimatch, type MinimatchOptions } from 'minimatch';

/** What a glob may cost. */
export const GlobLimits = {
  /** Characters in one glob: a path is at most 4096, and a glob this long is a mistake. */
  maxLength: 1024,
  /** Patterns one glob may expand to through `{a,b}` groups. */
  maxPatterns: 256,
} as const;

const OPTIONS: MinimatchOptions = {
  dot: true,
  // Only `*`, `?`, `[...]`, `[!...]`, `{a,b}` and `**` are special, as in keel.yaml's docs:
  // no extglobs (`+(a|b)` is a file name), no `#` comments, no `!` negation.
  noext: true,
  nocomment: true,
  nonegate: true,
  braceExpandMax: GlobLimits.maxPatterns,
};

export interface CompiledGlob {
  /** The glob as written, without a leading `./` or trailing `/`. */
  source: string;
  /** The folder part before the first wildcard (where to start watching or walking). */
  base: string;
  /** True when the relative POSIX path matches. */
  match(relPath: string): boolean;
}

/** A glob that cannot be used; the message says why and what to write instead. */
export class GlobError extends Error {
  readonly glob: string;
  constructor(glob: string, problem: string) {
    super(`glob "${glob}" ${problem}`);
    this.name = 'GlobError';
    this.glob = glob;
  }
}

function normalize(glob: string): string {
  return glob.replace(/^\.\//, '').replace(/\/+$/, '');
}

/** Why `glob` cannot be used (a phrase after the glob: "is empty"), or undefined when it is fine. */
export function globProblem(glob: string): string | undefined {
  const source = normalize(glob);
  if (source.trim() === '') return 'is empty: write a path relative to the folder holding keel.yaml, e.g. data/*.jsonl';
  if (source.length > GlobLimits.maxLength) {
    return `is ${source.length} characters long, over Keel's ${GlobLimits.maxLength}-character limit for a glob; shorten it or use a * wildcard`;
  }
  const braces = braceProblem(source);
  if (braces) return braces;
  if (source.includes('{') && braceExpand(source, { ...OPTIONS, braceExpandMax: GlobLimits.maxPatterns + 1 }).length > GlobLimits.maxPatterns) {
    return `expands to more than ${GlobLimits.maxPatterns} patterns (every {a,b} group multiplies them); use fewer brace groups or a * wildcard`;
  }
  return undefined;
}

/** An unclosed `{` or a stray `}` (outside `[...]`, not escaped with `\`). */
function braceProblem(source: string): string | undefined {
  const open: number[] = [];
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') i++;
    else if (ch === '[') {
      const end = source.indexOf(']', i + 2);
      if (end !== -1) i = end;
    } else if (ch === '{') open.push(i);
    else if (ch === '}' && open.pop() === undefined) {
      return `has a "}" with no "{" before it (character ${i + 1}); write {a,b} or escape it as \\}`;
    }
  }
  const unclosed = open[0];
  return unclosed === undefined ? undefined : `has a "{" that is never closed (character ${unclosed + 1}); write {a,b} or escape it as \\{`;
}

/**
 * Compiles one glob. `**` matches any number of folders, `*` and `?` stay within one.
 * Throws {@link GlobError} for a glob {@link globProblem} refuses.
 */
export function compileGlob(glob: string): CompiledGlob {
  const problem = globProblem(glob);
  if (problem) throw new GlobError(glob, problem);
  const source = normalize(glob);
  const matcher = new Minimatch(source, OPTIONS);
  const firstWild = source.search(/[*?[{]/);
  const staticPart = firstWild === -1 ? source : source.slice(0, firstWild);
  const base = firstWild === -1 ? source : staticPart.includes('/') ? staticPart.slice(0, staticPart.lastIndexOf('/')) : '';
  return { source, base, match: (relPath) => matcher.match(relPath) };
}

/** Compiles the globs that can be compiled; the others are reported through `onInvalid` and left out. */
export function compileGlobs(globs: readonly string[], onInvalid: (err: GlobError) => void): CompiledGlob[] {
  const out: CompiledGlob[] = [];
  for (const glob of globs) {
    try {
      out.push(compileGlob(glob));
    } catch (err) {
      if (!(err instanceof GlobError)) throw err;
      onInvalid(err);
    }
  }
  return out;
}

/** The first glob the relative POSIX path matches. */
export function matchesAny(globs: readonly CompiledGlob[], relPath: string): CompiledGlob | undefined {
  return globs.find((g) => g.match(relPath));
}

/**
 * The shortest ancestor of `relPath` (or the path itself) that matches a glob — e.g. for
 * `outputs/*` and `outputs/run1/checkpoint-5/x.bin` it is `outputs/run1`.
 */
export function matchingAncestor(globs: readonly CompiledGlob[], relPath: string): string | undefined {
  const parts = relPath.split('/');
  for (let n = 1; n <= parts.length; n++) {
    const candidate = parts.slice(0, n).join('/');
    if (matchesAny(globs, candidate)) return candidate;
  }
  return undefined;
}

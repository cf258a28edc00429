/**
 * Globs from keel.yaml (`data/*.jsonl`, `outputs/**`, `configs/{a,b}.yaml`), compiled to
 * RegExps over POSIX relative paths. chokidar ≥ 4 takes no globs, and the daemon may run on
 * a Node without `path.matchesGlob`, so this small matcher is ours.
 */

export interface CompiledGlob {
  source: string;
  /** The folder part before the first wildcard (where to start watching or walking). */
  base: string;
  regex: RegExp;
}

function escapeRegex(ch: string): string {
  return /[.+^$()|\\/]/.test(ch) ? `\\${ch}` : ch;
}

/** Compiles one glob. `**` matches any number of folders, `*` and `?` stay within one. */
export function compileGlob(glob: string): CompiledGlob {
  const source = glob.replace(/^\.\//, '').replace(/\/+$/, '');
  let re = '';
  let i = 0;
  let braceDepth = 0;
  while (i < source.length) {
    const ch = source[i] as string;
    if (ch === '*') {
      if (source[i + 1] === '*') {
        const slashAfter = source[i + 2] === '/';
        re += slashAfter ? '(?:[^/]*(?:/|$))*' : '.*';
        i += slashAfter ? 3 : 2;
        continue;
      }
      re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = source.indexOf(']', i + 1);
      if (end === -1) re += '\\[';
      else {
        const body = source.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else if (ch === '{') {
      braceDepth++;
      re += '(?:';
    } else if (ch === '}' && braceDepth > 0) {
      braceDepth--;
      re += ')';
    } else if (ch === ',' && braceDepth > 0) re += '|';
    else re += escapeRegex(ch);
    i++;
  }
  const firstWild = source.search(/[*?[{]/);
  const staticPart = firstWild === -1 ? source : source.slice(0, firstWild);
  const base = firstWild === -1 ? source : staticPart.includes('/') ? staticPart.slice(0, staticPart.lastIndexOf('/')) : '';
  return { source, base, regex: new RegExp(`^${re}$`) };
}

/** True when the relative POSIX path matches any of the globs. */
export function matchesAny(globs: readonly CompiledGlob[], relPath: string): CompiledGlob | undefined {
  return globs.find((g) => g.regex.test(relPath));
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

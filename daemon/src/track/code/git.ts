/**
 * Running git for code snapshots, through simple-git. The user's own git configuration is
 * read as usual, but every output Keel hashes is produced with explicit options, so the same
 * tree gives the same bytes whatever `diff.*` settings the user has.
 */
import { simpleGit, type SimpleGit } from 'simple-git';

/** The environment variables Keel sets for git itself; simple-git refuses any other GIT_* key. */
const KEEL_GIT_ENV = ['GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_LITERAL_PATHSPECS'] as const;
export type KeelGitEnv = Partial<Record<(typeof KEEL_GIT_ENV)[number], string>>;

/**
 * The daemon's environment without the variables simple-git guards (GIT_*, editors, pagers,
 * askpass): a GIT_DIR or GIT_INDEX_FILE left over from a hook must not redirect the snapshot.
 */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(GIT_|EDITOR$|VISUAL$|PAGER$|PREFIX$|SSH_ASKPASS$)/i.test(key)) env[key] = value;
  }
  return env;
}

/** Options for a git handle. */
export interface GitOptions {
  /** The git program; default `git` from PATH. */
  binary?: string;
  env?: KeelGitEnv;
}

/** A simple-git handle in `dir` (which must exist). */
export function openGit(dir: string, opts: GitOptions = {}): SimpleGit {
  const git = simpleGit({
    baseDir: dir,
    binary: opts.binary ?? 'git',
    maxConcurrentProcesses: 4,
    trimmed: false,
    allowEnvironment: KEEL_GIT_ENV,
    // Quoted names in diff headers whatever core.quotePath says (git apply reads both).
    config: ['core.quotePath=true'],
  });
  return opts.env ? git.env({ ...cleanEnv(), ...opts.env }) : git;
}

/** git's output with surrounding whitespace removed; '' when it printed nothing (e.g. `-q` lookups that fail). */
export async function gitLine(git: SimpleGit, args: string[]): Promise<string> {
  return (await git.raw(args)).trim();
}

/** The version of git, or undefined when it cannot be run. */
export async function gitVersion(git: SimpleGit): Promise<string | undefined> {
  try {
    const v = await git.version();
    return v.installed ? `${v.major}.${v.minor}.${String(v.patch)}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Options that pin down every part of `git diff` output a user setting could change
 * (prefixes, colour, external drivers, rename detection, algorithm, context), so equal trees
 * give byte-equal patches and `git apply` always reads them.
 */
export const STABLE_DIFF_OPTIONS = [
  '--binary', '--full-index', '--no-color', '--no-ext-diff', '--no-textconv', '--no-renames',
  '--diff-algorithm=myers', '--indent-heuristic', '--unified=3', '--inter-hunk-context=0',
  '--src-prefix=a/', '--dst-prefix=b/', '--no-relative', '--ignore-submodules=none',
];

/**
 * The steps that keep secrets out of a dirty patch, run on the private index copy that
 * patch.ts stages into (never on the user's index):
 *
 * - a tracked file that looks like a secret goes back to its committed state in that index,
 *   so its changes (or its addition) are not in the patch;
 * - every keel.yaml in the patch has its env values redacted on BOTH sides: the staged copy
 *   is replaced by a redacted one, and the diff is taken against a copy of the commit's
 *   tree whose keel.yaml files are redacted the same way. git computes the hunks, so `-`,
 *   `+` and context lines all carry `'[redacted]'` where a value was, and a change to a
 *   value alone leaves no trace at all.
 *
 * What that means for `git apply`: the patch applies to the commit once the commit's own
 * keel.yaml has been redacted with redactKeelYaml (the preimage matches exactly). Applied
 * to the plain commit, every file but keel.yaml applies; a keel.yaml hunk whose context or
 * removed lines held an env value does not match (git apply refuses the whole patch unless
 * given `--reject`, which applies the rest and leaves keel.yaml.rej, or `--exclude`).
 * snapshot.test.ts checks both outcomes.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SimpleGit } from 'simple-git';
import { gitLine, openGit, type KeelGitEnv } from './git.ts';
import { isProjectFile, redactKeelYaml, type SecretMatcher } from './secrets.ts';

/** The private staging area patch.ts works in. */
export interface StagingArea {
  /** The repository's top folder. */
  top: string;
  /** A temp folder owned by this snapshot. */
  tmp: string;
  /** git with GIT_INDEX_FILE pointing at the index copy and objects going to a temp folder. */
  git: SimpleGit;
  env: KeelGitEnv;
  binary?: string;
}

/** Paths whose staged state differs from `commit` (null: an unborn branch, all staged paths). */
export async function changedPaths(area: StagingArea, commit: string | null): Promise<string[]> {
  const out = await area.git.raw(['diff', '--cached', '--name-only', '-z', '--no-renames', '--no-ext-diff', ...(commit ? [commit] : []), '--']);
  return out.split('\0').filter((p) => p !== '');
}

/**
 * Puts every changed path (from changedPaths) that looks like a secret back to its committed
 * state (or out of the index when the commit lacks it), and returns those paths.
 */
export async function unstageSecrets(area: StagingArea, commit: string | null, changed: readonly string[], isSecret: SecretMatcher): Promise<string[]> {
  const secrets = changed.filter((p) => isSecret(p) !== undefined);
  if (secrets.length === 0) return [];
  const pathspec = join(area.tmp, 'secret-paths');
  await writeFile(pathspec, secrets.map((p) => `${p}\0`).join(''));
  const from = [`--pathspec-from-file=${pathspec}`, '--pathspec-file-nul'];
  if (commit) await area.git.raw(['reset', '-q', commit, ...from]);
  else await area.git.raw(['rm', '--cached', '-q', '-f', '--ignore-unmatch', ...from]);
  return secrets;
}

/**
 * Redacts the env values of every changed keel.yaml (among `changed`, secrets already put
 * back) in the staged index and returns what to diff against: `commit` itself, or the id of
 * a tree like it whose keel.yaml files are redacted too (null for an unborn branch).
 */
export async function redactProjectFiles(area: StagingArea, commit: string | null, changed: readonly string[]): Promise<string | null> {
  const files = changed.filter(isProjectFile);
  if (files.length === 0) return commit;
  for (const path of files) {
    const entry = await indexEntry(area.git, path);
    if (entry) await replaceEntry(area, area.git, entry, path);
  }
  if (!commit) return null;
  const base = join(area.tmp, 'base-index');
  const baseGit = openGit(area.top, { ...(area.binary ? { binary: area.binary } : {}), env: { ...area.env, GIT_INDEX_FILE: base } });
  await baseGit.raw(['read-tree', commit]);
  for (const path of files) {
    const entry = await indexEntry(baseGit, path);
    if (entry) await replaceEntry(area, baseGit, entry, path);
  }
  return gitLine(baseGit, ['write-tree']);
}

interface IndexEntry {
  mode: string;
  object: string;
}

/** The staged mode and blob of `path`, or undefined when the index does not hold it. */
async function indexEntry(git: SimpleGit, path: string): Promise<IndexEntry | undefined> {
  const out = await git.raw(['ls-files', '--stage', '-z', '--', path]);
  const m = /^(\d+) ([0-9a-f]+) 0\t/.exec(out);
  return m ? { mode: m[1] as string, object: m[2] as string } : undefined;
}

let redactedFiles = 0;

/** Stages a redacted copy of a keel.yaml blob in place of the original (a no-op when nothing changes). */
async function replaceEntry(area: StagingArea, git: SimpleGit, entry: IndexEntry, path: string): Promise<void> {
  if (entry.mode === '120000') return; // a symlink's blob is its target, not YAML
  const text = await git.raw(['cat-file', 'blob', entry.object]);
  const redacted = redactKeelYaml(text);
  if (redacted === text) return;
  const file = join(area.tmp, `redacted-${++redactedFiles}`);
  await writeFile(file, redacted);
  // --no-filters: the text came from a blob, so it is already in the repository's form.
  const object = await gitLine(git, ['hash-object', '-w', '--no-filters', '--', file]);
  await git.raw(['update-index', '--cacheinfo', `${entry.mode},${object},${path}`]);
}

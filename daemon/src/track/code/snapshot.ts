/**
 * Records the code a run uses: the git commit, branch and remote of the project's repository,
 * plus the dirty patch (tracked changes and untracked, non-ignored files) stored once by hash.
 * The same commit with the same changes is always the same code version.
 *
 * The repository is the one holding the project folder, so a project inside a monorepo
 * records the monorepo's commit and its whole dirty state (a run can import sibling code).
 * A folder that is not in a git repository, a repository with no commits and a missing git
 * program are reported as warnings, never thrown.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { SimpleGit } from 'simple-git';
import type { CodeVersion } from '../../protocol/index.ts';
import type { Store } from '../../store/index.ts';
import { parseProjectFile } from '../project/keel-yaml.ts';
import { gitLine, gitVersion, openGit } from './git.ts';
import { buildDirtyPatch, DEFAULT_MAX_PATCH_BYTES, DEFAULT_MAX_UNTRACKED_BYTES, type DirtyPatch } from './patch.ts';
import { pickRemote, stripCredentials } from './remote-url.ts';
import { PROJECT_FILE_NAME, secretFileMatcher } from './secrets.ts';

/** What snapshotCode needs. */
export interface SnapshotCodeDeps {
  store: Store;
  /** Untracked bytes a patch may hold (default 4 MiB); larger untracked files are left out with a warning. */
  maxUntrackedBytes?: number;
  /** The largest patch stored (default 8 MiB); a larger one is not stored, with a warning. */
  maxPatchBytes?: number;
  /** The git program (default `git` on PATH). */
  gitBinary?: string;
}

/** The project whose code is recorded. */
export interface CodeProject {
  id: string;
  root: string;
  /** keel.yaml's `secrets:` globs; read from the project's keel.yaml when not given. */
  secrets?: readonly string[];
}

/** What snapshotCode recorded. */
export interface CodeSnapshot {
  /** Null when there is no git repository or no git. */
  codeVersion: CodeVersion | null;
  /** A new code version row was written. */
  created: boolean;
  /** Why there is no code version, or what the patch leaves out. */
  warning?: string;
  /** Untracked files left out of the patch by the size cap (paths from the repository top). */
  leftOut: string[];
  /** Files left out of the patch because they look like secrets (paths from the repository top). */
  secrets: string[];
}

/** Tries per snapshot: a file can vanish between listing and staging it. */
const ATTEMPTS = 2;

/** Snapshots the project's code and records it as a code version (or finds the existing one). */
export async function snapshotCode(deps: SnapshotCodeDeps, project: CodeProject): Promise<CodeSnapshot> {
  if (!existsSync(project.root)) return none(`project folder ${project.root} does not exist`);
  const git = openGit(project.root, { binary: deps.gitBinary });
  if ((await gitVersion(git)) === undefined) return none('git is not installed (or not on PATH): code versions are not recorded');
  const top = await repositoryTop(git);
  if (top === undefined) return none(`not a git repository: ${project.root} (code versions need git)`);

  const commit = (await gitLine(git, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'])) || null;
  const branch = (await gitLine(git, ['symbolic-ref', '--short', '--quiet', 'HEAD'])) || null;
  const remote = await remoteUrl(git);
  let dirty: DirtyPatch;
  try {
    dirty = await buildWithRetry(top, commit, deps, project);
  } catch (err) {
    // Recording the commit without its changes would name code that is not what runs.
    return none(`could not record the uncommitted changes in ${top}: ${err instanceof Error ? err.message.trim() : String(err)}`);
  }
  const warnings: string[] = [];
  if (commit === null) warnings.push('the repository has no commits yet: the code version holds the files as a patch against an empty tree');
  if (dirty.leftOut.length > 0) warnings.push(leftOutWarning(dirty, deps.maxUntrackedBytes ?? DEFAULT_MAX_UNTRACKED_BYTES));
  if (dirty.secrets.length > 0) warnings.push(secretsWarning(dirty.secrets));
  if (dirty.tooLarge) warnings.push(tooLargeWarning(dirty.tooLarge.bytes, deps.maxPatchBytes ?? DEFAULT_MAX_PATCH_BYTES));

  const patch = dirty.tooLarge ? notStoredPatch(dirty.tooLarge, deps.maxPatchBytes ?? DEFAULT_MAX_PATCH_BYTES) : dirty.patch ?? Buffer.alloc(0);
  const { codeVersion, created } = deps.store.codeVersions.record({
    projectId: project.id, commit, branch, remote,
    dirty: patch.length > 0 || dirty.leftOut.length > 0, patch,
  });
  const snapshot: CodeSnapshot = { codeVersion, created, leftOut: dirty.leftOut.map((f) => f.path), secrets: dirty.secrets };
  if (warnings.length > 0) snapshot.warning = warnings.join('; ');
  return snapshot;
}

function none(warning: string): CodeSnapshot {
  return { codeVersion: null, created: false, warning, leftOut: [], secrets: [] };
}

/** The repository's top folder, or undefined outside a work tree. */
async function repositoryTop(git: SimpleGit): Promise<string | undefined> {
  try {
    return (await gitLine(git, ['rev-parse', '--show-toplevel'])) || undefined;
  } catch {
    return undefined;
  }
}

/** The fetch URL of `origin` (else the first remote), without credentials. */
async function remoteUrl(git: SimpleGit): Promise<string | null> {
  const name = pickRemote((await git.raw(['remote'])).split('\n'));
  if (name === undefined) return null;
  const url = await gitLine(git, ['remote', 'get-url', name]).catch(() => '');
  return url === '' ? null : stripCredentials(url);
}

async function buildWithRetry(top: string, commit: string | null, deps: SnapshotCodeDeps, project: CodeProject): Promise<DirtyPatch> {
  const isSecret = secretFileMatcher(project.secrets ?? projectSecretGlobs(project.root), projectBase(top, project.root));
  for (let attempt = 1; ; attempt++) {
    try {
      return await buildDirtyPatch(top, commit, { binary: deps.gitBinary, maxUntrackedBytes: deps.maxUntrackedBytes, maxPatchBytes: deps.maxPatchBytes, isSecret });
    } catch (err) {
      if (attempt >= ATTEMPTS) throw err;
    }
  }
}

function leftOutWarning(dirty: DirtyPatch, maxBytes: number): string {
  const bytes = dirty.leftOut.reduce((sum, f) => sum + f.size, 0);
  const names = dirty.leftOut.slice(0, 3).map((f) => f.path).join(', ');
  const more = dirty.leftOut.length > 3 ? ` and ${dirty.leftOut.length - 3} more` : '';
  return `left out ${dirty.leftOut.length} untracked file(s) (${mib(bytes)} MiB) over the ${mib(maxBytes)} MiB limit for uncommitted files: ${names}${more}. ` +
    'Commit them or add them to .gitignore so the recorded code matches what runs.';
}

/** keel.yaml's `secrets:` globs as far as the file can be read (a broken file still gives those it has). */
function projectSecretGlobs(root: string): string[] {
  try {
    return parseProjectFile(readFileSync(join(root, PROJECT_FILE_NAME), 'utf8'), PROJECT_FILE_NAME).project.secrets ?? [];
  } catch {
    return [];
  }
}

/** The project folder relative to the repository top, `/`-separated ('' when they are the same). */
function projectBase(top: string, root: string): string {
  try {
    return relative(realpathSync(top), realpathSync(root)).split(sep).join('/');
  } catch {
    return '';
  }
}

function secretsWarning(paths: readonly string[]): string {
  const names = paths.slice(0, 5).join(', ');
  const more = paths.length > 5 ? ` and ${paths.length - 5} more` : '';
  return `left out ${paths.length} file(s) that look like secrets: ${names}${more}. They are never recorded or shipped to hosts; ` +
    'give a job its secrets through keel.yaml train.env (passed in a private job.env); to keep a file that holds none, ' +
    'add "!<its path>" under keel.yaml `secrets:`, in quotes (YAML reads a bare ! as a tag); `secrets:` also takes patterns of your own';
}

function tooLargeWarning(bytes: number, maxBytes: number): string {
  return `the uncommitted changes make a ${mib(bytes)} MiB patch, over the ${mib(maxBytes)} MiB limit: the patch is not stored, so this code version ` +
    'records the commit but not the changes. Commit them, or add large files to .gitignore, so the recorded code matches what runs.';
}

/**
 * What is stored instead of a patch over the limit: text saying so (it is not a patch,
 * and `git apply` refuses it), with the hash of the real patch so the same working tree is
 * still the same code version and a different one is a different version.
 */
function notStoredPatch(tooLarge: { bytes: number; sha256: string }, maxBytes: number): Buffer {
  return Buffer.from(
    `# Keel did not store this patch: the uncommitted changes made ${tooLarge.bytes} bytes, over the ${maxBytes}-byte limit.\n` +
    `# sha256 of the patch that was not stored: ${tooLarge.sha256}\n`,
  );
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

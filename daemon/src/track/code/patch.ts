/**
 * The dirty patch of a working tree: one `git apply`-able patch from the commit to the
 * working tree, holding tracked changes (staged or not, deletions included) and the untracked
 * files git does not ignore, as new-file diffs (binary ones in git's base85 form).
 *
 * How, without touching the user's repository: git stages everything into a COPY of the
 * index (GIT_INDEX_FILE), with new objects written to a temporary object folder that borrows
 * the repository's objects as an alternate (GIT_OBJECT_DIRECTORY + GIT_ALTERNATE_OBJECT_DIRECTORIES),
 * then `git diff --cached` against the commit writes the patch. The real index, the
 * working tree and .git/objects are left as they were.
 *
 * Deterministic: git sorts the diff by path, and every option that shapes the output is fixed
 * (STABLE_DIFF_OPTIONS), so an unchanged tree gives byte-equal patches and one code version.
 *
 * Never stored: files that look like secrets and keel.yaml env values (patch-filter.ts), and
 * a patch over DEFAULT_MAX_PATCH_BYTES.
 */
import { createReadStream } from 'node:fs';
import { copyFile, lstat, mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { SimpleGit } from 'simple-git';
import { comparePaths } from '../hash/manifest.ts';
import { gitLine, openGit, STABLE_DIFF_OPTIONS, type KeelGitEnv } from './git.ts';
import { changedPaths, redactProjectFiles, unstageSecrets, type StagingArea } from './patch-filter.ts';
import { secretFileMatcher, type SecretMatcher } from './secrets.ts';

/**
 * Untracked bytes a patch holds by default: scripts and small files, not outputs. Kept well
 * under the whole-patch limit (base85 makes binary files ~25% larger in a patch), so big
 * untracked files are left out one by one before the whole patch is refused.
 */
export const DEFAULT_MAX_UNTRACKED_BYTES = 4 * 1024 * 1024;

/**
 * The largest patch stored, tracked changes included. A patch is one blob in keel.db per
 * dirty state launched: a few MiB of edited code is normal, more is data or generated files
 * that should be committed or ignored, and storing it on every launch would bloat the
 * database. Over it the patch is not stored at all (a partial patch would name code that
 * is not what ran); the code version says so.
 */
export const DEFAULT_MAX_PATCH_BYTES = 8 * 1024 * 1024;

/** An untracked file and its size. */
export interface UntrackedFile {
  path: string;
  size: number;
}

/** A working tree's changes against its commit. */
export interface DirtyPatch {
  /** The patch; empty for a clean tree; null when it was over the size limit. */
  patch: Buffer | null;
  /** Untracked files in the patch, by path (relative to the repository top, `/`-separated). */
  untracked: string[];
  /** Untracked files left out because the size cap was reached. */
  leftOut: UntrackedFile[];
  /** Changed or untracked files left out because they look like secrets. */
  secrets: string[];
  /** Set when the patch was over the limit: its size and sha256 (hex), so equal states stay equal. */
  tooLarge: { bytes: number; sha256: string } | null;
}

/** Options of buildDirtyPatch. */
export interface DirtyPatchOptions {
  binary?: string;
  maxUntrackedBytes?: number;
  maxPatchBytes?: number;
  /** Which paths (from the repository top) are secrets; default: the built-in patterns. */
  isSecret?: SecretMatcher;
}

/** Builds the patch from `commit` (null: a repository with no commits) to the working tree at `top`. */
export async function buildDirtyPatch(top: string, commit: string | null, opts: DirtyPatchOptions = {}): Promise<DirtyPatch> {
  const git = openGit(top, { binary: opts.binary });
  const tmp = await mkdtemp(join(tmpdir(), 'keel-code-'));
  try {
    const area = await stagingArea(git, top, tmp, opts.binary);
    await area.git.raw(['add', '--update']);
    const isSecret = opts.isSecret ?? secretFileMatcher();
    const listed = await listUntracked(git, top);
    const secretUntracked = listed.filter((f) => isSecret(f.path) !== undefined).map((f) => f.path);
    const { chosen, leftOut } = chooseUntracked(listed.filter((f) => isSecret(f.path) === undefined), opts.maxUntrackedBytes ?? DEFAULT_MAX_UNTRACKED_BYTES);
    if (chosen.length > 0) {
      const pathspec = join(tmp, 'untracked');
      await writeFile(pathspec, chosen.map((f) => `${f.path}\0`).join(''));
      await area.git.raw(['add', `--pathspec-from-file=${pathspec}`, '--pathspec-file-nul']);
    }
    const changed = await changedPaths(area, commit);
    const secretTracked = await unstageSecrets(area, commit, changed, isSecret);
    const base = await redactProjectFiles(area, commit, changed.filter((p) => !secretTracked.includes(p)));
    const patchFile = join(tmp, 'patch');
    // --output writes the bytes as git made them (stdout would be decoded as UTF-8 on the way).
    await area.git.raw(['diff', '--cached', ...STABLE_DIFF_OPTIONS, `--output=${patchFile}`, ...(base ? [base] : []), '--']);
    const secrets = [...new Set([...secretTracked, ...secretUntracked])].sort(comparePaths);
    const bytes = (await stat(patchFile)).size;
    const tooLarge = bytes > (opts.maxPatchBytes ?? DEFAULT_MAX_PATCH_BYTES) ? { bytes, sha256: await sha256File(patchFile) } : null;
    return { patch: tooLarge ? null : await readFile(patchFile), untracked: chosen.map((f) => f.path), leftOut, secrets, tooLarge };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * A copy of the index in `tmp`, with new objects written to a temporary object folder that
 * borrows the repository's objects: git works on it and the real index and .git/objects
 * stay as they were.
 */
async function stagingArea(git: SimpleGit, top: string, tmp: string, binary: string | undefined): Promise<StagingArea> {
  const indexFile = join(tmp, 'index');
  const realIndex = await gitPath(git, top, 'index');
  // The copy keeps the real index's mtime (to the whole second below it, taken before the
  // copy): git trusts a cached stat only for entries older than the index file, and re-reads
  // the others ("racily clean"). A fresh mtime on the copy would make a file rewritten with
  // the same size in the second it was staged look unchanged, and the patch would miss it.
  const indexStat = await stat(realIndex).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err; // no index yet: nothing was ever staged
    return null;
  });
  if (indexStat) {
    await copyFile(realIndex, indexFile);
    const seconds = Math.floor(indexStat.mtimeMs / 1000);
    await utimes(indexFile, seconds, seconds);
  }
  await mkdir(join(tmp, 'objects'));
  const env: KeelGitEnv = {
    GIT_INDEX_FILE: indexFile,
    GIT_OBJECT_DIRECTORY: join(tmp, 'objects'),
    GIT_ALTERNATE_OBJECT_DIRECTORIES: quoteAlternate(await gitPath(git, top, 'objects')),
    GIT_LITERAL_PATHSPECS: '1',
  };
  return { top, tmp, env, git: openGit(top, { binary, env }), ...(binary ? { binary } : {}) };
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path).on('error', reject).on('data', (chunk) => hash.update(chunk)).on('end', () => resolvePromise(hash.digest('hex')));
  });
}

/** An absolute path inside the git dir (worktrees share objects but not the index). */
async function gitPath(git: SimpleGit, top: string, name: string): Promise<string> {
  return resolve(top, await gitLine(git, ['rev-parse', '--git-path', name]));
}

/** C-quoted, so a path with ':' (the alternates separator) or quotes is read as one path. */
function quoteAlternate(path: string): string {
  return `"${path.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * Untracked files git does not ignore (.gitignore, .git/info/exclude, core.excludesFile),
 * with their sizes. A nested repository is listed as `dir/` and left out (it has its own history).
 */
async function listUntracked(git: SimpleGit, top: string): Promise<UntrackedFile[]> {
  const listed = (await git.raw(['ls-files', '--others', '--exclude-standard', '-z'])).split('\0');
  const files: UntrackedFile[] = [];
  for (const path of listed) {
    if (path === '' || path.endsWith('/')) continue;
    const stats = await lstat(join(top, path)).catch(() => undefined);
    if (stats && (stats.isFile() || stats.isSymbolicLink())) files.push({ path, size: stats.size });
  }
  return files;
}

/** In path order, every file that still fits under the cap; the rest are left out. */
export function chooseUntracked(files: readonly UntrackedFile[], maxBytes: number): { chosen: UntrackedFile[]; leftOut: UntrackedFile[] } {
  const chosen: UntrackedFile[] = [];
  const leftOut: UntrackedFile[] = [];
  let total = 0;
  for (const file of [...files].sort((a, b) => comparePaths(a.path, b.path))) {
    if (total + file.size <= maxBytes) {
      chosen.push(file);
      total += file.size;
    } else {
      leftOut.push(file);
    }
  }
  return { chosen, leftOut };
}

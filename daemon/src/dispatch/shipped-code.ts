/**
 * The code a run ships: every tracked and untracked-but-not-ignored file of the project
 * (git's own rules; a folder walk outside git), minus dataset and output paths (datasets
 * travel separately, by content hash) and `.keelignore` patterns. Its id is the hash of
 * the manifest (path, mode, content hash), so an unchanged tree is the same snapshot.
 *
 * Secrets stay home: files that look like secrets (track/code/secrets.ts, plus keel.yaml
 * `secrets:`) are not shipped, even when committed, and every keel.yaml is shipped with its
 * env values replaced by '[redacted]' (names kept): a job gets the values only from its
 * private job.env. The manifest hashes what is shipped, so rotating a token alone does not
 * make a new snapshot.
 */
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hashBytes, manifestHash, type FileHasher, type HashCache, hashTree } from '../track/hash/index.ts';
import { isProjectFile, redactKeelYaml, secretFileMatcher } from '../track/code/index.ts';
import { compileGlobs, matchingAncestor, type CompiledGlob } from '../track/watch/glob.ts';
import { isIgnoredPath, walkTree } from '../track/watch/expand.ts';
import { targetOutside } from '../track/hash/links.ts';
import { InputFileError, InputLimits, readInputText } from '../track/input-file.ts';
import { ErrorCode, RpcError } from '../protocol/index.ts';
import type { KeelProject } from '../track/project/keel-yaml.ts';

const execFileAsync = promisify(execFile);

export interface ShippedCode {
  /** Hex of the manifest hash: the folder name on hosts (`code/<hex>`). */
  id: string;
  hash: string;
  root: string;
  files: { path: string; size: number; hash: string; executable: boolean }[];
  totalBytes: number;
  /** Files whose shipped content is not the file on disk (keel.yaml without env values), by path. */
  rewritten: Map<string, Buffer>;
  /** Files left home because they look like secrets (relative paths). */
  secrets: string[];
}

/** A snapshot larger than this is shipped with a warning: usually data or weights in the code tree. */
export const LARGE_SNAPSHOT_BYTES = 200 * 1024 * 1024;

async function gitFiles(root: string): Promise<string[] | null> {
  try {
    const { stdout } = await execFileAsync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, maxBuffer: 256 * 1024 * 1024, encoding: 'buffer' });
    return stdout.toString('utf8').split('\0').filter((p) => p !== '');
  } catch {
    return null;
  }
}

/** Entries a walk outside git looks at: past this, the folder holds data, not code. */
const WALK_MAX_ENTRIES = 200_000;

/**
 * The files of a project outside git: an asynchronous walk (it never holds up requests) that
 * leaves out pruned paths, does not enter linked folders, keeps a linked file only when its
 * target is inside the project, and refuses a tree past {@link WALK_MAX_ENTRIES} rather than
 * shipping part of it.
 */
async function walkFiles(root: string, prune: (relPath: string) => boolean): Promise<string[]> {
  const files: string[] = [];
  const links: string[] = [];
  let limit: string | undefined;
  await walkTree(root, '', (rel, isDirectory, isSymlink) => {
    if (prune(rel)) return false;
    if (isSymlink) links.push(rel);
    else if (!isDirectory) files.push(rel);
    return isDirectory;
  }, { maxEntries: WALK_MAX_ENTRIES, onLimit: (message) => (limit = message) });
  if (limit !== undefined) {
    throw new RpcError(ErrorCode.InvalidState, `${limit}. Outside git, Keel ships every file of the project folder that is not a dataset or output: `
      + 'put the project under git (`git init`), or list the large folders in .keelignore.', { path: root });
  }
  const realRoot = await realpath(root);
  for (const rel of links) {
    const abs = join(root, rel);
    const isFile = await stat(abs).then((st) => st.isFile(), () => false);
    if (isFile && (await targetOutside(abs, realRoot)) === undefined) files.push(rel);
  }
  return files;
}

/** .keelignore patterns, each matched at the root and at any depth. Read like every input: never a FIFO, at most 256 KiB. */
async function keelIgnore(root: string): Promise<CompiledGlob[]> {
  let text: string;
  try {
    text = await readInputText(join(root, '.keelignore'), { what: '.keelignore', maxBytes: InputLimits.projectFile });
  } catch (err) {
    if (err instanceof InputFileError && err.reason === 'missing') return [];
    throw err;
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .flatMap((l) => {
      const g = l.replace(/^\//, '').replace(/\/$/, '');
      // A line Keel cannot use as a glob (an unclosed "{") ignores nothing rather than failing the launch.
      return compileGlobs([g, `**/${g}`], () => {});
    });
}

/** The files that make up the project's code (relative POSIX paths, sorted). */
export async function codeFiles(root: string, project: KeelProject): Promise<string[]> {
  const excluded = compileGlobs([...project.datasets, ...project.outputs, ...project.ignore], () => {});
  const ignore = await keelIgnore(root);
  const left = (p: string): boolean => isIgnoredPath(p) || matchingAncestor(excluded, p) !== undefined || matchingAncestor(ignore, p) !== undefined;
  const listed = (await gitFiles(root)) ?? (await walkFiles(root, left));
  return listed.filter((p) => !left(p) && existsSync(join(root, p))).sort();
}

/** The code to ship from `root`: its files, their manifest hash, and what is left home or rewritten. */
export async function shippedCode(root: string, project: KeelProject, deps: { hasher: FileHasher; hashCache: HashCache }): Promise<ShippedCode> {
  const isSecret = secretFileMatcher(project.secrets ?? []);
  const listed = await codeFiles(root, project);
  const secrets = listed.filter((p) => isSecret(p) !== undefined);
  const paths = listed.filter((p) => isSecret(p) === undefined);
  const keep = new Set(paths);
  const dirs = new Set<string>();
  for (const p of paths) for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) dirs.add(p.slice(0, i));
  const tree = await hashTree(root, {
    pool: deps.hasher,
    cache: deps.hashCache,
    what: 'project folder',
    ignore: (rel, isDir) => (isDir ? !dirs.has(rel) : !keep.has(rel)),
  });
  const rewritten = await redactedProjectFiles(root, tree.files.map((f) => f.path));
  const files = tree.files.map((f) => {
    let executable = false;
    try {
      executable = (statSync(join(root, f.path)).mode & 0o111) !== 0;
    } catch {
      /* vanished since */
    }
    const shipped = rewritten.get(f.path);
    return shipped ? { path: f.path, size: shipped.length, hash: hashBytes(shipped), executable } : { ...f, executable };
  });
  // Modes matter to a job (`./run.sh`): they are part of the snapshot's identity.
  const hash = manifestHash(files.map((f) => ({ path: f.executable ? `${f.path} +x` : f.path, size: f.size, hash: f.hash })));
  return { id: hash.replace(/^\w+:/, ''), hash, root, files, totalBytes: files.reduce((a, f) => a + f.size, 0), rewritten, secrets };
}

/** Each keel.yaml among `paths` whose env values had to be redacted, as it is shipped. */
async function redactedProjectFiles(root: string, paths: readonly string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const path of paths.filter(isProjectFile)) {
    const text = await readFile(join(root, path), 'utf8').catch(() => null);
    if (text === null) continue;
    const redacted = redactKeelYaml(text);
    if (redacted !== text) out.set(path, Buffer.from(redacted));
  }
  return out;
}

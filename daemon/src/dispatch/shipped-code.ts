/**
 * The code a run ships: every tracked and untracked-but-not-ignored file of the project
 * (git's own rules; a folder walk outside git), minus dataset and output paths (datasets
 * travel separately, by content hash) and `.keelignore` patterns. Its id is the hash of
 * the manifest (path, mode, content hash), so an unchanged tree is the same snapshot.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { manifestHash, type FileHasher, type HashCache, hashTree } from '../track/hash/index.ts';
import { compileGlob, compileGlobs, matchingAncestor, type CompiledGlob } from '../track/watch/glob.ts';
import { expandGlob, isIgnoredPath } from '../track/watch/expand.ts';
import type { KeelProject } from '../track/project/keel-yaml.ts';

const execFileAsync = promisify(execFile);

export interface ShippedCode {
  /** Hex of the manifest hash: the folder name on hosts (`code/<hex>`). */
  id: string;
  hash: string;
  root: string;
  files: { path: string; size: number; hash: string; executable: boolean }[];
  totalBytes: number;
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

function walkFiles(root: string): string[] {
  return expandGlob(root, compileGlob('**'), 200_000).filter((p) => {
    try {
      return statSync(join(root, p)).isFile();
    } catch {
      return false;
    }
  });
}

function keelIgnore(root: string): CompiledGlob[] {
  const file = join(root, '.keelignore');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
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
  const listed = (await gitFiles(root)) ?? walkFiles(root);
  const excluded = compileGlobs([...project.datasets, ...project.outputs, ...project.ignore], () => {});
  const ignore = keelIgnore(root);
  return listed
    .filter((p) => !isIgnoredPath(p) && !matchingAncestor(excluded, p) && !matchingAncestor(ignore, p) && existsSync(join(root, p)))
    .sort();
}

export async function shippedCode(root: string, project: KeelProject, deps: { hasher: FileHasher; hashCache: HashCache }): Promise<ShippedCode> {
  const paths = await codeFiles(root, project);
  const keep = new Set(paths);
  const dirs = new Set<string>();
  for (const p of paths) for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) dirs.add(p.slice(0, i));
  const tree = await hashTree(root, {
    pool: deps.hasher,
    cache: deps.hashCache,
    ignore: (rel, isDir) => (isDir ? !dirs.has(rel) : !keep.has(rel)),
  });
  const files = tree.files.map((f) => {
    let executable = false;
    try {
      executable = (statSync(join(root, f.path)).mode & 0o111) !== 0;
    } catch {
      /* vanished since */
    }
    return { ...f, executable };
  });
  // Modes matter to a job (`./run.sh`): they are part of the snapshot's identity.
  const hash = manifestHash(files.map((f) => ({ path: f.executable ? `${f.path} +x` : f.path, size: f.size, hash: f.hash })));
  return { id: hash.replace(/^\w+:/, ''), hash, root, files, totalBytes: files.reduce((a, f) => a + f.size, 0) };
}

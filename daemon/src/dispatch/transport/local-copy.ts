/**
 * Copies for the local backend, with nothing but Node: no rsync, no tar. Everything created
 * is private to the user — folders 0700, files 0600 (0700 when the source is executable) —
 * because job folders hold job.env, configs and outputs. copyFile asks for a copy-on-write
 * clone where the file system can, so a big dataset copy costs little.
 */
import { constants } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readdir, readlink, rm, symlink, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Which names (a file's or a folder's, not its path) are skipped. */
export type NameFilter = (name: string) => boolean;

/**
 * Copies `files` (paths relative to `srcRoot`, `/`-separated), or everything under
 * `srcRoot` when `files` is null, into `destDir`, keeping relative paths, symlinks as
 * symlinks and modification times. Returns the bytes copied.
 */
export async function copyInto(srcRoot: string, files: readonly string[] | null, destDir: string, skip: NameFilter = () => false): Promise<number> {
  await mkdir(destDir, { recursive: true, mode: 0o700 });
  const paths = files ?? (await listTree(srcRoot, '', skip));
  let bytes = 0;
  for (const rel of paths) bytes += await copyOne(join(srcRoot, rel), join(destDir, rel));
  return bytes;
}

/** Every file, symlink and folder under `root` (folders listed before what they hold). */
async function listTree(root: string, rel: string, skip: NameFilter): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(join(root, rel), { withFileTypes: true });
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (skip(entry.name)) continue;
    const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
    out.push(path);
    if (entry.isDirectory()) out.push(...(await listTree(root, path, skip)));
  }
  return out;
}

async function copyOne(src: string, dest: string): Promise<number> {
  const stats = await lstat(src).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot copy ${src}: ${err.code === 'ENOENT' ? 'it was removed while Keel copied it; launch again' : err.message}`);
  });
  await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
  if (stats.isDirectory()) {
    await mkdir(dest, { recursive: true, mode: 0o700 });
    await chmod(dest, 0o700);
    return 0;
  }
  if (stats.isSymbolicLink()) {
    await rm(dest, { force: true });
    await symlink(await readlink(src), dest);
    return 0;
  }
  if (!stats.isFile()) throw new Error(`cannot copy ${src}: not a regular file, folder or symlink`);
  await copyFile(src, dest, constants.COPYFILE_FICLONE);
  await chmod(dest, (stats.mode & 0o700) | 0o600);
  await utimes(dest, stats.atime, stats.mtime);
  return stats.size;
}

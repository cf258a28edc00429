/**
 * Looking for secrets at rest: which files under a folder hold any of some strings, and
 * which files or folders under it can be read by the group or others.
 */
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Every file under `root` (symlinks not followed), as paths relative to it. */
export function filesUnder(root: string, rel = ''): string[] {
  const out: string[] = [];
  let entries;
  try {
    entries = readdirSync(join(root, rel), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const path = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...filesUnder(root, path));
    else if (e.isFile()) out.push(path);
  }
  return out;
}

/** `path: needle` for each file under `root` (except those `skip` says) that holds a needle. */
export function secretsIn(root: string, needles: readonly string[], skip: (rel: string) => boolean = () => false): string[] {
  const hits: string[] = [];
  for (const rel of filesUnder(root)) {
    if (skip(rel)) continue;
    const bytes = readFileSync(join(root, rel));
    for (const n of needles) if (bytes.includes(Buffer.from(n))) hits.push(`${rel}: ${n}`);
  }
  return hits;
}

/**
 * `path mode` for `root` and everything under it that has group or other permission bits
 * (symlinks aside), except paths `skip` names (and what is under them).
 */
export function openModes(root: string, skip: (rel: string) => boolean = () => false, rel = ''): string[] {
  if (rel !== '' && skip(rel)) return [];
  const abs = join(root, rel);
  const stats = lstatSync(abs);
  if (stats.isSymbolicLink()) return [];
  const out = (stats.mode & 0o077) !== 0 ? [`${rel === '' ? '.' : rel} ${(stats.mode & 0o777).toString(8)}`] : [];
  if (stats.isDirectory()) for (const name of readdirSync(abs)) out.push(...openModes(root, skip, rel === '' ? name : `${rel}/${name}`));
  return out;
}

/**
 * What a job wrote itself, inside its job folder's outputs/: it keeps the user's umask (the
 * job folder around it is 0700), so a job's files elsewhere, e.g. a shared cache, are not
 * made private behind the user's back.
 */
export const jobOwnFiles = (rel: string): boolean => /(^|\/)outputs\/./.test(rel);

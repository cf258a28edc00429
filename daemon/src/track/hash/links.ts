/**
 * Where a walk may follow symbolic links. A tracked folder (a dataset, a checkpoint, a code
 * tree) is what lies under it: a link is followed only when its real target stays inside the
 * folder, so `ln -s / everything` inside a dataset is left out with a reason instead of
 * making the daemon hash the whole machine.
 *
 * Hugging Face caches are the exception that proves the rule: inside a hub repo folder
 * (`…/models--org--name/` or `datasets--…`, `spaces--…`), every file of
 * `snapshots/<rev>/` is a link to `../../blobs/<sha>`. That leaves the snapshot but stays in
 * the same repo folder, so a snapshot's links may reach anywhere in its repo folder.
 */
import { realpath } from 'node:fs/promises';
import { sep } from 'node:path';

/** `models--org--name`, `datasets--org--name`, `spaces--org--name`: a hub cache repo folder. */
const HUB_REPO_FOLDER = /^(models|datasets|spaces)--./;

/** True when `path` is `folder` or inside it (both absolute, real paths). */
export function isSameOrInside(path: string, folder: string): boolean {
  if (folder === sep) return true;
  return path === folder || path.startsWith(`${folder}${sep}`);
}

/**
 * The folder links inside `realRoot` may point into: `realRoot` itself, or the hub repo
 * folder when `realRoot` is that folder or lies in its `snapshots/`.
 */
export function linkBoundary(realRoot: string): string {
  const parts = realRoot.split(sep);
  for (let i = parts.length - 1; i > 0; i--) {
    if (!HUB_REPO_FOLDER.test(parts[i] ?? '')) continue;
    if (i === parts.length - 1 || parts[i + 1] === 'snapshots') return parts.slice(0, i + 1).join(sep);
  }
  return realRoot;
}

/** The real path of `absPath` when it leaves `boundary`, else undefined (also when it cannot be resolved). */
export async function targetOutside(absPath: string, boundary: string): Promise<string | undefined> {
  let target: string;
  try {
    target = await realpath(absPath);
  } catch {
    return undefined; // dangling or vanished: the caller's stat reports it
  }
  return isSameOrInside(target, boundary) ? undefined : target;
}

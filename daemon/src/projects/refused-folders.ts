/**
 * Folders Keel refuses as a project root or a run to import: the file-system root, the
 * kernel's virtual file systems, and Keel's own home. Watching or walking them would read the
 * whole machine (or Keel's own database), and a run recorded from them could never be told
 * apart from the system it sits on.
 */
import { realpathSync } from 'node:fs';
import { sep } from 'node:path';
import { isSameOrInside } from '../track/hash/links.ts';

/** Virtual and device file systems: nothing a user trains on or keeps code in. */
const SYSTEM_FOLDERS = ['/proc', '/sys', '/dev'];

function realOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Why the real folder `dir` cannot be used as `what`, or undefined when it can. `keelHome`
 * is the daemon's home (KEEL_HOME); its ancestors are refused (a project there would watch
 * it) and so are its descendants (they are Keel's own files).
 */
export function refusedFolderReason(dir: string, keelHome: string, what: 'a project root' | 'a run folder'): string | undefined {
  if (dir === sep) return `${sep} is the root of the file system; it cannot be ${what}: Keel would read every file on the machine`;
  const system = SYSTEM_FOLDERS.find((f) => isSameOrInside(dir, f));
  if (system !== undefined) return `${dir} is inside ${system}, a virtual file system of the kernel; it cannot be ${what}`;
  const home = realOr(keelHome);
  if (isSameOrInside(home, dir)) {
    return `${dir} holds Keel's own home (KEEL_HOME=${home}); it cannot be ${what}: Keel would track its own database. Pick a folder outside it`;
  }
  if (isSameOrInside(dir, home)) return `${dir} is inside Keel's own home (KEEL_HOME=${home}); it cannot be ${what}`;
  return undefined;
}

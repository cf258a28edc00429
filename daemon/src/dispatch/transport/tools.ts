/** Which programs this machine has: rsync is optional, and a missing one changes how files move. */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The path of `program` on PATH, or undefined. Looked up on every call (a few stat calls):
 * a user who installs rsync while the daemon runs gets it on the next transfer.
 */
export function findProgram(program: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** The next step shown wherever rsync is missing. */
export const INSTALL_RSYNC = 'install rsync, e.g. `apt-get install rsync`';

/**
 * A PATH without some programs, for "this machine has no rsync" tests: a folder of symlinks
 * to every program on the given PATH except the ones left out (the first of each name wins,
 * as PATH lookup does).
 */
import { accessSync, constants, existsSync, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Fills `dir` with links to the programs on `path` except `without`, and returns `dir` (use it as PATH). */
export function binWithout(dir: string, without: readonly string[], path = process.env.PATH ?? '/usr/bin:/bin'): string {
  mkdirSync(dir, { recursive: true });
  for (const from of path.split(delimiter)) {
    if (from === '' || !existsSync(from)) continue;
    for (const name of readdirSync(from)) {
      const target = join(from, name);
      if (without.includes(name) || existsSync(join(dir, name))) continue;
      try {
        accessSync(target, constants.X_OK);
        if (!statSync(target).isFile()) continue;
      } catch {
        continue;
      }
      symlinkSync(target, join(dir, name));
    }
  }
  return dir;
}

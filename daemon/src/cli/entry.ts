/**
 * dist/keel.js, the file every start runs — `keel` (through bin/keel.js), and the daemon as
 * the extension and the CLI spawn it (`dist/keel.js daemon --background`). It turns on
 * Node's compile cache, then loads the CLI bundle (dist/keel-cli.js), which loads the daemon
 * bundle (dist/keel-daemon.js) for `keel daemon`.
 *
 * Why a file of its own: the compile cache applies to files loaded after it is enabled, so
 * the ~2.4 MB of bundled JavaScript must come after this small file. With it, V8 reads the
 * code it compiled on an earlier start instead of parsing and compiling again — the larger
 * part of a daemon's cold start.
 */
import { mkdirSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * V8's compiled code, kept per user ($XDG_CACHE_HOME/keel/compile-cache, else
 * ~/.cache/keel/compile-cache, mode 0700): never a shared /tmp path, where another user could
 * plant code. A cache that cannot be made (read-only or missing home, a runtime without
 * module.enableCompileCache, NODE_DISABLE_COMPILE_CACHE=1) only makes the start slower.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): string | null {
  try {
    const enable = (nodeModule as { enableCompileCache?: (dir: string) => { status: number; directory?: string } }).enableCompileCache;
    if (typeof enable !== 'function') return null;
    const dir = join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'keel', 'compile-cache');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const result = enable(dir);
    const { ENABLED, ALREADY_ENABLED } = (nodeModule as unknown as { constants: { compileCacheStatus: Record<string, number> } }).constants.compileCacheStatus;
    return result.status === ENABLED || result.status === ALREADY_ENABLED ? result.directory ?? dir : null;
  } catch {
    return null;
  }
}

enableCompileCache();
// A plain require of the bundle beside this one (scripts/build.mjs keeps it out of this file).
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('./keel-cli.js');

/**
 * What dist/keel.js (cli/entry.ts) decides before any bundle loads: where Node's compile
 * cache goes, and whether this start runs the daemon (then the CLI bundle is not loaded).
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

/** `keel daemon` or `keel daemon --background` exactly; any other form goes through the CLI (its usage errors, --help). */
export function runsTheDaemon(argv: readonly string[]): { foreground: boolean } | null {
  if (argv[0] !== 'daemon' || argv.length > 2) return null;
  if (argv.length === 1) return { foreground: true };
  return argv[1] === '--background' ? { foreground: false } : null;
}

/**
 * Where the parse worker's entry file is. From the sources (tests, `node daemon/src/…` under
 * Node's type stripping) it is `parse-worker.ts` beside this file. In the esbuild bundle
 * (dist/keel.js, CommonJS, also inside the VSIX) no such file exists: the build writes the
 * worker as its own bundle, dist/keel-worker.js, and defines KEEL_PARSE_WORKER as that name,
 * so the path is taken beside the running bundle.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

declare const KEEL_PARSE_WORKER: string | undefined;

/** The URL a parse worker is started from. */
export function parseWorkerUrl(): URL {
  if (typeof KEEL_PARSE_WORKER === 'string') return pathToFileURL(join(__dirname, KEEL_PARSE_WORKER));
  return new URL('./parse-worker.ts', import.meta.url);
}

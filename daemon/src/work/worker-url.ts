/**
 * Where the worker threads' entry files are (the parse worker; the WAL checkpointer's is the same story). From the sources (tests, `node daemon/src/…` under
 * Node's type stripping) it is `parse-worker.ts` beside this file. In the esbuild bundle
 * (dist/keel.js, CommonJS, also inside the VSIX) no such file exists: the build writes the
 * worker as its own bundle, dist/keel-worker.js, and defines KEEL_PARSE_WORKER as that name,
 * so the path is taken beside the running bundle.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

declare const KEEL_PARSE_WORKER: string | undefined;
declare const KEEL_CHECKPOINT_WORKER: string | undefined;

/** The URL a parse worker is started from. */
export function parseWorkerUrl(): URL {
  if (typeof KEEL_PARSE_WORKER === 'string') return pathToFileURL(join(__dirname, KEEL_PARSE_WORKER));
  return new URL('./parse-worker.ts', import.meta.url);
}

/** The URL the WAL checkpoint thread is started from (store/checkpoint-worker.ts; dist/keel-checkpoint.js in the bundle). */
export function checkpointWorkerUrl(): URL {
  if (typeof KEEL_CHECKPOINT_WORKER === 'string') return pathToFileURL(join(__dirname, KEEL_CHECKPOINT_WORKER));
  return new URL('../store/checkpoint-worker.ts', import.meta.url);
}

/**
 * A worker inherits the process's options, minus those Node knows a worker cannot take. Two it
 * does not drop stop a worker from starting: `--input-type` and `-e CODE` (a process started
 * with `node --input-type=module -e …`); only then is a filtered list passed.
 */
export function workerExecArgv(execArgv: readonly string[]): { execArgv?: string[] } {
  if (!execArgv.some((arg) => arg.startsWith('--input-type') || ['-e', '--eval', '-p', '--print'].includes(arg.split('=')[0] as string))) return {};
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i] as string;
    if (arg.startsWith('--input-type=') || ['-e', '--eval', '-p', '--print'].includes(arg.split('=')[0] as string)) {
      if (!arg.includes('=')) i++;
      continue;
    }
    if (arg === '--input-type') {
      i++;
      continue;
    }
    out.push(arg);
  }
  return { execArgv: out };
}

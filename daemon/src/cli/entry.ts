/**
 * dist/keel.js, the file every start runs — `keel` (through bin/keel.js), and the daemon as
 * the extension and the CLI spawn it (`dist/keel.js daemon --background`). It turns on
 * Node's compile cache, then loads the CLI bundle (dist/keel-cli.js) — or, to run the daemon
 * (`keel daemon`, `keel daemon --background`: the start a user waits for), the daemon bundle
 * (dist/keel-daemon.js) alone, without the CLI's.
 *
 * Why a file of its own: the compile cache applies to files loaded after it is enabled, so
 * the ~2.4 MB of bundled JavaScript must come after this small file. With it, V8 reads the
 * code it compiled on an earlier start instead of parsing and compiling again — the larger
 * part of a daemon's cold start.
 */
import { printError } from './output.ts';
import { enableCompileCache, runsTheDaemon } from './start.ts';

enableCompileCache();
const daemon = runsTheDaemon(process.argv.slice(2));
// Plain requires of the bundles beside this one (scripts/build.mjs keeps them out of this file).
if (daemon) {
  // As cli/main.ts runs it: the exit code is the daemon's; an error is reported, exit 1.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runDaemon } = require('./keel-daemon.js') as typeof import('../server/daemon.ts');
  runDaemon(daemon).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => {
      printError(`keel: ${(err as Error | undefined)?.message ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
} else {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('./keel-cli.js');
}

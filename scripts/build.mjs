// Builds the bundles: the extension (CommonJS, `vscode` external), the CLI and the daemon
// (Node, better-sqlite3 external; the daemon in two files, see buildDaemon) with its parse
// worker beside them, and the webview (browser).
// `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { mkdirSync, existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

const watch = process.argv.includes('--watch');
const common = { bundle: true, sourcemap: true, logLevel: 'warning', legalComments: 'none', logOverride: { 'empty-import-meta': 'silent' } };
mkdirSync('dist', { recursive: true });

/**
 * Node built-ins loaded on first use instead of at start: a proxy that requires the real
 * module when one of its properties is used. Each costs every start time (Node compiles a
 * built-in's internal modules when it is first required) while the daemon needs none of them
 * to answer its first request:
 *  - https, tls: \`ws\` loads them at its top for wss:// and https://; Keel only speaks ws+unix;
 *  - zlib, child_process, worker_threads: compression, git/ssh/rsync processes and worker
 *    threads, all used later;
 *  - fs/promises (which brings readline's internals), timers/promises: file work and waits
 *    happen after the first answer.
 * Modules take functions out of these at their top (\`const { spawn } = require(…)\`,
 * esbuild's import of a bundled module copies its keys), so a function is handed out as a
 * stand-in that loads the module when called or constructed, and keys and descriptors are
 * answered from a list made at build time; reading anything else loads the module. A
 * stand-in is not the class itself: nothing may \`extends\` or \`instanceof\` a class of
 * these modules (test/lazy-builtins.test.ts checks the bundles for \`extends\`).
 */
const LAZY_BUILTINS = ['https', 'tls', 'zlib', 'child_process', 'worker_threads', 'fs/promises', 'timers/promises'];
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(build) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`);
    // The stand-in's own require of the real module resolves as usual.
    build.onResolve({ filter }, (args) =>
      args.namespace !== 'lazy-builtin' ? { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' } : { path: args.path, external: true });
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, async (args) => {
      const real = await import(`node:${args.path}`);
      const mod = real.default ?? real;
      const keys = Object.keys(mod);
      const functions = keys.filter((k) => typeof mod[k] === 'function');
      return {
        contents: `let real; const load = () => (real ??= require('node:${args.path}'));
const keys = ${JSON.stringify(keys)};
const functions = new Set(${JSON.stringify(functions)});
const standIns = new Map();
function standIn(key) {
  let f = standIns.get(key);
  if (!f) {
    // \`new\` makes an instance of the real class (its prototype), not of this stand-in.
    f = function (...args) { return new.target ? Reflect.construct(load()[key], args) : load()[key].apply(this, args); };
    standIns.set(key, f);
  }
  return f;
}
const proxy = new Proxy({}, {
  get: (_, key) => (real === undefined && functions.has(key) ? standIn(key) : load()[key]),
  has: (_, key) => key in load(),
  ownKeys: () => (real === undefined ? [...keys] : Reflect.ownKeys(real)),
  getOwnPropertyDescriptor: (_, key) => {
    if (real === undefined) return keys.includes(key) ? { configurable: true, enumerable: true, get: () => proxy[key] } : undefined;
    const d = Reflect.getOwnPropertyDescriptor(real, key);
    return d && { ...d, configurable: true };
  },
});
module.exports = proxy;`,
        loader: 'js',
      };
    });
  },
};

/**
 * The daemon is a bundle of its own (dist/keel-daemon.js): the CLI loads it only for
 * `keel daemon` (cli/commands/daemon.ts imports it dynamically), so every other command —
 * and the `keel daemon start` that waits for a daemon — stays a small client.
 */
const daemonApart = {
  name: 'daemon-apart',
  setup(build) {
    build.onResolve({ filter: /server\/daemon\.ts$/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: 'keel-daemon', namespace: 'daemon-apart' } : undefined);
    // A plain require of the file beside the CLI's (an import() would go through the ES module loader).
    build.onLoad({ filter: /.*/, namespace: 'daemon-apart' }, () => ({ contents: "module.exports = require('./keel-daemon.js');", loader: 'js' }));
    build.onResolve({ filter: /^\.\/keel-daemon\.js$/ }, (args) => ({ path: args.path, external: true }));
  },
};

const node = {
  ...common,
  outdir: 'dist',
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  external: ['better-sqlite3'],
  define: { KEEL_BUILD_VERSION: JSON.stringify(pkg.version), KEEL_PARSE_WORKER: JSON.stringify('keel-worker.js') },
};
/** dist/keel.js (cli/entry.ts) turns on the compile cache, then requires the CLI (or daemon) bundle beside it. */
const cliApart = {
  name: 'cli-apart',
  setup(build) {
    build.onResolve({ filter: /^\.\/keel-(cli|daemon)\.js$/ }, (args) => ({ path: args.path, external: true }));
  },
};
/**
 * The daemon is two files. dist/keel-daemon.js answers the first request: the lock, the
 * store, the socket and the daemon's own methods. dist/keel-daemon-features.js is
 * server/features.ts — tracking, dispatch and the protocol methods that use them, with
 * yaml, simple-git, chokidar and hash-wasm — which server/daemon.ts loads after its socket
 * listens (`import('./features.ts')`, here a plain require of the file beside it). Node
 * reads, checks and deserialises compiled code a whole file at a time, so the features'
 * 1.5 MB in the first file cost every start before its first answer even when none of it ran.
 *
 * The features must not carry a copy of a module the daemon bundle has (a second RpcError
 * class, a second parse-pool slot…): the daemon bundle exports every Keel module it holds
 * under its path (`__keelModules`), and the features bundle takes those from there.
 */
const DAEMON_ENTRY = 'daemon/src/server/daemon.ts';
const FEATURES_ENTRY = 'daemon/src/server/features.ts';
const root = process.cwd();
const featuresApart = {
  name: 'features-apart',
  setup(build) {
    build.onResolve({ filter: /features\.ts$/ }, (args) =>
      args.kind === 'dynamic-import' && resolve(args.resolveDir, args.path) === resolve(FEATURES_ENTRY) ? { path: 'keel-daemon-features', namespace: 'features-apart' } : undefined);
    build.onLoad({ filter: /.*/, namespace: 'features-apart' }, () => ({ contents: "module.exports = require('./keel-daemon-features.js');", loader: 'js' }));
    build.onResolve({ filter: /^\.\/keel-daemon-features\.js$/ }, (args) => ({ path: args.path, external: true }));
  },
};
/** The daemon bundle's entry: server/daemon.ts, and `__keelModules`, each of `modules` (paths from the repository root) by its path. */
const exportModules = (modules) => ({
  name: 'export-modules',
  setup(build) {
    build.onResolve({ filter: /^keel-daemon-entry$/ }, () => ({ path: 'keel-daemon-entry', namespace: 'export-modules' }));
    build.onLoad({ filter: /.*/, namespace: 'export-modules' }, () => ({
      resolveDir: root,
      loader: 'js',
      contents: [
        `export * from './${DAEMON_ENTRY}';`,
        ...modules.map((m, i) => `import * as m${i} from './${m}';`),
        `export const __keelModules = { ${modules.map((m, i) => `${JSON.stringify(m)}: m${i}`).join(', ')} };`,
      ].join('\n'),
    }));
  },
});
/**
 * In the features bundle, an import of one of `modules` (path → its export names) takes the
 * daemon bundle's, already evaluated (this file is loaded by it). An ES module naming each
 * export: as CommonJS, every module importing it would copy all its keys (__toESM). Keel's
 * modules export no `let`, so the values taken once are the values.
 */
const modulesFromDaemon = (modules) => ({
  name: 'modules-from-daemon',
  setup(build) {
    const shared = new Map([...modules].map(([m, names]) => [resolve(m), names]));
    build.onResolve({ filter: /^\./ }, async (args) => {
      if (args.namespace !== 'file' || args.pluginData?.asIs) return undefined;
      const r = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { asIs: true } });
      return r.errors.length === 0 && shared.has(r.path) ? { path: relative(root, r.path), namespace: 'daemon-module' } : undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'daemon-module' }, (args) => {
      const names = shared.get(resolve(args.path));
      return {
        contents: `const m = require('./keel-daemon.js').__keelModules[${JSON.stringify(args.path)}];\n` + (names.length ? `export const { ${names.join(', ')} } = m;\n` : ''),
        loader: 'js',
      };
    });
    build.onResolve({ filter: /^\.\/keel-daemon\.js$/ }, (args) => ({ path: args.path, external: true }));
  },
});
/** The export names of each of `modules`, as esbuild bundles it (`export *` followed, types gone). */
async function exportNames(modules) {
  const r = await esbuild.build({ ...node, format: 'esm', entryPoints: modules, outdir: 'dist/exports', write: false, metafile: true, plugins: [lazyBuiltins, featuresApart] });
  const names = new Map(Object.values(r.metafile.outputs).filter((o) => o.entryPoint).map((o) => [o.entryPoint, o.exports]));
  if (modules.some((m) => !names.has(m))) throw new Error('build: no export list for a module of the daemon bundle');
  return names;
}
/** Builds dist/keel-daemon.js and dist/keel-daemon-features.js: a first pass finds the Keel modules of the daemon bundle. */
async function buildDaemon() {
  const first = await esbuild.build({ ...node, entryPoints: { 'keel-daemon': DAEMON_ENTRY }, plugins: [lazyBuiltins, featuresApart], write: false, metafile: true });
  const modules = Object.keys(first.metafile.inputs).filter((f) => f.startsWith('daemon/src/')).sort();
  if (!modules.includes('daemon/src/store/index.ts') || modules.includes(FEATURES_ENTRY)) throw new Error('build: the daemon bundle should hold the store and not the features');
  // The features take a shared module's exports by name; `default` is not a name a destructuring can export.
  // …nor an `export let`/`var`: the features bundle takes each export's value once, so a later assignment would not reach it.
  const unshareable = modules.filter((m) => /^export (default|let|var)\b/m.test(readFileSync(m, 'utf8')));
  if (unshareable.length > 0) throw new Error(`build: ${unshareable.join(', ')}: a module of the daemon bundle may not have a default export nor export a let/var (the features bundle shares it, taking each value once)`);
  const names = await exportNames(modules);
  await Promise.all([
    esbuild.build({ ...node, entryPoints: { 'keel-daemon': 'keel-daemon-entry' }, plugins: [lazyBuiltins, featuresApart, exportModules(modules)] }),
    esbuild.build({ ...node, entryPoints: { 'keel-daemon-features': FEATURES_ENTRY }, plugins: [lazyBuiltins, modulesFromDaemon(names)] }),
  ]);
}

const builds = [
  // dist/keel.js is the small first file of every start (cli/entry.ts: the compile cache, then
  // dist/keel-cli.js, the CLI); dist/keel-worker.js the parse worker (daemon/src/work/parse-worker.ts):
  // a worker thread needs a file of its own, and KEEL_PARSE_WORKER tells work/worker-url.ts its name.
  { ...node, entryPoints: { keel: 'daemon/src/cli/entry.ts' }, plugins: [cliApart] },
  { ...node, entryPoints: { 'keel-cli': 'daemon/src/cli/main.ts', 'keel-worker': 'daemon/src/work/parse-worker.ts' }, plugins: [lazyBuiltins, daemonApart] },
];
if (existsSync('extension/src/extension.ts')) {
  builds.push({
    ...common,
    entryPoints: { extension: 'extension/src/extension.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: ['vscode', 'better-sqlite3'],
    // ws probes optional native add-ons (bufferutil, utf-8-validate): never in the extension host.
    define: { 'process.env.WS_NO_BUFFER_UTIL': '"1"', 'process.env.WS_NO_UTF_8_VALIDATE': '"1"' },
  });
}
if (existsSync('webview/src/main.ts')) {
  builds.push({
    ...common,
    // dist/webview.js is the compare panel; dist/run-page.js the run page (each with its .css).
    entryPoints: { webview: 'webview/src/main.ts', 'run-page': 'webview/src/run-page/main.ts' },
    outdir: 'dist',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    loader: { '.css': 'css' },
    // Minified: the panel's first chart waits for the webview to parse this (324 KB → about
    // a third), and the sourcemap beside it keeps stack traces readable.
    minify: true,
    // The first thing each page runs: the bench reads how long the bundle took to arrive and to evaluate.
    banner: { js: 'performance.mark("keel-bundle");' },
  });
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  // The daemon's two files are rebuilt together whenever a file of either changes.
  const rebuild = { name: 'rebuild-daemon', setup: (build) => build.onEnd(() => buildDaemon().catch((err) => console.error(err.message))) };
  await (await esbuild.context({ ...node, entryPoints: [DAEMON_ENTRY, FEATURES_ENTRY], write: false, plugins: [lazyBuiltins, rebuild] })).watch();
} else {
  await Promise.all([...builds.map((b) => esbuild.build(b)), buildDaemon()]);
}

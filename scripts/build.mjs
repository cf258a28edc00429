// Builds the bundles: the extension (CommonJS, `vscode` external), the CLI and the daemon
// (Node, better-sqlite3 external) with its parse worker beside them, and the webview (browser).
// `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { mkdirSync, existsSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

const watch = process.argv.includes('--watch');
const common = { bundle: true, sourcemap: true, logLevel: 'warning', legalComments: 'none', logOverride: { 'empty-import-meta': 'silent' } };
mkdirSync('dist', { recursive: true });

/**
 * Node built-ins that `ws` loads at its top but Keel never calls: https and tls serve wss://
 * and https:// URLs, and Keel only speaks ws+unix. Loading them costs ~20 ms of every start
 * (OpenSSL's certificate and key modules come with them), so in the bundles they are loaded
 * on first use instead: a proxy that requires the real module when a property is read.
 */
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(build) {
    build.onResolve({ filter: /^(node:)?(https|tls)$/ }, (args) =>
      /[\\/]node_modules[\\/]ws[\\/]/.test(args.importer) ? { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' } : undefined);
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `let real; const load = () => (real ??= require('node:${args.path}'));
module.exports = new Proxy({}, { get: (_, key) => load()[key], has: (_, key) => key in load() });`,
      loader: 'js',
    }));
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
const builds = [
  // dist/keel.js is the small first file of every start (cli/entry.ts: the compile cache, then
  // dist/keel-cli.js, the CLI); dist/keel-worker.js the parse worker (daemon/src/work/parse-worker.ts):
  // a worker thread needs a file of its own, and KEEL_PARSE_WORKER tells work/worker-url.ts its name.
  { ...node, entryPoints: { keel: 'daemon/src/cli/entry.ts' }, plugins: [cliApart] },
  { ...node, entryPoints: { 'keel-cli': 'daemon/src/cli/main.ts', 'keel-worker': 'daemon/src/work/parse-worker.ts' }, plugins: [lazyBuiltins, daemonApart] },
  { ...node, entryPoints: { 'keel-daemon': 'daemon/src/server/daemon.ts' }, plugins: [lazyBuiltins] },
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
  });
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}

// Builds the bundles: the extension (CommonJS, `vscode` external), the daemon + CLI
// (Node, better-sqlite3 external) with its parse worker beside it, and the webview (browser).
// `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { mkdirSync, existsSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

const watch = process.argv.includes('--watch');
const common = { bundle: true, sourcemap: true, logLevel: 'warning', legalComments: 'none', logOverride: { 'empty-import-meta': 'silent' } };
mkdirSync('dist', { recursive: true });

const builds = [
  {
    ...common,
    // dist/keel-worker.js is the parse worker (daemon/src/work/parse-worker.ts): a worker
    // thread needs a file of its own, and KEEL_PARSE_WORKER tells work/worker-url.ts its name.
    entryPoints: { keel: 'daemon/src/cli/main.ts', 'keel-worker': 'daemon/src/work/parse-worker.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: ['better-sqlite3'],
    define: { KEEL_BUILD_VERSION: JSON.stringify(pkg.version), KEEL_PARSE_WORKER: JSON.stringify('keel-worker.js') },
  },
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

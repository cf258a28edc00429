/**
 * Runs the @vscode/test-electron suite: downloads VS Code (the oldest supported, 1.100.0,
 * and stable; KEEL_VSCODE_VERSIONS overrides), builds the extension, bundles the suite,
 * and runs it against a temp copy of examples/tiny-finetune with a temp KEEL_HOME.
 *
 *   node test/electron/runTest.ts
 *
 * Not part of `npm test`: it needs the internet. Where VS Code cannot be downloaded it says
 * so plainly and exits 77 ("skipped", as automake and CTest count it): a suite that did not
 * run is never reported as passed. test/e2e/electron-suite.test.ts runs the same suite with no
 * download, in the VS Code server inside code-server.
 * On Linux without a display, run it under `xvfb-run -a`.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { downloadAndUnzipVSCode, runTests, SilentReporter } from '@vscode/test-electron';
import * as esbuild from 'esbuild';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const versions = (process.env.KEEL_VSCODE_VERSIONS ?? '1.100.0,stable').split(',').map((v) => v.trim()).filter(Boolean);
const cachePath = process.env.KEEL_VSCODE_CACHE ?? join(homedir(), '.cache', 'keel-vscode-test');

async function download(): Promise<[string, string][] | null> {
  const found: [string, string][] = [];
  for (const version of versions) {
    console.log(`Getting VS Code ${version} (cache: ${cachePath})…`);
    try {
      found.push([version, await downloadAndUnzipVSCode({ version, cachePath, timeout: 20_000, reporter: new SilentReporter() })]);
    } catch (err) {
      console.log(`VS Code could not be downloaded here; the test-electron suite was NOT run. (${version}: ${(err as Error).message})`);
      return null;
    }
  }
  return found;
}

async function build(): Promise<string> {
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], { cwd: repoRoot, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
  const outdir = join(repoRoot, 'out', 'test-electron');
  await esbuild.build({
    entryPoints: { index: join(import.meta.dirname, 'suite', 'index.ts') },
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', outdir, sourcemap: true,
    external: ['vscode', 'mocha'], logLevel: 'warning',
  });
  return join(outdir, 'index.js');
}

/** A fresh workspace (the example, without outputs), KEEL_HOME and VS Code profile. */
function prepare(): { dir: string; workspace: string; keelHome: string; userData: string; extensions: string } {
  // Short: the daemon's socket path lives under KEEL_HOME and Unix sockets allow ~100 bytes.
  const dir = mkdtempSync(join(tmpdir(), 'keel-te-'));
  const workspace = join(dir, 'tiny-finetune');
  cpSync(join(repoRoot, 'examples', 'tiny-finetune'), workspace, { recursive: true, filter: (src) => !src.includes(join('tiny-finetune', 'outputs')) });
  const keelHome = join(dir, 'home');
  const userData = join(dir, 'user');
  mkdirSync(join(userData, 'User'), { recursive: true });
  // Electron's Node cannot load the daemon's better-sqlite3 built for this Node: the
  // extension falls back to keel.daemon.nodePath, which this exercises too.
  writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify({
    'keel.daemon.home': keelHome,
    'keel.daemon.nodePath': process.execPath,
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
  }, null, 2));
  return { dir, workspace, keelHome, userData, extensions: join(dir, 'extensions') };
}

async function runOne(version: string, executable: string, suitePath: string): Promise<boolean> {
  const env = prepare();
  console.log(`\n== test-electron on VS Code ${version} (${executable})`);
  try {
    await runTests({
      vscodeExecutablePath: executable,
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: suitePath,
      launchArgs: [env.workspace, '--user-data-dir', env.userData, '--extensions-dir', env.extensions, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
      extensionTestsEnv: { KEEL_TEST_WORKSPACE: env.workspace, KEEL_TEST_HOME: env.keelHome, KEEL_HOME: env.keelHome },
    });
    return true;
  } catch (err) {
    console.error(`test-electron on VS Code ${version} failed: ${(err as Error).message}`);
    return false;
  } finally {
    spawnSync(process.execPath, [join(repoRoot, 'bin', 'keel.js'), 'daemon', 'stop'], { env: { ...process.env, KEEL_HOME: env.keelHome }, stdio: 'ignore' });
    rmSync(env.dir, { recursive: true, force: true });
  }
}

/** Exit status of a suite that could not run: not a pass, not a failure of the code. */
const NOT_RUN = 77;

async function main(): Promise<number> {
  const executables = await download();
  if (!executables) {
    console.log(`test-electron: NOT RUN (exit ${NOT_RUN}). No test in it counts as passed.`);
    return NOT_RUN;
  }
  if (process.platform === 'linux' && !process.env.DISPLAY) console.log('note: no DISPLAY; if VS Code does not start, run this under `xvfb-run -a`.');
  const suitePath = await build();
  let ok = true;
  for (const [version, executable] of executables) ok = (await runOne(version, executable, suitePath)) && ok;
  return ok ? 0 : 1;
}

process.exitCode = await main();

/**
 * The @vscode/test-electron suite (test/electron/suite, mocha) run for real, with no download:
 * in VS Code 1.139's own server — the one inside code-server — as an extension-development
 * host (support/vscode-server.ts). The browser workbench opens the example with the extension
 * loaded from this repository and the suite as its tests; the remote extension host runs
 * them and exits with 0 only when every test passed. Mocha's report comes back through the
 * workbench console and is checked test by test (the remote extension host exits with 0 either way).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import { TestHome, repoRoot, waitFor } from '../support/keel-home.ts';
import { chromiumPath } from './support/code-server.ts';
import { copyExample } from './support/project.ts';
import { VsCodeServer, vscodeServerMain } from './support/vscode-server.ts';

const suiteSource = join(repoRoot, 'test', 'electron', 'suite', 'extension.test.ts');
const artifacts = join(repoRoot, '.test-artifacts', 'e2e', 'electron-suite');

/** The suite bundled as VS Code loads it (`vscode` and mocha stay external), as test/electron/runTest.ts builds it. */
async function bundleSuite(): Promise<string> {
  const outdir = join(repoRoot, 'out', 'test-electron');
  await esbuild.build({
    entryPoints: { index: join(repoRoot, 'test', 'electron', 'suite', 'index.ts') },
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', outdir, sourcemap: true, external: ['vscode', 'mocha'], logLevel: 'warning',
  });
  return join(outdir, 'index.js');
}

describe('the test-electron suite in a real VS Code extension host (VS Code 1.139 server, no download)', () => {
  const h = new TestHome('keel-te-');
  const ws = join(h.dir, 'tiny-finetune');
  let server: VsCodeServer | undefined;
  let browser: Browser | undefined;
  const consoleLines: string[] = [];

  before(() => {
    vscodeServerMain();
    if (!existsSync(chromiumPath())) throw new Error('chromium is missing');
    for (const f of ['dist/extension.js', 'dist/keel.js']) {
      if (!existsSync(join(repoRoot, f))) throw new Error(`${f} is missing: run \`npm run build\` first`);
    }
    copyExample(ws);
  });

  after(async () => {
    try {
      mkdirSync(artifacts, { recursive: true });
      writeFileSync(join(artifacts, 'mocha.txt'), consoleLines.join('\n') + '\n');
    } finally {
      // Whatever happened above, nothing is left running (a hook that threw here once left the
      // server and the test process up until the runner's time-out).
      await browser?.close().catch(() => undefined);
      await server?.stop();
      // The suite restarts the daemon; stop the one it left.
      spawnSync(process.execPath, [join(repoRoot, 'bin', 'keel.js'), 'daemon', 'stop'], { env: h.env, stdio: 'ignore', timeout: 30_000 });
      h.cleanup();
    }
  });

  it('runs every test of the suite in the extension host, and they pass', async (t) => {
    const entry = await bundleSuite();
    mkdirSync(artifacts, { recursive: true });
    server = await VsCodeServer.start({
      root: join(h.dir, 'vscode-server'), logFile: join(artifacts, 'vscode-server.log'),
      settings: { 'keel.daemon.home': h.home, 'security.workspace.trust.enabled': false, 'workbench.startupEditor': 'none', 'extensions.autoCheckUpdates': false, 'telemetry.telemetryLevel': 'off' },
      env: { KEEL_HOME: h.home, KEEL_TEST_WORKSPACE: ws, KEEL_TEST_HOME: h.home },
    });
    browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    // Mocha's reporter prints through the extension host's console, which the workbench forwards here.
    page.on('console', (m) => consoleLines.push(m.text().replace(/\x1b\[[0-9;]*m/g, '')));
    await page.goto(server.testUrl(ws, repoRoot, entry));
    await waitFor(() => server?.extensionHostExit() !== undefined, 300_000, 'the extension host to finish the tests and exit');
    const passed = consoleLines.filter((l) => /✔/.test(l)).map((l) => l.replace(/^.*✔\s*(%s)?\s*(\(%dms\))?\s*/, '').trim());
    t.diagnostic(`passed: ${passed.join(' | ')}`);
    const defined = [...readFileSync(suiteSource, 'utf8').matchAll(/^\s*test\('([^']+)'/gm)].map((m) => m[1] ?? '');
    assert.ok(defined.length >= 5, 'the suite defines its tests');
    // The remote extension host exits with 0 even when a test failed (only a desktop VS Code
    // forwards the code), so the verdict is mocha's own report, test by test.
    const report = consoleLines.filter((l) => /✔|\d+\) |failing|passing/.test(l)).join('\n');
    assert.ok(!consoleLines.some((l) => /%d failing/.test(l)), `no test failed:\n${consoleLines.slice(-40).join('\n')}`);
    const passing = /%d passing \(%s\) (\d+)/.exec(consoleLines.join('\n'));
    assert.equal(Number(passing?.[1]), defined.length, `mocha reports every test passing:\n${report}`);
    for (const name of defined) assert.ok(passed.some((p) => p.includes(name)), `"${name}" passed:\n${report}`);
    assert.match(server.log(), /Loading development extension at /, 'the extension came from this repository, under development');
  });
});

/**
 * The run experience in a real VS Code (code-server 4.139 + Chromium, the packaged VSIX), in
 * Light Modern and Dark Modern: runs named after their config and overrides with eval runs
 * nested under them; pre-flight refusing a mistyped override with "did you mean"; one failure
 * notification quoting the log's error line; Cancel with buttons that say what they do and a
 * toast that tells the outcome; the run page (restored after a reload); the config CodeLenses
 * as three actions; the Models view's rows (the run that made each alias's checkpoint, promote,
 * roll back); keel.yaml hover and completion; the Get Started walkthrough. Screenshots go to .test-artifacts/e2e/ux-runs/<theme>/.
 * KEEL_E2E_THEMES=light (or dark) runs one theme.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestHome, repoRoot, waitFor } from '../support/keel-home.ts';
import { CodeServer, chromiumPath, codeServerEntry } from './support/code-server.ts';
import { commandTitled, readManifest } from './support/manifest.ts';
import type { Locator } from 'playwright-core';
import type { Checkpoint, ModelAliasInfo } from '../../daemon/src/protocol/index.ts';
import { copyExample, runDetail, runs, waitSucceeded } from './support/project.ts';
import { clearToasts, clickCodeLens, clickToastButton, codeLenses, reloadWindow, runPageShowing, shot, toasts, waitDialog, waitToast } from './support/ux.ts';
import { launchWizard } from './support/wizard.ts';
import { Workbench } from './support/workbench.ts';

const THEMES = [{ key: 'light', name: 'Default Light Modern' }, { key: 'dark', name: 'Default Dark Modern' }]
  .filter((t) => !process.env.KEEL_E2E_THEMES || process.env.KEEL_E2E_THEMES.split(',').includes(t.key));
const manifest = readManifest();
const label = (title: RegExp): string => commandTitled(manifest, title).label;

let packaged: string | undefined;
/** The VSIX, packaged once for both themes (from the bundles `npm run build` made). */
function vsix(dir: string): string {
  if (process.env.KEEL_E2E_VSIX) return process.env.KEEL_E2E_VSIX;
  if (packaged && existsSync(packaged)) return packaged;
  const out = join(dir, `keel-${manifest.version}.vsix`);
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'package.mjs'), '--no-build', '--out', out], { cwd: repoRoot, encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`npm run package failed:\n${r.stdout}\n${r.stderr}`);
  packaged = out;
  return out;
}

/** The example plus a config train.py refuses (a learning rate that is not a number) and a long one to cancel. */
function writeConfigs(ws: string): void {
  const baseline = readFileSync(join(ws, 'configs', 'baseline.yaml'), 'utf8');
  writeFileSync(join(ws, 'configs', 'broken-lr.yaml'), baseline.replace(/^learning_rate: .*$/m, 'learning_rate: fast').replace('outputs/baseline', 'outputs/broken-lr'));
  writeFileSync(join(ws, 'configs', 'long.yaml'), baseline.replace(/^num_train_epochs: .*$/m, 'num_train_epochs: 4000').replace(/^(eval|save)_steps: .*$/gm, '$1_steps: 1000000').replace('outputs/baseline', 'outputs/long'));
}

for (const theme of THEMES) {
  describe(`the run experience in a real VS Code, ${theme.name}`, () => {
    const h = new TestHome(`keel-ux-${theme.key}-`, { KEEL_POLL_MS: '300' });
    const ws = join(h.dir, 'tiny-finetune');
    const artifacts = join(repoRoot, '.test-artifacts', 'e2e', 'ux-runs', theme.key);
    let server: CodeServer | undefined;
    let wb: Workbench | undefined;
    const page = (): Workbench => {
      if (!wb) throw new Error('the workbench did not open (see the first failure)');
      return wb;
    };
    const snap = (name: string): Promise<string> => shot(page(), artifacts, name);
    const step = async (name: string, fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        if (wb) await snap(`FAILED-${name}`).catch(() => undefined);
        throw err;
      }
    };
    const runNamed = (name: string): string => {
      const run = runs(h).find((r) => r.name === name);
      if (!run) throw new Error(`no run named "${name}": ${runs(h).map((r) => r.name).join(', ')}`);
      return run.id;
    };

    before(async () => {
      codeServerEntry();
      chromiumPath();
      for (const f of ['dist/extension.js', 'dist/keel.js', 'dist/webview.js', 'dist/run-page.js']) {
        if (!existsSync(join(repoRoot, f))) throw new Error(`${f} is missing: run \`npm run build\` first`);
      }
      copyExample(ws);
      writeConfigs(ws);
      const xdg = join(h.dir, 'xdg');
      server = (await CodeServer.start({
        root: join(h.dir, 'code-server'), vsix: vsix(h.dir), logFile: join(h.dir, 'code-server.log'),
        settings: { 'workbench.colorTheme': theme.name },
        env: { KEEL_HOME: h.home, KEEL_POLL_MS: '300', XDG_CONFIG_HOME: join(xdg, 'config'), XDG_DATA_HOME: join(xdg, 'data'), XDG_CACHE_HOME: join(xdg, 'cache') },
      })).server;
      wb = (await Workbench.open(server.folderUrl(ws), artifacts)).wb;
      await waitFor(async () => /running/.test((await page().statusItem('keel')).text), 60_000, 'the status bar to show the connected daemon');
    });

    after(async () => {
      // One Keel.log per window session (the suite reloads the window): keep them all, oldest first.
      const logs = (server?.logs(/^Keel\.log$/) ?? []).sort((a, b) => a.file.localeCompare(b.file));
      if (logs.length) writeFileSync(join(artifacts, 'Keel.log'), logs.map((l) => `=== ${l.file}\n${l.text}`).join('\n'));
      if (existsSync(join(h.home, 'daemon.log'))) copyFileSync(join(h.home, 'daemon.log'), join(artifacts, 'daemon.log'));
      await wb?.close().catch(() => undefined);
      await server?.stop();
      h.cleanup();
    });

    it('names a launch after its config and overrides, and nests its eval run under it', async (t) => {
      await step('names', async () => {
        // Nothing to tag yet: the Models view offers no Tag Checkpoint.
        await page().openContainer('Keel');
        const models = await page().view('Models');
        await page().page.waitForTimeout(1_500);
        assert.equal(await models.locator('.pane-header .action-label[aria-label^="Tag Checkpoint"]').count(), 0, 'no Tag Checkpoint before any checkpoint exists');
        const steps = await launchWizard(page(), label(/launch fine-?tune/i), { config: /baseline/, host: /^\s*Local/, gpus: /^\s*0\b/, overrides: 'learning_rate=0.1' });
        t.diagnostic(`wizard: ${steps.join(' → ')}`);
        assert.ok(steps.some((s) => /name.*"baseline · lr=0\.1"/.test(s)), `the name step offers "baseline · lr=0.1": ${steps.join(' | ')}`);
        await waitFor(() => runs(h).some((r) => r.name === 'baseline · lr=0.1'), 20_000, 'the run named "baseline · lr=0.1"');
        waitSucceeded(h, runNamed('baseline · lr=0.1'));
        await waitFor(() => runs(h).some((r) => r.name === 'baseline · lr=0.1-eval' && r.status === 'succeeded'), 120_000, 'its eval run to succeed');
        await page().openContainer('Keel');
        const pane = await page().view('Runs');
        await waitFor(async () => {
          await page().expandGroups('Runs');
          const top = (await pane.locator('.pane-body .monaco-list-row[aria-level="2"]').allInnerTexts()).map((x) => x.replace(/\s+/g, ' '));
          return top.some((r) => r.includes('baseline · lr=0.1') && /succeeded/.test(r)) && !top.some((r) => r.includes('-eval'));
        }, 30_000, 'the run under Recent, and no eval run beside it');
        const row = pane.locator('.pane-body .monaco-list-row[aria-level="2"]', { hasText: 'baseline · lr=0.1' }).first();
        if ((await row.getAttribute('aria-expanded')) === 'false') await row.locator('.monaco-tl-twistie').click();
        const nested = pane.locator('.pane-body .monaco-list-row[aria-level="3"]', { hasText: 'baseline · lr=0.1-eval' });
        await nested.first().waitFor({ timeout: 15_000 });
        await snap('01-names-and-nested-eval');
      });
    });

    it('refuses a mistyped override before launching, with "did you mean"', async () => {
      await step('preflight', async () => {
        const before = runs(h).length;
        await page().runCommand(label(/launch fine-?tune/i));
        await page().waitQuickInput();
        await page().pick(/baseline\.yaml/);
        await page().waitQuickInput();
        await page().pick(/^\s*Local/);
        await waitFor(async () => /overrides/i.test((await page().quickInput())?.title ?? ''), 15_000, 'the overrides step');
        await page().page.locator('.quick-input-widget .quick-input-box input').first().fill('learnin_rate=0.01 num_train_epochs=abc');
        await page().accept();
        const dialog = await waitDialog(page());
        assert.match(dialog.message, /This launch would fail: 2 problems/);
        assert.match(dialog.detail, /learnin_rate=0\.01: the config has no key "learnin_rate"\. Did you mean "learning_rate"\?/);
        assert.match(dialog.detail, /num_train_epochs=abc: num_train_epochs is a number in the config \(10\); "abc" is not a number/);
        assert.deepEqual([...dialog.buttons].sort(), ['Cancel', 'Edit Overrides', 'Launch Anyway']);
        await snap('02-preflight-did-you-mean');
        await dialog.box.locator('.monaco-button', { hasText: /^\s*Cancel\s*$/ }).click();
        assert.equal(runs(h).length, before, 'nothing was launched');
      });
    });

    it('says why a run failed in one notification, quoting the log, and opens its page', async () => {
      await step('failure', async () => {
        await clearToasts(page());
        h.keelJson(['launch', 'configs/broken-lr.yaml', '--local'], { cwd: ws });
        const toast = await waitToast(page(), /Run broken-lr failed/);
        assert.match(toast.message, /Run broken-lr failed \(exit code 2\): error: config\.yaml: learning_rate must be a number, got 'fast'/);
        assert.deepEqual(toast.buttons, ['Show Log', 'Open Run']);
        await page().page.waitForTimeout(3_000);
        const about = (await toasts(page())).filter((x) => /broken-lr/.test(x.message));
        assert.equal(about.length, 1, `one notification for the failure: ${about.map((x) => x.message).join(' | ')}`);
        await snap('03-failure-notification');
        await clickToastButton(page(), /Run broken-lr failed/, 'Open Run');
        const frame = await runPageShowing(page(), 'broken-lr');
        assert.match(await frame.locator('.error-line').innerText(), /learning_rate must be a number, got 'fast'/);
        assert.match(await frame.locator('.status-line').innerText(), /failed/);
        await snap('04-run-page-failed');
      });
    });

    it('cancels with Stop Run / Keep Running and says the run was cancelled once it was', async (t) => {
      await step('cancel', async () => {
        const id = h.keelJson<{ run: { id: string } }>(['launch', 'configs/long.yaml', '--local'], { cwd: ws }).run.id;
        await waitFor(() => runs(h).find((r) => r.id === id)?.status === 'running', 60_000, 'the long run to be running');
        await clearToasts(page());
        // Once in a loaded CI run the pick closed before it could be clicked (focus moved; the
        // row was found hidden for 10 s): open it again once, and say so, rather than fail.
        for (let attempt = 1; ; attempt++) {
          await page().runCommand(label(/^cancel run$/i));
          await page().waitQuickInput();
          try {
            await page().pick(/^\s*long(?!-)/);
            break;
          } catch (err) {
            if (attempt === 2) throw err;
            t.diagnostic(`the Cancel Run pick closed before its row could be clicked; opening it again (${(err as Error).message.split('\n')[0]})`);
            await page().page.keyboard.press('Escape');
          }
        }
        const dialog = await waitDialog(page());
        assert.equal(dialog.message, 'Stop run long?');
        assert.deepEqual([...dialog.buttons].sort(), ['Keep Running', 'Stop Run']);
        await snap('05-cancel-dialog');
        const t0 = performance.now();
        await dialog.box.locator('.monaco-button', { hasText: /^\s*Stop Run\s*$/ }).click();
        await waitToast(page(), /Run long cancelled\./, 60_000);
        t.diagnostic(`Stop Run → "cancelled" toast: ${Math.round(performance.now() - t0)} ms`);
        assert.ok(!(await toasts(page())).some((x) => /is running/.test(x.message)), 'no "is running" after cancelling');
        assert.equal(runs(h).find((r) => r.id === id)?.status, 'cancelled');
        await snap('06-cancelled');
      });
    });

    it('opens a run page with its launch spec, checkpoints, evals and lineage, and restores it after a reload', async () => {
      await step('run-page', async () => {
        await clearToasts(page());
        await page().openContainer('Keel');
        await page().expandGroups('Runs');
        const pane = await page().view('Runs');
        await pane.locator('.pane-body .monaco-list-row[aria-level="2"]', { hasText: 'baseline · lr=0.1' }).first().locator('.monaco-icon-label').first().click();
        let frame = await runPageShowing(page(), 'baseline · lr=0.1');
        const text = await frame.locator('main.run-page').innerText();
        assert.match(text, /Launch spec[^]*overrides\s+learning_rate=0\.1/);
        assert.match(text, /Checkpoints[^]*step 250[^]*present/);
        assert.match(text, /Evals[^]*tiny_reverse[^]*baseline · lr=0\.1-eval/);
        assert.match(text, /Came from[^]*config[^]*baseline\.yaml/);
        await snap('07-run-page');
        await reloadWindow(page());
        frame = await runPageShowing(page(), 'baseline · lr=0.1', 60_000);
        assert.match(await frame.locator('main.run-page').innerText(), /Launch spec/);
        await snap('08-run-page-after-reload');
      });
    });

    it('splits the config CodeLens into Launch, the runs (filtered view) and the best run of this exact config (its page)', async () => {
      await step('codelens', async () => {
        const plain = h.keelJson<{ run: { id: string } }>(['launch', 'configs/baseline.yaml', '--local'], { cwd: ws }).run.id;
        waitSucceeded(h, plain);
        await page().openFile('configs/baseline.yaml');
        let lenses: string[] = [];
        await waitFor(async () => {
          lenses = await codeLenses(page());
          return lenses.some((l) => /^best eval[/_]loss/.test(l));
        }, 30_000, 'the best-run lens');
        assert.deepEqual(lenses.slice(0, 2), ['▶ Launch', '2 runs (1 of this exact config)']);
        assert.match(lenses[2] ?? '', /^best eval[/_]loss [\d.]+ \(baseline\)$/, 'best among runs without overrides: plain baseline, not "baseline · lr=0.1"');
        await snap('09-codelens');
        await clickCodeLens(page(), /^2 runs/);
        const pane = await page().view('Runs');
        await waitFor(async () => /Runs of configs\/baseline\.yaml \(2\)/.test(await pane.innerText()), 15_000, 'the Runs view narrowed to the config');
        await page().expandGroups('Runs');
        const top = (await pane.locator('.pane-body .monaco-list-row[aria-level="2"]').allInnerTexts()).join(' | ');
        assert.ok(!/broken-lr|long/.test(top), `only baseline runs: ${top}`);
        await snap('10-runs-of-config');
        await clickCodeLens(page(), /^best eval[/_]loss/);
        await runPageShowing(page(), 'baseline');
        await snap('11-best-run-page');
        await page().runCommand(label(/show all runs/i));
      });
    });

    it('shows each model alias with the run that made it, and promotes and rolls back from its row', async () => {
      await step('models', async () => {
        const last = (name: string): Checkpoint => {
          const c = [...runDetail(h, runNamed(name)).checkpoints].sort((a, b) => (b.step ?? -1) - (a.step ?? -1))[0];
          if (!c) throw new Error(`run ${name} has no checkpoint`);
          return c;
        };
        const tuned = last('baseline · lr=0.1');
        const plain = last('baseline');
        const target = (alias: string): string | undefined => h.keelJson<{ models: ModelAliasInfo[] }>(['models']).models.find((m) => m.alias === alias)?.checkpoint?.id;
        await page().openContainer('Keel');
        const pane = await page().view('Models');
        // Tagged from a terminal: the view looks again when it comes back into sight.
        h.keelJson(['tag', tuned.id, 'candidate'], { cwd: ws });
        await pane.locator('.pane-header').first().click();
        await pane.locator('.pane-header[aria-expanded="false"]').first().waitFor({ timeout: 5_000 });
        await page().view('Models');
        const row = (alias: string): Locator => pane.locator('.pane-body .monaco-list-row[aria-level="1"]', { hasText: new RegExp(`^\\s*${alias}\\b`) }).first();
        await row('candidate').waitFor({ timeout: 15_000 });
        assert.match((await row('candidate').innerText()).replace(/\s+/g, ' '), /candidate\s*→ step \d+( \([^)]+\))? · baseline · lr=0\.1 · /, 'the row names the checkpoint and the run that made it');
        assert.ok(await pane.locator('.pane-header .action-label[aria-label^="Tag Checkpoint"]').count() > 0, 'Tag Checkpoint once checkpoints exist');
        await snap('12-models-view');
        // Promote: the row's inline action, then a new alias.
        await row('candidate').hover();
        await row('candidate').locator('.action-label[aria-label^="Promote Model"]').click();
        await page().waitQuickInput();
        await page().pick(/Another alias/);
        await waitFor(async () => /Promote candidate/.test((await page().quickInput())?.title ?? ''), 10_000, 'the alias input');
        await page().page.locator('.quick-input-widget .quick-input-box input').first().fill('prod');
        await page().accept();
        await waitFor(() => target('prod') === tuned.id, 15_000, 'prod to point at the candidate checkpoint');
        await row('prod').waitFor({ timeout: 15_000 });
        // Move prod on with the CLI, then roll it back from its row.
        h.keelJson(['tag', plain.id, 'prod'], { cwd: ws });
        await page().runCommand(label(/^refresh$/i));
        await waitFor(async () => /prod\s*→ step \d+( \([^)]+\))? · baseline · (?!lr)/.test((await row('prod').innerText()).replace(/\s+/g, ' ')), 15_000, 'prod to show the plain baseline run');
        await row('prod').hover();
        await row('prod').locator('.action-label[aria-label^="Roll Back Model"]').click();
        const dialog = await waitDialog(page());
        assert.equal(dialog.message, `Roll prod back to ${tuned.location}?`, 'the checkpoint named by its folder, not its id');
        await snap('13-models-roll-back');
        await dialog.box.locator('.monaco-button', { hasText: /^\s*Roll Back\s*$/ }).click();
        await waitFor(() => target('prod') === tuned.id, 15_000, 'prod back on the tuned checkpoint');
        await waitFor(async () => /prod\s*→ step \d+( \([^)]+\))? · baseline · lr=0\.1/.test((await row('prod').innerText()).replace(/\s+/g, ' ')), 15_000, 'the row to say so');
        await snap('14-models-rolled-back');
      });
    });

    it('helps edit keel.yaml (hover, completion of missing keys) and offers a Get Started walkthrough', async () => {
      await step('getting-started', async () => {
        await page().openFile('keel.yaml');
        const key = page().page.locator('.editor-instance .monaco-editor .view-line span > span', { hasText: /^configs$/ }).first();
        const hover = await page().hoverUntil(key, /configs[^]*Globs of training configs/, 20_000);
        assert.match(hover.text, /CodeLens to launch them/);
        if (hover.via === 'keyboard') console.log(`keel.yaml hover: shown by Show Hover after ${hover.tries} tries (no mouse hover showed)`);
        await snap('15-keel-yaml-hover');
        await page().mouseAway();
        // A new top-level line after the comment: the keys the file lacks, not those it has.
        await page().page.locator('.editor-instance .monaco-editor .view-lines').first().click();
        await page().page.keyboard.press('Control+Home');
        await page().page.keyboard.press('End');
        await page().page.keyboard.press('Enter');
        const suggest = page().page.locator('.editor-widget.suggest-widget .monaco-list-row');
        let offered: string[] = [];
        await waitFor(async () => {
          if (!(await suggest.first().isVisible())) await page().page.keyboard.press('Control+Space');
          offered = (await suggest.allInnerTexts()).map((x) => x.split(/\s/)[0] ?? '');
          return offered.includes('ignore');
        }, 20_000, 'keel.yaml key completion');
        assert.ok(offered.includes('secrets'), `offers the missing keys: ${offered.join(', ')}`);
        assert.ok(!offered.includes('configs') && !offered.includes('train'), `not the keys the file has: ${offered.join(', ')}`);
        await snap('16-keel-yaml-completion');
        await page().page.keyboard.press('Escape');
        await page().page.keyboard.press('Control+Z');
        await page().runCommand('Welcome: Open Walkthrough');
        await page().waitQuickInput();
        await page().pick(/Get Started with Keel/);
        const steps = page().page.locator('.gettingStartedContainer .getting-started-step');
        await waitFor(async () => (await steps.allInnerTexts()).join(' | ').includes('Compare runs'), 20_000, 'the walkthrough\'s steps');
        const titles = (await steps.allInnerTexts()).map((x) => x.split('\n')[0]?.trim() ?? '');
        for (const title of ['Initialize a project', 'Add a GPU host', 'Launch a fine-tune', 'Compare runs']) assert.ok(titles.some((x) => x.includes(title)), `step "${title}": ${titles.join(' | ')}`);
        await snap('17-walkthrough');
      });
    });
  });
}

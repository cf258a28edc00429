/**
 * The compare panel and the lineage view as a user meets them, in a real VS Code
 * (code-server 4.139 + Debian's chromium, the packaged VSIX, 1600×1000), once in Dark Modern
 * and once in Light Modern. Three runs of examples/tiny-finetune (the third's eval job fails
 * after writing its results). Each item a user sees is checked and photographed:
 * the panel opens wide; train and eval loss share a chart; the metric picker filters;
 * summary values sit in a table; the config diff of three runs fits; the eval table marks
 * "best" only beyond the stderr and flags the failed eval job; "Show lineage" from a
 * checkpoint hover draws the graph with readable labels and that checkpoint selected.
 * Screenshots: .test-artifacts/e2e/ux-<theme>-*.png. Timings are printed, not asserted.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunComparison } from '../../daemon/src/protocol/index.ts';
import { TestHome, repoRoot, waitFor } from '../support/keel-home.ts';
import { CodeServer, chromiumPath, codeServerEntry } from './support/code-server.ts';
import { commandTitled, readManifest } from './support/manifest.ts';
import { contrastOf, keelFrame, pageMarks, setTheme, Themes, webviewBox, type ThemeName } from './support/panel.ts';
import { checkpointCard, compare, copyExample, launch, runDetail, runs, waitSucceeded } from './support/project.ts';
import { Workbench, paintedPixels } from './support/workbench.ts';

const artifacts = join(repoRoot, '.test-artifacts', 'e2e');
const figures: Record<string, number | string> = {};
const note = (t: TestContext, key: string, value: number): void => {
  figures[key] = Math.round(value);
  t.diagnostic(`${key}: ${figures[key]}`);
};

/** Waits until the named runs' eval jobs have ended and their results are recorded. */
async function waitEvals(h: TestHome, ids: string[], what: string): Promise<RunComparison> {
  let cmp = compare(h, ids);
  await waitFor(() => {
    cmp = compare(h, ids);
    return cmp.evals.some((e) => ids.every((id) => e.perRun[id]?.value != null && e.perRun[id]?.evalRun && !/queued|syncing|starting|running/.test(e.perRun[id]?.evalRun?.status ?? '')));
  }, 180_000, what);
  return cmp;
}

describe('Compare and lineage that read at a glance (code-server + chromium)', () => {
  const manifest = readManifest();
  const h = new TestHome('keel-e2e-ux-', { KEEL_POLL_MS: '300' });
  const ws = join(h.dir, 'tiny-finetune');
  let server: CodeServer | undefined;
  let wb: Workbench | undefined;
  const ids: string[] = [];
  let names: string[] = [];
  /** Run names by id. */
  const nameOf = new Map<string, string>();
  let cmp: RunComparison | undefined;
  let bestCheckpoint: { id: string; location: string } | undefined;
  const page = (): Workbench => {
    if (!wb) throw new Error('the workbench did not open (see the first failure)');
    return wb;
  };
  const step = async (name: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      if (wb) await wb.shot(`FAILED-ux-${name}`).catch(() => undefined);
      throw err;
    }
  };

  before(async () => {
    codeServerEntry();
    chromiumPath();
    for (const f of ['dist/extension.js', 'dist/keel.js', 'dist/webview.js']) {
      if (!existsSync(join(repoRoot, f))) throw new Error(`${f} is missing: run \`npm run build\` first`);
    }
    mkdirSync(artifacts, { recursive: true });
    copyExample(ws);
    const vsix = join(h.dir, `keel-${manifest.version}.vsix`);
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'package.mjs'), '--no-build', '--out', vsix], { cwd: repoRoot, encoding: 'utf8', timeout: 180_000 });
    if (r.status !== 0) throw new Error(`npm run package failed:\n${r.stdout}\n${r.stderr}`);
    const init = h.keel(['init', ws], { cwd: ws });
    assert.equal(init.code, 0, init.stderr);
    // Two runs with the example's eval; a third whose eval job writes its results, then fails.
    ids.push(launch(h, ws, 'configs/baseline.yaml'), launch(h, ws, 'configs/higher-lr.yaml'));
    for (const id of ids) waitSucceeded(h, id);
    await waitEvals(h, [...ids], 'eval results of the first two runs');
    const yaml = readFileSync(join(ws, 'keel.yaml'), 'utf8');
    writeFileSync(join(ws, 'keel.yaml'), yaml.replace(/(command: python3 eval\.py[^\n]*)/, '$1 && exit 3'));
    await new Promise((res) => setTimeout(res, 1000)); // the daemon re-reads keel.yaml when the eval is launched
    ids.push(h.keelJson<{ run: { id: string } }>(['launch', 'configs/baseline.yaml', '--local', '--set', 'learning_rate=0.1', '--set', 'warmup_steps=10'], { cwd: ws }).run.id);
    waitSucceeded(h, ids[2] as string);
    cmp = await waitEvals(h, [...ids], 'eval results of all three runs (the third from a failed eval job)');
    for (const r of runs(h)) nameOf.set(r.id, r.name);
    names = ids.map((id) => nameOf.get(id) ?? id);
    // The note a user hovers to reach the lineage (written before the workbench indexes files).
    const best = runDetail(h, ids[0] as string).checkpoints.filter((c) => /checkpoint-\d+$/.test(c.location)).at(-1);
    assert.ok(best, 'the first run has checkpoints');
    bestCheckpoint = best;
    writeFileSync(join(ws, 'NOTES.md'), `# Candidates\n\nBest so far: ${best.location}\n`);
    const xdg = join(h.dir, 'xdg');
    server = (await CodeServer.start({
      root: join(h.dir, 'code-server'), vsix, logFile: join(artifacts, 'ux-code-server.log'),
      env: { KEEL_HOME: h.home, KEEL_POLL_MS: '300', XDG_CONFIG_HOME: join(xdg, 'config'), XDG_DATA_HOME: join(xdg, 'data'), XDG_CACHE_HOME: join(xdg, 'cache') },
    })).server;
    wb = (await Workbench.open(server.folderUrl(ws), artifacts)).wb;
    await waitFor(async () => /running/.test((await page().statusItem('keel')).text), 60_000, 'the status bar to show the connected daemon');
  });

  after(async () => {
    writeFileSync(join(artifacts, 'ux-figures.json'), JSON.stringify(figures, null, 2) + '\n');
    console.log(`ux e2e figures: ${JSON.stringify(figures)}`);
    for (const { file, text } of server?.logs(/^(Keel|remoteexthost|exthost)\.log$/) ?? []) {
      writeFileSync(join(artifacts, file.endsWith('Keel.log') ? 'ux-Keel.log' : 'ux-exthost.log'), text);
    }
    await wb?.close().catch(() => undefined);
    await server?.stop();
    h.cleanup();
  });

  for (const theme of ['dark', 'light'] as const satisfies readonly ThemeName[]) {
    it(`${theme}: the compare panel opens wide, pairs train and eval, filters metrics and tables summary values`, async (t) => {
      await step(`${theme}-compare`, async () => {
        assert.ok(server && cmp);
        await setTheme(page(), theme);
        await page().runCommand('View: Close All Editors');
        // An editor is open, as when a user compares from their code: the panel must still open wide.
        await openFromExplorer(page(), 'train.py');
        await page().runCommand(commandTitled(manifest, /compare runs/i).label);
        await page().waitQuickInput();
        for (const name of names) await page().tick(name);
        const t0 = performance.now();
        await page().accept();
        const frame = await keelFrame(page());
        await frame.locator('figure[data-key="train/loss"] canvas').first().waitFor({ timeout: 30_000 });
        await waitFor(async () => (await paintedPixels(frame, 0)).painted > 500, 30_000, 'the first chart to be drawn');
        note(t, `${theme}CompareToFirstChartMs`, performance.now() - t0);
        t.diagnostic(`webview marks: ${JSON.stringify(await pageMarks(frame))}`);
        assert.match(await frame.locator('body').getAttribute('class') ?? '', new RegExp(Themes[theme].webviewClass));

        // Wide: its own group, maximised, though train.py was open.
        const editorPart = await page().page.locator('.part.editor').boundingBox();
        const panel = await webviewBox(page());
        assert.ok(editorPart && panel.width >= 0.9 * editorPart.width, `the panel is ${panel.width}px of the editor area's ${editorPart?.width}px`);

        // Train and eval loss on one chart; no separate eval_loss chart; the legend names what differs.
        const loss = frame.locator('figure[data-key="train/loss"]');
        assert.equal(await loss.getAttribute('data-keys'), 'train/loss eval/loss');
        assert.equal(await frame.locator('figure[data-key="eval/loss"]').count(), 0);
        await waitFor(async () => /train [\d.]+ · eval [\d.]+/.test(await loss.locator('.readout').innerText()), 15_000, 'the eval curves in the loss chart');
        const legend = await frame.locator('.chart-legend').innerText();
        for (const name of names) assert.ok(legend.includes(name), `the legend names ${name}: ${legend}`);
        assert.match(legend, /learning_rate=0\.2/);
        assert.match(legend, /train[^]*eval/);
        await page().shot(`ux-${theme}-01-compare-metrics`);

        // The metric picker: defaults first (losses), a filter, one chart per pair.
        await frame.locator('#metric-picker summary').click();
        assert.equal((await frame.locator('.key-family:not([hidden])').first().innerText()).toLowerCase(), 'losses');
        await frame.locator('#metric-filter input').fill('runtime');
        const visible = await frame.locator('.key-list vscode-checkbox:not([hidden])').evaluateAll((els) => els.map((e) => e.getAttribute('label') ?? ''));
        assert.ok(visible.length > 0 && visible.every((l) => /runtime/.test(l)), `only runtime metrics: ${visible.join(', ')}`);
        await page().shot(`ux-${theme}-02-metric-picker`);
        await frame.locator('#metric-filter input').fill('');
        await frame.locator('#metric-picker summary').click();

        // Summary values: a table, not charts.
        const summary = frame.locator('section.summary-values');
        await summary.scrollIntoViewIfNeeded();
        // Under the daemon's canonical (TensorBoard) keys; the table shows the names HF wrote.
        for (const key of ['train/train_runtime', 'train/total_flos', 'train/train_loss']) assert.equal(await summary.locator(`tr[data-key="${key}"] td`).count(), 3, `${key} for each run`);
        assert.equal(await frame.locator('figure[data-key="train/train_runtime"], figure[data-key="train/train_loss"], figure[data-key="train_runtime"]').count(), 0);
        await page().shot(`ux-${theme}-03-summary-values`);
        const contrast = await contrastOf(frame.locator('.legend-name').first());
        assert.ok(contrast.ratio >= 4.5, `legend text contrast ${contrast.ratio.toFixed(2)} (${contrast.color} on ${contrast.background})`);
      });
    });

    it(`${theme}: the config diff of three runs fits; evals mark best only beyond the stderr and flag the failed eval job`, async () => {
      await step(`${theme}-tables`, async () => {
        assert.ok(cmp);
        const frame = await keelFrame(page());
        await frame.locator('vscode-tab-header[data-section="config"]').click();
        const scroller = frame.locator('section.section-config .table-scroll');
        await scroller.waitFor();
        const fit = await scroller.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
        assert.ok(fit.scroll <= fit.client + 1, `no sideways scroll: ${fit.scroll} > ${fit.client}`);
        const lr = await Promise.all(ids.map((id) => frame.locator(`tr[data-key="learning_rate"] td[data-run="${id}"]`).innerText()));
        assert.deepEqual(lr, ['0.05', '0.2', '0.1']);
        await page().shot(`ux-${theme}-04-config-diff`);

        await frame.locator('vscode-tab-header[data-section="evals"]').click();
        await frame.locator('td.eval-cell').first().waitFor();
        const failed = ids[2] as string;
        const flags = await frame.locator(`td.eval-cell[data-run="${failed}"] .flag-failed`).allInnerTexts();
        assert.ok(flags.length > 0 && flags.every((f) => /eval job failed/.test(f)), `the third run's results are flagged: ${flags.join(' | ')}`);
        for (const row of cmp.evals) {
          const tr = frame.locator(`tr[data-task="${row.task}"][data-metric="${row.metric}"]`);
          const verdicts = await Promise.all(ids.map(async (id) => (await tr.locator(`td.eval-cell[data-run="${id}"]`).getAttribute('data-verdict')) ?? ''));
          checkVerdicts(row, ids, verdicts);
        }
        const mark = frame.locator('.flag-failed').first();
        const c = await contrastOf(mark);
        assert.ok(c.ratio >= 3, `the failed-job flag contrast ${c.ratio.toFixed(2)} (${c.color} on ${c.background})`);
        await page().shot(`ux-${theme}-05-evals`);
      });
    });

    it(`${theme}: "Show lineage" from a checkpoint hover draws that checkpoint selected, with names people read`, async (t) => {
      await step(`${theme}-lineage`, async () => {
        const best = bestCheckpoint;
        assert.ok(best);
        await page().runCommand('View: Close All Editors');
        await openFromExplorer(page(), 'NOTES.md');
        await page().page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor({ timeout: 15_000 });
        await page().hoverUntil(page().lineEnd(`Best so far: ${best.location}`), checkpointCard(best.location, names[0]), 20_000);
        const link = page().hover.locator('a', { hasText: /^Show lineage$/ });
        const t0 = performance.now();
        await link.click();
        const frame = await page().webviewFrame(`g.node.selected[data-key="checkpoint:${best.id}"]`, 30_000);
        note(t, `${theme}ShowLineageToDrawnMs`, performance.now() - t0);
        t.diagnostic(`webview marks: ${JSON.stringify(await pageMarks(frame))}`);
        await page().mouseAway().catch(() => undefined);
        const node = frame.locator(`g.node[data-key="checkpoint:${best.id}"]`);
        assert.equal(await node.locator('text.label').textContent(), 'checkpoint-250');
        assert.match(await node.locator('text.caption').textContent() ?? '', new RegExp(`${names[0]} · step 250`));
        const labels = await frame.locator('g.node text.label').allTextContents();
        assert.ok(!labels.some((l) => l.startsWith('…') || /^results_/.test(l)), `labels are names, not cut paths or timestamps: ${labels.join(' | ')}`);
        assert.ok(labels.some((l) => /tiny_reverse/.test(l)), `an eval node is named by its tasks: ${labels.join(' | ')}`);
        const details = await frame.locator('aside.node-details').innerText();
        assert.match(details, /Size\s+\d+(\.\d)? KB/);
        assert.match(details, /Hash\s+sha256:[0-9a-f]{12}/);
        assert.doesNotMatch(details, /\b1\d{12}\b/, 'no raw epoch milliseconds');
        const inView = await node.evaluate((el) => {
          const box = el.getBoundingClientRect();
          const view = (el.closest('.lineage-scroll') as HTMLElement).getBoundingClientRect();
          return box.top >= view.top && box.bottom <= view.bottom && box.left >= view.left && box.right <= view.right;
        });
        assert.ok(inView, 'the checkpoint is scrolled into view');
        assert.equal(await frame.locator('svg title').count(), 0, 'no raw browser tooltips');
        await page().shot(`ux-${theme}-06-lineage`);
      });
    });
  }
});

/** Opens a top-level workspace file from the Explorer (Quick Open can race its own history). */
async function openFromExplorer(wb: Workbench, name: string): Promise<void> {
  const exact = new RegExp(`^\\s*${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
  await wb.page.locator('.explorer-folders-view .monaco-list-row', { hasText: exact }).first().dblclick();
  await wb.page.locator('.tab.active', { hasText: name }).waitFor({ timeout: 15_000 });
}

/** The table's verdicts agree with the rule: best only beyond √(se₁²+se₂²) of every other eligible run; never a failed job. */
function checkVerdicts(row: RunComparison['evals'][number], ids: readonly string[], verdicts: string[]): void {
  const what = `${row.task} ${row.metric}: ${verdicts.join(', ')}`;
  const eligible = ids.map((id, i) => ({ cell: row.perRun[id], verdict: verdicts[i] ?? '' }))
    .filter((x) => x.cell && typeof x.cell.value === 'number' && !/failed|cancelled|lost/.test(x.cell.evalRun?.status ?? ''));
  for (const [i, id] of ids.entries()) {
    if (/failed/.test(row.perRun[id]?.evalRun?.status ?? '')) assert.equal(verdicts[i], 'failed-job', what);
  }
  const best = eligible.find((x) => x.verdict === 'best');
  if (!best?.cell) return;
  for (const other of eligible) {
    if (other === best || !other.cell) continue;
    const se = Math.hypot(best.cell.stderr ?? NaN, other.cell.stderr ?? NaN);
    assert.ok(Math.abs((best.cell.value as number) - (other.cell.value as number)) > se, `best beyond the stderr: ${what}`);
  }
}

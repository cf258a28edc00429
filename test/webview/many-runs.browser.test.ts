/**
 * The compare panel with 100 runs in Chromium (the shipped bundle, the real panel's CSP):
 * a grid sweep of 2 sweeps × 10 learning rates × 5 seeds, 10,000 steps each, recorded in a
 * real store and downsampled by the daemon's own code to the share a 100-run chart gets.
 * Checks the first chart, 100 distinct colours on the canvas, the legend's search and
 * show/hide (mouse and keyboard), grouping by a param into mean ± min–max bands, and the
 * best/last table's sort. Screenshots go to .test-artifacts/webview/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { curvePoints } from '../../extension/src/compare/keys.ts';
import { runPalette } from '../../webview/src/run-palette.ts';
import { artifactsDir, buildBundle, canvasPixels, charts, chromiumPath, launchChromium, posted, removeDir, servePanel, themes, waitPosted, type PanelServer } from './browser.ts';
import { sweepRuns, type SweepRuns } from './fixtures.ts';

interface Debug {
  __keelDebug: { charts(): { key: string; drawn: boolean; lines: string[] }[]; firstChartMs(): number | null; state(): { hiddenRunIds?: string[]; groupBy?: string; tableSort?: { column: string; descending: boolean } } };
}
const lossLines = async (page: Page): Promise<string[]> => (await charts(page) as unknown as { key: string; lines: string[] }[]).find((c) => c.key === 'loss')?.lines ?? [];

describe('compare panel with 100 runs in Chromium', { skip: existsSync(chromiumPath) ? false : `no ${chromiumPath}` }, () => {
  let f: SweepRuns;
  let bundle = '';
  let server: PanelServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    mkdirSync(artifactsDir, { recursive: true });
    const lrs = Array.from({ length: 10 }, (_, i) => Number((1e-5 * (i + 1)).toPrecision(2)));
    f = sweepRuns({ lrs, seeds: [1, 2, 3, 4, 5], sweeps: 2, steps: 10_000, maxPoints: curvePoints(2000, 100) });
    bundle = await buildBundle();
    server = await servePanel(bundle, { '/hundred.js': `window.__payload = ${JSON.stringify(f.init)};` });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${server.url}/?test&preload=/hundred.js`);
    await waitPosted(page, { type: 'ready' });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (bundle) removeDir(bundle);
    f?.close();
  });

  it('draws the first chart of 100 runs, each in a colour of its own, and says it painted', async () => {
    assert.equal(f.init.comparison.runs.length, 100);
    assert.ok(f.init.series.every((s) => s.points.length <= 400 && s.downsampled), 'each curve is its 400-point share');
    const postedAt = await page.evaluate(() => { const t = performance.now(); window.postMessage((window as unknown as { __payload: unknown }).__payload, '*'); return t; });
    await page.waitForFunction(() => (window as unknown as Debug).__keelDebug.firstChartMs() !== null, null, { timeout: 60_000 });
    const drawnAt = await page.evaluate(() => performance.now());
    console.log(`# first chart, 100 runs × 10,000 steps: ${(drawnAt - postedAt).toFixed(0)} ms from postMessage`);
    await waitPosted(page, { type: 'painted' });
    assert.equal((await lossLines(page)).length, 100);
    const palette = runPalette(themes.dark['editor-background'] ?? '');
    const px = await canvasPixels(page, 'loss', palette);
    const seen = px.byColor.filter((n) => n > 0).length;
    // Curves overlap (seeds of one setting lie on top of each other); most colours still show.
    assert.ok(seen >= 60, `${seen} of 100 run colours on the canvas`);
    await page.screenshot({ path: path.join(artifactsDir, 'hundred-runs-dark.png') });
  });

  it('legend: search narrows the list, "Only matching" hides the rest, a toggle answers Enter and Space, "Show all" brings every run back', async () => {
    assert.equal(await page.locator('.legend-toggle').count(), 100);
    await page.focus('#run-filter');
    await page.keyboard.type('w2 s3');
    await page.waitForFunction(() => /10 matches/.test(document.querySelector('.legend-count')?.textContent ?? ''));
    assert.equal(await page.locator('li.legend-run:not([hidden])').count(), 10);
    await page.click('button[data-key="legend-only"]');
    await page.waitForFunction(() => ((window as unknown as Debug).__keelDebug.state().hiddenRunIds ?? []).length === 90);
    await page.waitForFunction(() => (window as unknown as Debug).__keelDebug.charts().find((c) => c.key === 'loss')?.lines.length === 10);
    // loss is paired with eval_loss (not loaded here): each run's line is its train curve.
    assert.deepEqual((await lossLines(page)).map((l) => l.replace(/-lr\d+-/, '-')), Array.from({ length: 10 }, () => 'w2-s3 · train'));
    assert.match(await page.textContent('.legend-count') ?? '', /^10 of 100 runs shown/);
    // The keyboard: focus a shown run's toggle, Enter hides it, Space shows it again.
    const first = f.runs.find((r) => r.name === 'w2-lr1-s3');
    assert.ok(first);
    const toggle = page.locator(`button[data-key="legend:${first.id}"]`);
    await toggle.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => ((window as unknown as Debug).__keelDebug.state().hiddenRunIds ?? []).length === 91);
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-key')), `legend:${first.id}`, 'focus stays on the toggle');
    await page.keyboard.press('Space');
    await page.waitForFunction(() => ((window as unknown as Debug).__keelDebug.state().hiddenRunIds ?? []).length === 90);
    await page.screenshot({ path: path.join(artifactsDir, 'hundred-runs-filtered-dark.png') });
    await page.click('button[data-key="legend-show-all"]');
    await page.waitForFunction(() => (window as unknown as Debug).__keelDebug.charts().find((c) => c.key === 'loss')?.lines.length === 100);
    assert.ok((await posted(page)).some((m) => m.type === 'stateChanged' && (m.state.hiddenRunIds ?? []).length === 90), 'the host hears of it (kept across reloads)');
  });

  it('groups by learning rate: one mean line with its min–max band per setting, coloured alike in the legend', async () => {
    await page.focus('#run-filter');
    for (let i = 0; i < 5; i++) await page.keyboard.press('Backspace');
    await page.waitForFunction(() => !/match/.test(document.querySelector('.legend-count')?.textContent ?? 'match'));
    await page.selectOption('#group-by', 'param:learning_rate');
    await page.waitForFunction(() => (window as unknown as Debug).__keelDebug.state().groupBy === 'param:learning_rate');
    await page.waitForFunction(() => (window as unknown as Debug).__keelDebug.charts().find((c) => c.key === 'loss')?.drawn === true);
    const lines = await lossLines(page);
    assert.equal(lines.length, 10);
    assert.ok(lines.every((l) => /^learning_rate=[\d.e-]+ \(10\) · train$/.test(l)), lines.join(', '));
    assert.equal(await page.locator('.group-legend li').count(), 10);
    assert.match(await page.textContent('figure[data-key="loss"] figcaption') ?? '', /mean line, min–max band/);
    // The bands: the group colour, faint, fills the area between the seeds' min and max.
    const palette = runPalette(themes.dark['editor-background'] ?? '');
    const px = await canvasPixels(page, 'loss', palette.slice(0, 10));
    assert.ok(px.byColor.filter((n) => n > 0).length >= 8, `group colours drawn: ${px.byColor.join(', ')}`);
    await page.screenshot({ path: path.join(artifactsDir, 'hundred-runs-grouped-dark.png') });
    await page.selectOption('#group-by', '');
    await page.waitForFunction(() => (window as unknown as Debug).__keelDebug.charts().find((c) => c.key === 'loss')?.lines.length === 100);
  });

  it('the best/last table has a row per run and sorts by any column, by click or keyboard, either way', async () => {
    assert.equal(await page.locator('.best-last-table tbody tr').count(), 100);
    const column = async (i: number): Promise<number[]> => (await page.locator(`.best-last-table tbody tr td:nth-of-type(${i})`).allTextContents()).map(Number);
    await page.click('button[data-key="sort:loss:last"]');
    await page.waitForFunction(() => (window as unknown as Debug).__keelDebug.state().tableSort?.column === 'loss:last');
    // Columns: status, then loss best, loss last, eval_loss best, eval_loss last.
    const asc = await column(3);
    assert.deepEqual(asc, [...asc].sort((a, b) => a - b));
    assert.equal(await page.getAttribute('th[data-column="loss:last"]', 'aria-sort'), 'ascending');
    await page.focus('button[data-key="sort:loss:last"]');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => (window as unknown as Debug).__keelDebug.state().tableSort?.descending === true);
    const desc = await column(3);
    assert.deepEqual(desc, [...desc].sort((a, b) => b - a));
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-key')), 'sort:loss:last', 'focus stays on the header');
    // The lowest final loss belongs to the largest learning rate.
    const best = await page.locator('.best-last-table tbody tr:last-child th').textContent();
    assert.match(best ?? '', /lr10-s\d/);
  });

  it('had no CSP violations and no page errors', async () => {
    assert.deepEqual(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp), []);
    assert.deepEqual(pageErrors, []);
  });
});

/**
 * The compare panel's webview in a real browser: the bundle built as the extension ships it,
 * served with a CSP like the real panel's, a fake acquireVsCodeApi, Debian's chromium.
 * Fed with an `init` built from the real fixtures by the daemon's own code; checks what a
 * user sees and what the panel posts back. Screenshots go to .test-artifacts/webview/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { HostToWebview } from '../../daemon/src/protocol/webview.ts';
import {
  artifactsDir, buildBundle, canvasPixels, charts, chromiumPath, launchChromium, posted, removeDir, sendToPanel, servePanel, themes, waitPosted, type PanelServer,
} from './browser.ts';
import { runPalette } from '../../webview/src/run-palette.ts';
import { bigComparison, twoRuns, usageRuns, type TwoRuns } from './fixtures.ts';

const dark = themes.dark;
const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: path.join(artifactsDir, `${name}.png`), fullPage: true });
const openTab = (page: Page, section: string): Promise<void> => page.click(`vscode-tab-header[data-section="${section}"]`);
const focused = (page: Page): Promise<string> =>
  page.evaluate(() => {
    const el = document.activeElement;
    return el ? `${el.tagName.toLowerCase()}#${el.id}[${el.getAttribute('data-section') ?? el.getAttribute('data-key') ?? el.textContent?.slice(0, 20) ?? ''}]` : '';
  });

describe('compare panel in Chromium', { skip: existsSync(chromiumPath) ? false : `no ${chromiumPath}` }, () => {
  let bundle = '';
  let server: PanelServer;
  let browser: Browser;
  let page: Page;
  let f: TwoRuns;
  const pageErrors: string[] = [];

  before(async () => {
    mkdirSync(artifactsDir, { recursive: true });
    f = twoRuns();
    bundle = await buildBundle();
    server = await servePanel(bundle);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1100, height: 820 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${server.url}/?test`);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (bundle) removeDir(bundle);
    f?.close();
  });

  it('says ready before anything else', async () => {
    await waitPosted(page, { type: 'ready' });
    assert.deepEqual(await posted(page), [{ type: 'ready' }]);
  });

  it('draws a chart per shared default metric from init, loss first, each run in its colour', async () => {
    await sendToPanel(page, f.init);
    await page.waitForFunction(() => (window as unknown as { __keelDebug: { charts(): { drawn: boolean }[] } }).__keelDebug.charts()[0]?.drawn === true);
    const list = await charts(page);
    // epoch is bookkeeping: in the picker, not drawn by default.
    assert.deepEqual(list.map((c) => c.key), ['loss', 'grad_norm', 'learning_rate']);
    assert.deepEqual(list[0]?.pointsPerRun, [20, 60]);
    // The run palette made for Dark Modern's editor background (solid, not charts.orange at 33 %).
    const px = await canvasPixels(page, 'loss', runPalette(dark['editor-background'] ?? '').slice(0, 2));
    assert.ok(px.drawn > 1000, `loss canvas has ${px.drawn} drawn pixels`);
    assert.ok((px.byColor[0] ?? 0) > 30 && (px.byColor[1] ?? 0) > 30, `run colours on the canvas: ${px.byColor.join(', ')}`);
    assert.match(await page.textContent('header') ?? '', /lora-1b.*running.*baseline.*fft-8b.*succeeded/s);
    // End-of-run values: one table below the curves (keys × runs), never one-point charts.
    const summary = await page.$$eval('.summary-values tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    assert.deepEqual(summary, [['total_flos floating-point operations', '—', '1.50e+15'], ['train_runtime train time', '13:33', '1:35']]);
    assert.ok(!list.some((c) => c.key.startsWith('train/t')), 'no chart of a summary value');
    await shot(page, 'metrics-dark');
  });

  it('lists the differing params and posts openConfigDiff from a click and from the keyboard', async () => {
    await openTab(page, 'config');
    const row = page.locator('tr[data-key="learning_rate"]');
    assert.deepEqual(await row.locator('td').allTextContents(), ['0.0002', '0.00002']);
    await row.locator(`td[data-run="${f.fft.id}"]`).click();
    await waitPosted(page, { type: 'openConfigDiff', key: 'learning_rate', leftRunId: f.lora.id, rightRunId: f.fft.id });
    await page.focus('tr[data-key="adapter"]');
    await page.keyboard.press('ArrowDown');
    assert.match(await focused(page), /base_model/);
    await page.keyboard.press('Enter');
    await waitPosted(page, { type: 'openConfigDiff', key: 'base_model', leftRunId: f.lora.id, rightRunId: f.fft.id });
    await shot(page, 'config-dark');
    await page.focus('#show-all-params');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelectorAll('tr.param').length === 46);
    await page.keyboard.press('Space');
    await page.waitForFunction(() => document.querySelectorAll('tr.param').length === 26);
    const states = (await posted(page)).filter((m) => m.type === 'stateChanged').map((m) => m.type === 'stateChanged' && m.state.showAllParams);
    assert.deepEqual(states.slice(-2), [true, false]);
  });

  it('shows eval values ± stderr, a lead within the stderr as a tie, and deltas against the baseline', async () => {
    await openTab(page, 'evals');
    const belief = page.locator('tr', { has: page.locator('th', { hasText: /^negotiationtom_belief$/ }) });
    const cells = belief.locator('td.eval-cell');
    assert.equal(await cells.nth(0).locator('.value').textContent(), '0.4500 ± 0.1141');
    assert.equal(await cells.nth(1).locator('.value').textContent(), '0.5500 ± 0.1141');
    // 0.55 vs 0.45 with ±0.1141 each: within the noise, so neither is starred.
    assert.deepEqual(await cells.evaluateAll((els) => els.map((e) => e.getAttribute('data-verdict'))), ['tie', 'tie']);
    assert.equal(await belief.locator('.flag-best').count(), 0);
    assert.equal(await cells.nth(1).locator('.delta').textContent(), '+0.1000');
    assert.doesNotMatch(await cells.nth(1).locator('.delta').getAttribute('class') ?? '', /better/, 'a delta within the noise is not coloured');
    const micro = page.locator('tr', { has: page.locator('th', { hasText: /^negotiationtom_intention$/ }) }).filter({ hasText: 'micro_f1' });
    assert.equal(await micro.locator('td.eval-cell .value').first().textContent(), '0.3019 ± n/a');
    await shot(page, 'evals-dark');
  });

  it('draws lineage from lineage messages; a node selected by click or Enter opens its run from the details', async () => {
    await openTab(page, 'lineage');
    await waitPosted(page, { type: 'requestLineage', runId: f.lora.id });
    await waitPosted(page, { type: 'requestLineage', runId: f.fft.id });
    for (const l of f.lineage) await sendToPanel(page, { type: 'lineage', runId: l.runId, graph: l.graph });
    await page.waitForFunction(() => document.querySelectorAll('svg g.node').length === 10);
    await page.click(`g.node[data-key="run:${f.fft.id}"]`);
    await page.waitForSelector(`aside.node-details[data-key="run:${f.fft.id}"]`);
    await page.click('aside.node-details button:text-is("Open run")');
    await waitPosted(page, { type: 'openRun', runId: f.fft.id });
    await page.focus(`g.node[data-key="run:${f.lora.id}"]`);
    await page.keyboard.press('Enter');
    await page.waitForSelector(`aside.node-details[data-key="run:${f.lora.id}"]`);
    assert.equal(await page.getAttribute(`g.node[data-key="run:${f.lora.id}"]`, 'aria-pressed'), 'true');
    await page.click('aside.node-details button:text-is("Open run")');
    await waitPosted(page, { type: 'openRun', runId: f.lora.id });
    await shot(page, 'lineage-dark');
  });

  it('grows the loss chart from seriesAppend (merged by step) and marks a NaN', async () => {
    await openTab(page, 'metrics');
    const before = (await charts(page))[0];
    assert.equal(before?.length, 74);
    await sendToPanel(page, { type: 'seriesAppend', runId: f.lora.id, key: 'loss', points: [{ step: 210, value: 0.64, wallTime: null }, { step: 220, value: 0.63, wallTime: null }] });
    await page.waitForFunction(() => (window as unknown as { __keelDebug: { charts(): { length: number }[] } }).__keelDebug.charts()[0]?.length === 76);
    assert.deepEqual((await charts(page))[0]?.pointsPerRun, [22, 60]);
    await sendToPanel(page, { type: 'seriesAppend', runId: f.lora.id, key: 'loss', points: [{ step: 230, value: null, special: 'nan', wallTime: null }, { step: 220, value: 0.62, wallTime: null }] });
    await page.waitForFunction(() => /1 NaN point marked/.test(document.querySelector('figure[data-key="loss"] figcaption')?.textContent ?? ''));
    assert.deepEqual((await charts(page))[0]?.pointsPerRun, [23, 60]);
    assert.match(await page.textContent('figure[data-key="loss"] .readout') ?? '', /lora-1b: NaN @ step 230/);
    // fft-8b starts logging a key only lora-1b had: it becomes shared and gets its chart.
    await sendToPanel(page, { type: 'seriesAppend', runId: f.fft.id, key: 'mean_token_accuracy', points: [{ step: 61, value: 0.71, wallTime: null }, { step: 62, value: 0.72, wallTime: null }] });
    await page.waitForFunction(() => (window as unknown as { __keelDebug: { charts(): { key: string; drawn: boolean }[] } }).__keelDebug.charts().some((c) => c.key === 'mean_token_accuracy' && c.drawn));
    assert.deepEqual((await charts(page)).find((c) => c.key === 'mean_token_accuracy')?.pointsPerRun, [20, 2]);
  });

  it('is usable from the keyboard: Tab reaches the controls, Space/Enter toggle, arrows smooth, focus is visible', async () => {
    await page.focus('body');
    const seen: string[] = [];
    for (let i = 0; i < 36; i++) {
      await page.keyboard.press('Tab');
      seen.push(await focused(page));
    }
    for (const want of [/button#\[run:/, /button#\[baseline:/, /vscode-tab-header.*\[metrics\]/, /input#x-axis-step/, /input#smoothing/, /vscode-checkbox#log-scale/,
      /vscode-textfield#run-filter/, /button#\[legend-show-all\]/, /select#group-by/, /button#\[legend:run_/, /button#\[sort:name\]/]) {
      assert.ok(seen.some((s) => want.test(s)), `Tab reaches ${want.source}: ${seen.join(' → ')}`);
    }
    await page.focus('#log-scale');
    await page.keyboard.press('Space');
    await waitPosted(page, { type: 'stateChanged', state: { ...f.init.state, showAllParams: false, logScale: true, section: 'metrics', selectedNode: `run:${f.lora.id}` } });
    await page.focus('#log-scale');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => (window as unknown as { __keelDebug: { state(): { logScale: boolean } } }).__keelDebug.state().logScale === false);
    await page.focus('#smoothing');
    for (let i = 0; i < 60; i++) await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => (window as unknown as { __keelDebug: { state(): { smoothing: number } } }).__keelDebug.state().smoothing === 0.6);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
    assert.notEqual(outline, 'none');
    assert.equal((await charts(page))[0]?.drawn, true);
    await shot(page, 'metrics-smoothed-dark');
  });

  it('re-reads canvas colours when VS Code switches theme (body class)', async () => {
    await page.evaluate(() => { document.body.className = 'vscode-light'; });
    const light = runPalette(themes.light['editor-background'] ?? '')[0] ?? '';
    const darkFirst = runPalette(dark['editor-background'] ?? '')[0] ?? '';
    assert.notEqual(light, darkFirst);
    let px = await canvasPixels(page, 'loss', [light, darkFirst]);
    for (let i = 0; i < 50 && (px.byColor[0] ?? 0) === 0; i++) {
      await page.waitForTimeout(50);
      px = await canvasPixels(page, 'loss', [light, darkFirst]);
    }
    assert.ok((px.byColor[0] ?? 0) > 30, `light theme blue drawn: ${px.byColor[0]}`);
    assert.equal(px.byColor[1], 0, 'no dark-theme blue left');
    await shot(page, 'metrics-light');
    await page.evaluate(() => { document.body.className = 'vscode-dark'; });
  });

  it('keeps its state across a reload (getState) and renders from the next init', async () => {
    await openTab(page, 'evals');
    await page.reload();
    await waitPosted(page, { type: 'ready' });
    await sendToPanel(page, f.init); // the host's copy: defaults
    await page.waitForSelector('td.eval-cell', { state: 'visible' });
    const state = await page.evaluate(() => (window as unknown as { __keelDebug: { state(): { smoothing: number; section: string } } }).__keelDebug.state());
    assert.equal(state.smoothing, 0.6);
    assert.equal(state.section, 'evals');
  });

  it('says plainly when the runs share no metric, and drops a deleted run', async () => {
    const c = f.init.comparison;
    const disjoint: HostToWebview = {
      ...f.init, state: { ...f.init.state, section: 'metrics' },
      comparison: { ...c, metrics: c.metrics.map((m) => ({ ...m, perRun: { ...m.perRun, [f.fft.id]: null } })) },
      series: f.init.series.filter((s) => s.runId === f.lora.id),
    };
    await sendToPanel(page, disjoint);
    await openTab(page, 'metrics');
    await page.waitForSelector('text=These runs have no metrics in common.');
    assert.equal(await page.locator('figure.chart canvas').count(), 0);
    await shot(page, 'no-common-metrics-dark');
    await sendToPanel(page, { type: 'runRemoved', runId: f.fft.id });
    await page.waitForSelector('text=deleted while this panel was open');
    assert.equal(await page.locator('.run-list li').count(), 1);
    await page.evaluate(() => window.postMessage({ type: 'seriesAppend', runId: 'x' }, '*')); // malformed: ignored
    await sendToPanel(page, { type: 'error', message: 'The daemon stopped; reconnecting…' });
    assert.equal(await page.textContent('[role="alert"]'), 'The daemon stopped; reconnecting…');
  });

  it('shows each run\'s GPU-hours and cost (SSH with a rate, Slurm without, one never started) below the curves', async () => {
    const u = usageRuns();
    try {
      await sendToPanel(page, { ...u.init, state: { ...u.init.state, section: 'metrics' } });
      await openTab(page, 'metrics');
      await page.waitForSelector('.usage-table tbody tr', { state: 'visible' });
      const head = await page.$$eval('.usage-table thead th', (ths) => ths.map((th) => th.textContent));
      assert.deepEqual(head, ['Usage', 'ssh-2gpu', 'slurm-1gpu', 'waiting']);
      const rows = await page.$$eval('.usage-table tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-key'), ...[...tr.querySelectorAll('td')].map((td) => td.textContent)]));
      assert.deepEqual(rows, [['gpuHours', '3.0', '0.750', '—'], ['cost', '7.50', '—', '—'], ['wall', '1:30:00', '45:00', '—'], ['attempts', '1', '1', '—']]);
      assert.ok(await page.locator('figure.chart').count() > 0, 'the curves are still drawn above it');
      await page.locator('.usage-values').scrollIntoViewIfNeeded();
      await shot(page, 'usage-dark');
    } finally {
      u.close();
    }
  });

  it('had no CSP violations and no page errors', async () => {
    assert.deepEqual(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp), []);
    assert.deepEqual(pageErrors, []);
  });

  it('draws an init the page carries before saying ready, marks the body as it paints, and shows hostile names as text', async () => {
    assert.equal(f.init.type, 'init');
    if (f.init.type !== 'init') return;
    // A run name that would end the data block or run as script if the host's escaping failed.
    const hostileName = '</script><script>window.__pwned=1</script>\u2028<!--';
    const c = f.init.comparison;
    const init: HostToWebview = { ...f.init, comparison: { ...c, runs: c.runs.map((r, i) => (i === 0 ? { ...r, name: hostileName } : r)) } };
    const srv = await servePanel(bundle, {}, { first: init });
    const p = await browser.newPage({ viewport: { width: 1100, height: 820 } });
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(e.message));
    try {
      await p.goto(`${srv.url}/?test&init=first`);
      // Drawn without a message from the host: the first thing posted says the page's init was used.
      const ready = await waitPosted(p, { type: 'ready' });
      assert.deepEqual(ready, { type: 'ready', embeddedInit: true });
      await p.waitForSelector('body[data-keel-first-chart]', { timeout: 10_000 });
      // The mark means a chart is on the canvas (checked right away, not after a wait).
      const px = await canvasPixels(p, 'loss', []);
      assert.ok(px.drawn > 1000, `loss canvas has ${px.drawn} drawn pixels when the body is marked`);
      assert.deepEqual((await charts(p)).map((ch) => ch.key), ['loss', 'grad_norm', 'learning_rate']);
      assert.ok((await p.textContent('header') ?? '').includes(hostileName), 'the hostile name shown as text');
      assert.equal(await p.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
      assert.equal(await p.locator('#keel-init').count(), 0, 'the data block is dropped once read');
      // Later messages still apply (the host's deltas, or a fresh init for a page that went stale).
      await sendToPanel(p, f.init);
      await p.waitForFunction((name) => !(document.querySelector('header')?.textContent ?? '').includes(name), hostileName);
      assert.deepEqual(await p.evaluate(() => (window as unknown as { __csp: string[] }).__csp), []);
      assert.deepEqual(errors, []);
    } finally {
      await p.close();
      await srv.close();
    }
  });

  it('says a plain ready (and waits for init) when the page has no init', async () => {
    const srv = await servePanel(bundle);
    const p = await browser.newPage();
    try {
      await p.goto(`${srv.url}/?test&init=missing`);
      assert.deepEqual(await waitPosted(p, { type: 'ready' }), { type: 'ready' });
      assert.equal(await p.locator('body[data-keel-first-chart]').count(), 0);
      assert.match(await p.textContent('body') ?? '', /Loading the comparison/);
    } finally {
      await p.close();
      await srv.close();
    }
  });

  it('draws 10 runs × 100,000 steps quickly, downsampled or raw, and asks for detail on zoom', async () => {
    const sampled = bigComparison(10, 100_000, 2000);
    const raw = bigComparison(10, 100_000, Infinity);
    const big = await servePanel(bundle, {
      '/sampled.js': `window.__payload = ${JSON.stringify(sampled.init)};`,
      '/raw.js': `window.__payload = ${JSON.stringify(raw.init)};`,
    });
    try {
      for (const [name, fixture] of [['daemon-downsampled (2,000 per run)', sampled], ['raw (100,000 per run)', raw]] as const) {
        const p = await browser.newPage({ viewport: { width: 1100, height: 820 } });
        await p.goto(`${big.url}/?test&preload=/${fixture === sampled ? 'sampled' : 'raw'}.js`);
        await waitPosted(p, { type: 'ready' });
        const postedAt = await p.evaluate(() => { const t = performance.now(); window.postMessage((window as unknown as { __payload: unknown }).__payload, '*'); return t; });
        await p.waitForFunction(() => (window as unknown as { __keelDebug: { firstChartMs(): number | null } }).__keelDebug.firstChartMs() !== null, null, { timeout: 60_000 });
        const fromInit = await p.evaluate(() => (window as unknown as { __keelDebug: { firstChartMs(): number } }).__keelDebug.firstChartMs());
        const drawnAt = await p.evaluate(() => performance.now());
        console.log(`# first chart drawn, 10 runs × 100,000 steps, ${name}: ${fromInit.toFixed(0)} ms from init handled (≤ ${(drawnAt - postedAt).toFixed(0)} ms from postMessage)`);
        if (fixture === sampled) {
          await shot(p, 'big-sampled-dark');
          const box = await p.locator('figure[data-key="loss"] .u-over').boundingBox();
          assert.ok(box);
          await p.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2);
          await p.mouse.down();
          await p.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
          await p.mouse.up();
          const first = sampled.init.comparison.runs[0]?.id ?? '';
          const req = await waitPosted(p, { type: 'requestSeries', runId: first, key: 'loss' });
          assert.ok(req.type === 'requestSeries' && req.maxPoints === 2000 && req.fromStep !== undefined && req.toStep !== undefined && req.fromStep < req.toStep);
          assert.equal((await posted(p)).filter((m) => m.type === 'requestSeries').length, 10);
          const before = (await charts(p))[0]?.pointsPerRun[0] ?? 0;
          await sendToPanel(p, { type: 'series', series: sampled.refetch(first, 'loss', req.maxPoints, req.fromStep ?? 0, req.toStep ?? 0) });
          await p.waitForFunction((n) => ((window as unknown as { __keelDebug: { charts(): { pointsPerRun: number[] }[] } }).__keelDebug.charts()[0]?.pointsPerRun[0] ?? 0) > n, before);
          await shot(p, 'big-zoomed-dark');
          // Time on x: seconds since each run's first wall time (0.5 s a step → 100,000 steps ≈ 13:53:20).
          await p.click('label[for="x-axis-time"]');
          await waitPosted(p, { type: 'stateChanged', state: { ...sampled.init.state, xAxis: 'time' } });
          await p.waitForFunction(() => ((window as unknown as { __keelDebug: { charts(): { length: number }[] } }).__keelDebug.charts()[0]?.length ?? 0) > 0);
          assert.match(await p.textContent('figure[data-key="loss"] .readout') ?? '', /^latest:.*sweep-01: [\d.]+ @ step 100000/);
          await shot(p, 'big-time-dark');
        }
        await p.close();
      }
    } finally {
      await big.close();
      sampled.close();
      raw.close();
    }
  });
});

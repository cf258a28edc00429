/**
 * The compare panel reading at a glance, in real Chromium (the bundle as shipped, the real
 * panel CSP, a fake acquireVsCodeApi), in Dark Modern and Light Modern colours: train and
 * eval curves of one quantity on one chart, the searchable metric picker (keyboard too),
 * summary values in a table, eval verdicts and a failed eval job flagged, and a 61-node
 * lineage graph focused on the node "Show Lineage" asked about, with a formatted details
 * panel. Screenshots go to .test-artifacts/webview/glance-*.png.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { HostToWebview } from '../../daemon/src/protocol/webview.ts';
import { artifactsDir, buildBundle, charts, launchChromium, posted, removeDir, sendToPanel, servePanel, waitPosted, type PanelServer } from './browser.ts';
import { hfRuns, manyRuns, twoRuns, type HfRuns, type ManyRuns, type TwoRuns } from './fixtures.ts';

type Theme = 'dark' | 'light';
const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: path.join(artifactsDir, `glance-${name}.png`), fullPage: true });
const debug = <T>(page: Page, what: 'state' | 'lineage'): Promise<T> => page.evaluate((w) => (window as unknown as { __keelDebug: Record<string, () => unknown> }).__keelDebug[w]?.() as T, what);

describe('the compare panel at a glance, in Chromium', () => {
  let bundle = '';
  let server: PanelServer;
  let browser: Browser;
  let hf: HfRuns;
  let two: TwoRuns;
  let sweep: ManyRuns;
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];

  /** A fresh panel page in `theme`, said `ready`, sent `init`. */
  async function open(theme: Theme, init: HostToWebview, viewport = { width: 1400, height: 900 }): Promise<Page> {
    const page = await browser.newPage({ viewport });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    await page.goto(`${server.url}/?test`);
    await page.evaluate((t) => { document.body.className = `vscode-${t}`; }, theme);
    await waitPosted(page, { type: 'ready' });
    await sendToPanel(page, init);
    return page;
  }

  before(async () => {
    mkdirSync(artifactsDir, { recursive: true });
    hf = hfRuns();
    two = twoRuns();
    sweep = manyRuns(7);
    bundle = await buildBundle();
    server = await servePanel(bundle);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (bundle) removeDir(bundle);
    hf?.close();
    two?.close();
    sweep?.close();
  });

  for (const theme of ['dark', 'light'] as const) {
    it(`${theme}: pairs loss with eval_loss on one chart, and tables the Trainer's summary values`, async () => {
      const page = await open(theme, hf.init);
      await page.waitForFunction(() => (window as unknown as { __keelDebug: { charts(): { drawn: boolean }[] } }).__keelDebug.charts()[0]?.drawn === true);
      const loss = (await charts(page))[0] as { key: string; lines?: string[] };
      assert.equal(loss.key, 'loss');
      assert.deepEqual(loss.lines, ['whisper-ja · train', 'whisper-ja · eval', 'bart-samsum · train', 'bart-samsum · eval']);
      assert.equal(await page.locator('figure[data-key="eval_loss"]').count(), 0, 'no chart of its own for eval_loss');
      // One item per run: its train and eval values; their steps when they differ.
      const readout = await page.textContent('figure[data-key="loss"] .readout') ?? '';
      assert.match(readout, /whisper-ja: train 2\.000e-4 · eval 0\.4200 @ step 5000/);
      assert.match(readout, /bart-samsum: train 1\.234 @ 500 · eval 1\.389 @ 693/);
      const summary = page.locator('section.summary-values');
      assert.equal(await summary.locator('tr[data-key="train_runtime"] td').allTextContents().then((t) => t.join(' | ')), '21:29:11 | 6:04');
      assert.equal(await page.locator('figure[data-key="train_runtime"]').count(), 0);
      await shot(page, `pair-and-summary-${theme}`);
      await page.close();
    });
  }

  it('filters metrics as you type, walks them with the keyboard, and picks a chart', async () => {
    const page = await open('dark', hf.init);
    await page.waitForSelector('figure[data-key="loss"] canvas');
    assert.equal(await page.locator('#metric-picker vscode-checkbox, #metric-filter').count(), 0, 'the closed picker makes no components before the first chart');
    // Made in the click itself, before the details opens (no frame of an empty panel); closed again for the keyboard below.
    const madeInClick = await page.evaluate(() => {
      const summary = document.querySelector<HTMLElement>('#metric-picker summary');
      summary?.click();
      const n = document.querySelectorAll('#metric-picker vscode-checkbox').length;
      summary?.click();
      return n;
    });
    assert.ok(madeInClick > 0, `${madeInClick} checkboxes made in the click`);
    await page.focus('#metric-picker summary');
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('.key-family:not([hidden])').first().textContent(), 'Losses');
    await page.focus('#metric-filter');
    await page.keyboard.type('wer');
    const visible = await page.locator('.key-list vscode-checkbox:not([hidden])').evaluateAll((els) => els.map((e) => e.getAttribute('label')));
    assert.deepEqual(visible, ['eval_wer (only whisper-ja)']);
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'metric-key-eval_wer');
    await page.keyboard.press('Space');
    const change = await waitPosted(page, { type: 'stateChanged' });
    assert.ok(change.type === 'stateChanged' && change.state.selectedKeys.includes('eval_wer') && change.state.selectedKeys.includes('loss'), JSON.stringify(change));
    await page.waitForSelector('figure[data-key="eval_wer"]');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'metric-key-eval_wer', 'focus stays on the box in the picker made open again');
    assert.equal(await page.inputValue('#metric-filter input'), 'wer', 'the filter stays after the charts are drawn again');
    await page.keyboard.press('Escape');
    assert.equal(await page.evaluate(() => (document.getElementById('metric-picker') as HTMLDetailsElement).open), false);
    await page.click('#metric-picker summary');
    await page.click('.key-actions button:text-is("Defaults")');
    await page.waitForFunction(() => !document.querySelector('figure[data-key="eval_wer"]'));
    assert.deepEqual((await debug<{ selectedKeys: string[] }>(page, 'state')).selectedKeys, []);
    await page.close();
  });

  for (const theme of ['dark', 'light'] as const) {
    it(`${theme}: stars only a lead beyond the stderr, and flags the results of a failed eval job`, async () => {
      const c = two.init.comparison;
      // The re-scored run's eval job failed after writing its results file.
      const failed: HostToWebview = {
        ...two.init, state: { ...two.init.state, section: 'evals' },
        comparison: { ...c, evals: c.evals.map((e) => ({ ...e, perRun: { ...e.perRun, [two.fft.id]: e.perRun[two.fft.id] ? { ...e.perRun[two.fft.id], evalRun: { id: 'run_job', name: 'fft-8b-eval', status: 'failed' } } as NonNullable<typeof e.perRun[string]> : null } })) },
      };
      const page = await open(theme, failed);
      await page.waitForSelector('td.eval-cell');
      const fft = page.locator(`td.eval-cell[data-run="${two.fft.id}"]`);
      const flags = await fft.locator('.flag-failed').allTextContents();
      assert.ok(flags.length > 0 && flags.every((t) => t === '⚠ eval job failed'), flags.join(' | '));
      assert.equal(await page.locator('.flag-best, .flag-tie').count(), 0, 'with one run left in each row, nothing is compared');
      assert.equal(await page.locator(`td.eval-cell[data-run="${two.fft.id}"] .delta`).count(), 0, 'no delta from a partial result');
      await shot(page, `evals-failed-job-${theme}`);
      await page.close();
    });
  }

  for (const theme of ['dark', 'light'] as const) {
    it(`${theme}: draws 61 nodes legibly, the requested checkpoint selected, scrolled to and described`, async () => {
      const init: HostToWebview = { ...sweep.init, state: { ...sweep.init.state, section: 'lineage' } };
      const page = await open(theme, init, { width: 1300, height: 800 });
      // The host sends the focused record's graph first (the last run's), then the others' as asked.
      const first = sweep.lineage.at(-1);
      const rest = sweep.lineage.slice(0, -1);
      assert.ok(first);
      const t0 = await page.evaluate(() => performance.now());
      await sendToPanel(page, { type: 'lineage', runId: first.runId, graph: first.graph, focus: sweep.focus });
      const key = `checkpoint:${sweep.focus.id}`;
      await page.waitForSelector(`g.node.selected[data-key="${key}"]`);
      for (const l of rest) await sendToPanel(page, { type: 'lineage', runId: l.runId, graph: l.graph });
      await page.waitForFunction(() => document.querySelectorAll('svg g.node').length === 61);
      console.log(`# 61-node lineage drawn ${Math.round((await page.evaluate(() => performance.now())) - t0)} ms after the first graph arrived`);
      const node = page.locator(`g.node[data-key="${key}"]`);
      assert.equal(await node.locator('text.label').textContent(), 'checkpoint-1000');
      assert.equal(await node.locator('text.caption').textContent(), 'sweep-lr-7e-4 · step 1000');
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-key')), key, 'keyboard focus on the requested node');
      const inView = await node.evaluate((el) => {
        const b = el.getBoundingClientRect();
        const v = (el.closest('.lineage-scroll') as HTMLElement).getBoundingClientRect();
        return b.top >= v.top && b.bottom <= v.bottom && b.left >= v.left && b.right <= v.right;
      });
      assert.ok(inView, 'scrolled into view');
      const details = await page.textContent('aside.node-details') ?? '';
      assert.match(details, /Size48\.0 KB/);
      assert.match(details, /Runsweep-lr-7e-4/);
      assert.match(details, /Recorded[A-Z][a-z]{2} \d{1,2}, \d{4}/);
      assert.doesNotMatch(details, /\b1\d{12}\b/, 'no raw epoch milliseconds');
      assert.equal(await page.locator('svg title').count(), 0, 'no raw browser tooltips');
      const labels = await page.locator('g.node text.label').allTextContents();
      assert.ok(labels.every((l) => !l.includes('…')), `no label is cut: ${labels.filter((l) => l.includes('…')).join(', ')}`);
      await shot(page, `lineage-61-${theme}`);
      // Walk to the eval job from the details panel, then back to the checkpoint by keyboard.
      await page.click('aside.node-details .neighbours button:text-is("sweep-lr-7e-4-eval")');
      await page.waitForSelector('aside.node-details .detail-kind:text-is("Eval job")');
      await page.focus(`g.node[data-key="${key}"]`);
      await page.keyboard.press('Enter');
      await page.waitForSelector(`aside.node-details[data-key="${key}"]`);
      await page.close();
    });
  }

  it('keeps the selected node across a reload, and asks the host to open a path it named', async () => {
    const init: HostToWebview = { ...sweep.init, state: { ...sweep.init.state, section: 'lineage' } };
    const page = await open('dark', init);
    for (const l of sweep.lineage) await sendToPanel(page, { type: 'lineage', runId: l.runId, graph: l.graph, ...(l === sweep.lineage.at(-1) ? { focus: sweep.focus } : {}) });
    const key = `checkpoint:${sweep.focus.id}`;
    await page.waitForSelector(`aside.node-details[data-key="${key}"]`);
    await page.click('aside.node-details .path-fact button');
    const asked = await waitPosted(page, { type: 'openPath' });
    assert.ok(asked.type === 'openPath' && /checkpoint-1000$/.test(asked.path));
    await page.reload();
    await waitPosted(page, { type: 'ready' });
    await sendToPanel(page, init);
    for (const l of sweep.lineage) await sendToPanel(page, { type: 'lineage', runId: l.runId, graph: l.graph });
    await page.waitForSelector(`g.node.selected[data-key="${key}"]`);
    assert.ok((await posted(page)).some((m) => m.type === 'ready'));
    await page.close();
  });

  it('had no page errors and no CSP violations', () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(cspViolations, []);
  });
});

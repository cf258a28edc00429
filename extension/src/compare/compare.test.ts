/**
 * The compare panel's pure logic, fed by what a real daemon sent for the tiny-finetune
 * example: runs/compare of demo-baseline, demo-higher-lr and demo-child
 * (test/fixtures/recorded/compare/compare-three.json) and the live `metrics`/`runs` notifications of a run
 * launched while subscribed (test/fixtures/recorded/compare/live-notifications.json).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NotificationOf, RunComparison } from '../../../daemon/src/protocol/index.ts';
import { lineOfParam, configDocPath, runIdOfConfigPath } from './config-uri.ts';
import { DisplayedSeries, seriesAppendFor, shouldStartSeries } from './deltas.ts';
import { buildPanelHtml, contentSecurityPolicy, jsonForScript, makeNonce } from './html.ts';
import { CHART_POINT_BUDGET, curvePoints, FIRST_PAINT_BUDGET, FIRST_PAINT_POINTS, firstPaintPoints, initialKeys, keyRank, seriesToFetch } from './keys.ts';
import { parsePanelState } from './state.ts';
import { compareTitle } from './title.ts';
import { RECORDED, realFixture } from '../../../test/support/fixtures.ts';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(join(RECORDED, 'compare', name), 'utf8')) as T;
const comparison = fixture<RunComparison>('compare-three.json');
const live = fixture<{ runId: string; metrics: NotificationOf['metrics'][]; runs: NotificationOf['runs'][] }>('live-notifications.json');
const [BASE, HIGH, CHILD] = ['run_b3r6s9brn9yw', 'run_fvrdxfhdv3ca', 'run_5gvsyrkuhpem'];

describe('the panel HTML and its CSP', () => {
  const nonce = makeNonce();
  const html = buildPanelHtml({
    cspSource: 'https://file+.vscode-resource.vscode-cdn.net', nonce, title: 'Compare: a vs b',
    scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js', styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.css',
  });

  it('allows nothing by default, the extension files for images/styles/fonts, and scripts only with the nonce', () => {
    assert.equal(contentSecurityPolicy('vscode-webview://abc', 'N0nce'),
      "default-src 'none'; img-src vscode-webview://abc data:; style-src vscode-webview://abc; font-src vscode-webview://abc; script-src 'nonce-N0nce'");
    assert.doesNotMatch(contentSecurityPolicy('x', 'y'), /unsafe-(inline|eval)/);
  });

  it('puts a fresh 128-bit nonce on the one script, and an empty #app', () => {
    assert.match(nonce, /^[A-Za-z0-9+/]{22}$/);
    assert.notEqual(makeNonce(), nonce);
    assert.equal([...html.matchAll(/<script /g)].length, 1);
    assert.match(html, new RegExp(`<script nonce="${nonce.replace(/[+/]/g, '\\$&')}" src="https://file\\+\\.vscode-resource\\.vscode-cdn\\.net/ext/dist/webview\\.js"></script>`));
    assert.match(html, /<body>\n<div id="app"><\/div>/);
    assert.match(html, /<link rel="stylesheet" href="[^"]+\/dist\/webview\.css">/);
  });

  it('loads nothing from the network: every URL is the webview resource origin', () => {
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    assert.equal(urls.length, 2);
    for (const u of urls) assert.ok(u.startsWith('https://file+.vscode-resource.vscode-cdn.net/'), u);
    assert.doesNotMatch(html.replace(/https:\/\/file\+\.vscode-resource\.vscode-cdn\.net/g, ''), /https?:/);
  });

  it('escapes the title', () => {
    assert.match(buildPanelHtml({ cspSource: 'c', nonce: 'n', title: 'Compare: <a> & b', scriptUri: 's', styleUri: 't' }), /<title>Compare: &lt;a&gt; &amp; b<\/title>/);
  });

  // A run name, param or metric key is the user's text: none may end the init's block or run as script.
  const hostile = { type: 'init', name: '</script><script>alert(1)</script>', key: '<!-- x --> & y', sep: 'a\u2028b\u2029c', tag: '</SCRIPT >' };

  it('embeds a prefetched init as JSON that nothing in it can break out of, and reads back the same', () => {
    const json = jsonForScript(hostile);
    assert.doesNotMatch(json, /[<>&\u2028\u2029]/);
    assert.deepEqual(JSON.parse(json), hostile);
    const page = buildPanelHtml({ cspSource: 'c', nonce: 'N0nce', title: 't', scriptUri: 's', styleUri: 'y', init: hostile });
    // Exactly the one data block (before the bundle, so it is parsed when the bundle runs) and the bundle: no script the init opened.
    const scripts = [...page.matchAll(/<script\b[^>]*>/gi)].map((m) => m[0]);
    assert.deepEqual(scripts, ['<script type="application/json" id="keel-init" nonce="N0nce">', '<script nonce="N0nce" src="s">']);
    assert.equal([...page.matchAll(/<\/script/gi)].length, 2);
    const body = /<script type="application\/json" id="keel-init" nonce="N0nce">([^]*?)<\/script>/.exec(page)?.[1] ?? '';
    assert.deepEqual(JSON.parse(body), hostile);
    assert.doesNotMatch(page, /<!--/);
  });

  it('has no init block when the host had none ready (the page asks with `ready`)', () => {
    assert.doesNotMatch(html, /keel-init/);
  });
});

describe('which metric keys the panel loads, in what order', () => {
  it('losses first, then eval metrics, then training signals, then bookkeeping; single-point summaries last', () => {
    assert.deepEqual(initialKeys(comparison, []), [
      'loss', 'eval_loss', 'eval_accuracy', 'grad_norm', 'learning_rate', 'epoch',
      'eval_runtime', 'eval_samples_per_second', 'eval_steps_per_second', 'train_loss', 'perplexity', 'eval_samples',
      'total_flos', 'train_runtime', 'train_samples', 'train_samples_per_second', 'train_steps_per_second',
    ]);
    assert.deepEqual(initialKeys(comparison, [], 3), ['loss', 'eval_loss', 'eval_accuracy']);
  });

  it("a restored panel's own selection wins (keys it no longer has are dropped)", () => {
    assert.deepEqual(initialKeys(comparison, ['perplexity', 'gone', 'loss']), ['perplexity', 'loss']);
  });

  it('fetches one series per run that has the key', () => {
    assert.deepEqual(seriesToFetch(comparison, ['eval_loss']), [
      { runId: BASE, key: 'eval_loss' }, { runId: HIGH, key: 'eval_loss' }, { runId: CHILD, key: 'eval_loss' },
    ]);
    assert.equal(seriesToFetch(comparison, initialKeys(comparison, [], 4)).length, 12);
  });

  it('ranks keys from other trainers too (TRL rewards, lm-eval style prefixes)', () => {
    assert.equal(keyRank('train/loss'), 0, 'the canonical train loss ranks first');
    assert.equal(keyRank('eval/loss'), 1);
    assert.equal(keyRank('rewards/correctness_reward_func/mean'), 4);
    assert.equal(keyRank('eval_g0_loss'), 2);
    assert.equal(keyRank('train_samples_per_second'), 7);
  });

  it('runs with no metrics in common still give a (possibly empty) list, never an error', () => {
    const none: RunComparison = { ...comparison, metrics: comparison.metrics.map((m) => ({ ...m, perRun: { [BASE]: null } })) };
    assert.deepEqual(initialKeys(none, []), []);
    assert.deepEqual(seriesToFetch(none, ['loss']), []);
  });
});

describe('deltas: live metric notifications become seriesAppend only for what is on screen', () => {
  const shown = new DisplayedSeries([live.runId, BASE]);
  shown.add(live.runId, 'loss');
  shown.add(BASE, 'eval_loss');
  const note = (key: string): NotificationOf['metrics'] => {
    const n = live.metrics.find((m) => m.key === key);
    assert.ok(n, key);
    return n;
  };

  it('forwards the points of a displayed (run, key) as MetricPoints', () => {
    const append = seriesAppendFor(shown, note('loss'));
    assert.ok(append?.type === 'seriesAppend');
    assert.equal(append.runId, live.runId);
    assert.equal(append.points.length, 25);
    assert.deepEqual(append.points[0], { step: 10, value: 2.9443, wallTime: null });
    assert.deepEqual(append.points.at(-1), { step: 250, value: 0.0027, wallTime: null });
  });

  it('drops keys not on screen, runs not in the panel, and empty batches', () => {
    assert.equal(seriesAppendFor(shown, note('train_loss')), undefined);
    assert.equal(seriesAppendFor(shown, { ...note('loss'), runId: CHILD }), undefined);
    assert.equal(seriesAppendFor(shown, { ...note('loss'), points: [] }), undefined);
  });

  it('starts a series when a run first logs a key another run shows (eval_loss appearing late)', () => {
    assert.equal(shouldStartSeries(shown, note('eval_loss')), true);
    assert.equal(shouldStartSeries(shown, note('train_loss')), false);
    assert.equal(shouldStartSeries(shown, { ...note('eval_loss'), runId: CHILD }), false);
  });

  it('keeps NaN and infinities as `special`', () => {
    const append = seriesAppendFor(shown, { runId: live.runId, key: 'loss', points: [{ step: 260, value: null, special: 'nan' }] });
    assert.ok(append?.type === 'seriesAppend');
    assert.deepEqual(append.points, [{ step: 260, value: null, special: 'nan', wallTime: null }]);
  });

  it('a removed run gives no more deltas', () => {
    const s = new DisplayedSeries([BASE]);
    s.add(BASE, 'loss');
    s.removeRun(BASE);
    assert.equal(seriesAppendFor(s, { ...note('loss'), runId: BASE }), undefined);
    assert.deepEqual(s.runIds, []);
  });
});

describe('panel state read back from the webview', () => {
  it('keeps valid fields, fixes bad ones, needs run ids', () => {
    assert.deepEqual(parsePanelState({ runIds: [BASE, HIGH, BASE], xAxis: 'time', smoothing: 3, logScale: 'yes', showAllParams: true, baselineRunId: CHILD, selectedKeys: ['loss'], section: 'evals' }), {
      runIds: [BASE, HIGH], xAxis: 'time', smoothing: 0.99, logScale: false, showAllParams: true, baselineRunId: BASE, selectedKeys: ['loss'], section: 'evals',
    });
    assert.equal(parsePanelState({ runIds: [] }), undefined);
    assert.equal(parsePanelState(undefined), undefined);
    assert.equal(parsePanelState({ runIds: [BASE], section: 'nope' })?.section, undefined);
  });
});

describe('titles and config documents', () => {
  it('names the panel by its runs', () => {
    assert.equal(compareTitle(['demo-baseline', 'demo-higher-lr']), 'Compare: demo-baseline vs demo-higher-lr');
    assert.equal(compareTitle(['a', 'b', 'c', 'd', 'e']), 'Compare: a vs b vs c +2');
    assert.equal(compareTitle(['demo-child']), 'Run: demo-child');
  });

  it('round-trips the run id through keel-config:/<runId>/<name>.yaml', () => {
    const path = configDocPath(BASE, 'demo baseline/v2', 'yaml');
    assert.equal(path, `/${BASE}/demo_baseline_v2.yaml`);
    assert.equal(runIdOfConfigPath(path), BASE);
    assert.equal(runIdOfConfigPath('/'), undefined);
  });

  it('finds the line of a param in the real tiny-finetune config and in nested torchtune YAML', () => {
    const baseline = readFileSync(join(import.meta.dirname, '..', '..', '..', 'examples', 'tiny-finetune', 'configs', 'baseline.yaml'), 'utf8');
    assert.equal(lineOfParam(baseline, 'learning_rate'), 7);
    const torchtune = readFileSync(realFixture('torchtune', 'llama3_2_1B_lora_single_device.yaml'), 'utf8');
    const line = lineOfParam(torchtune, 'checkpointer.checkpoint_dir');
    assert.equal(torchtune.split('\n')[line ?? -1], '  checkpoint_dir: /tmp/Llama-3.2-1B-Instruct/');
    assert.equal(lineOfParam(torchtune, 'nope.lr'), undefined);
  });

  it('shares a chart\'s points among many runs: the setting up to 20 runs, a share of 40,000 beyond, never under 200', () => {
    assert.equal(curvePoints(2000, 10), 2000);
    assert.equal(curvePoints(2000, 20), 2000);
    assert.equal(curvePoints(2000, 100), 400);
    assert.ok(100 * curvePoints(2000, 100) <= CHART_POINT_BUDGET);
    assert.equal(curvePoints(2000, 1000), 200);
    assert.equal(curvePoints(300, 100), 300, 'a setting below the share stays');
  });

  it('gives the first paint a share of FIRST_PAINT_BUDGET: ten runs their 500 points, a hundred a sketch of 100 each', () => {
    assert.equal(firstPaintPoints(2000, 1), FIRST_PAINT_POINTS);
    assert.equal(firstPaintPoints(2000, 10), FIRST_PAINT_POINTS);
    assert.equal(firstPaintPoints(2000, 20), 250);
    assert.equal(50 * firstPaintPoints(2000, 50), FIRST_PAINT_BUDGET, 'fifty runs share the budget to the point, at the least a curve gets');
    assert.equal(firstPaintPoints(curvePoints(2000, 100), 100), 100);
    assert.equal(firstPaintPoints(2000, 1000), 100, 'never below 100 a curve');
    assert.equal(firstPaintPoints(50, 10), 50, 'never above what the curve gets afterwards');
  });

  it('keeps up to 100 runs of a restored panel', () => {
    const runIds = Array.from({ length: 120 }, (_, i) => `run_${i}`);
    assert.equal(parsePanelState({ runIds })?.runIds.length, 100);
  });
});

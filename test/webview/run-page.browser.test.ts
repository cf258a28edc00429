/**
 * The run page's webview in Chromium: the bundle as the extension ships it, a CSP like the
 * real page's, a fake acquireVsCodeApi. A failed run's page quotes its error line; every
 * launch-spec field is shown, including fields this build has never heard of (the frozen
 * spec's, when they land); a checkpoint with `deletedAt` reads "deleted"; buttons post
 * actions for the page's run; the run id is kept in the webview state; nothing breaks the CSP.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Checkpoint, RunDetail } from '../../daemon/src/protocol/domain.ts';
import type { RunPageData, RunPageHostToWebview, RunPageWebviewToHost } from '../../daemon/src/protocol/run-page.ts';
import { artifactsDir, buildBundle, chromiumPath, launchChromium, removeDir, servePanel, type PanelServer } from './browser.ts';

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);

function checkpoint(id: string, step: number, extra: Record<string, unknown> = {}): Checkpoint {
  return { id, runId: 'run_f1', step, location: `gpu1:/home/u/.keel/jobs/run_f1/1/outputs/checkpoint-${step}`, hash: 'sha256:ab12', sizeBytes: 4_800_000_000, kind: 'adapter', baseModel: 'meta-llama/Llama-3.2-1B', createdAt: T0, ...extra };
}

const detail: RunDetail = {
  run: {
    id: 'run_f1', projectId: 'prj_1', name: 'lora-r8 · lr=0.01', status: 'failed', statusReason: 'exit code 1', exitCode: 1, unreachableSince: null, source: 'launch',
    configId: 'cfg_1', codeVersionId: null, hostName: 'gpu1', sweepId: null, outputDir: null, priority: 0, gpus: 2, createdAt: T0 - 600_000, startedAt: T0 - 540_000, endedAt: T0 - 60_000, updatedAt: T0,
  },
  params: { learning_rate: 0.01 },
  metrics: [{ key: 'loss', points: 30, firstStep: 1, lastStep: 30, lastValue: 1.234, min: 1.1, max: 2.5 }],
  checkpoints: [checkpoint('ckpt_10', 10, { deletedAt: T0 - 120_000 }), checkpoint('ckpt_20', 20)],
  evals: [],
  config: { id: 'cfg_1', hash: 'sha256:cc', format: 'yaml', flavor: 'axolotl', paths: ['/p/configs/lora-r8.yaml'], createdAt: T0 },
  codeVersion: null,
  datasets: [],
  // `frozenAt` and `resolvedCommand` stand for fields a later daemon records: the page shows them without knowing them.
  // 2 GPUs × 8 min at the host's 3 per GPU-hour, as runUsage gives it.
  usage: { attempts: 1, seconds: 480, gpuHours: 16 / 60, cost: 0.8 },
  launch: { kind: 'train', configPath: 'configs/lora-r8.yaml', overrides: ['learning_rate=0.01'], host: 'gpu1', gpus: 2, frozenAt: T0 - 600_000, resolvedCommand: 'axolotl train /job/config.yaml' },
};

const page: RunPageData = {
  detail,
  summary: null,
  tail: { lines: ['loading base model', 'Traceback (most recent call last):', "OSError: base-models/llama-3-8b is not a local folder"], errorLine: 'OSError: base-models/llama-3-8b is not a local folder', complete: true },
  lineage: { root: { kind: 'run', id: 'run_f1', label: 'lora-r8 · lr=0.01', details: {} }, ancestors: [{ kind: 'config', id: 'cfg_1', label: 'lora-r8.yaml', details: {}, depth: 1 }], descendants: [], edges: [], truncated: false },
  evalRuns: [],
  parent: null,
  aliases: { ckpt_20: ['candidate'] },
};

describe('run page in Chromium', { skip: existsSync(chromiumPath) ? false : `no ${chromiumPath}` }, () => {
  let bundle = '';
  let server: PanelServer;
  let browser: Browser;
  let tab: Page;
  const errors: string[] = [];
  const posted = (): Promise<RunPageWebviewToHost[]> => tab.evaluate(() => (window as unknown as { __posted: RunPageWebviewToHost[] }).__posted);
  const send = (m: RunPageHostToWebview): Promise<void> => tab.evaluate((x) => window.postMessage(x, '*'), JSON.parse(JSON.stringify(m)) as RunPageHostToWebview);

  before(async () => {
    mkdirSync(artifactsDir, { recursive: true });
    bundle = await buildBundle(path.join(import.meta.dirname, '..', '..', 'webview', 'src', 'run-page', 'main.ts'), 'run-page');
    server = await servePanel(bundle);
    browser = await launchChromium();
    tab = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(`${server.url}/?bundle=run-page`);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (bundle) removeDir(bundle);
  });

  it('says ready, then shows a failed run with its error line and the log\'s end', async () => {
    await tab.waitForFunction(() => (window as unknown as { __posted: unknown[] }).__posted.length > 0);
    assert.deepEqual(await posted(), [{ type: 'ready' }]);
    await send({ type: 'show', page, now: T0 });
    await tab.waitForSelector('main.run-page h1');
    assert.equal(await tab.innerText('h1'), 'lora-r8 · lr=0.01');
    assert.equal(await tab.innerText('.error-line'), 'OSError: base-models/llama-3-8b is not a local folder');
    assert.match(await tab.textContent('.status-line') ?? '', /failed · exit 1 · gpu1 · 2 GPUs · started 9 min ago, took 8 min 0 s · 0\.267 GPU-hours · cost 0\.80$/);
    assert.match(await tab.innerText('.block-why .log-tail'), /Traceback \(most recent call last\):/);
  });

  it('shows every launch-spec field, overrides first, including ones it does not know', async () => {
    const rows = await tab.$$eval('.block-launch tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    assert.deepEqual(rows[0], ['overrides', 'learning_rate=0.01']);
    assert.ok(rows.some(([k]) => k === 'frozen at'), 'a field named frozenAt');
    assert.ok(rows.some(([k, v]) => k === 'resolved command' && v === 'axolotl train /job/config.yaml'));
  });

  it('marks a checkpoint whose files were deleted, and lists aliases', async () => {
    const rows = await tab.$$eval('.block-checkpoints tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 5).map((td) => td.textContent ?? '')));
    assert.deepEqual(rows, [['step 10', 'adapter', '4.8 GB', 'deleted 2 min ago', '—'], ['step 20', 'adapter', '4.8 GB', 'present', 'candidate']]);
    assert.equal(await tab.locator('.block-checkpoints tbody tr').first().locator('button', { hasText: 'pull' }).count(), 0, 'no Pull for deleted files');
    await tab.screenshot({ path: path.join(artifactsDir, 'run-page-failed-dark.png'), fullPage: true });
  });

  it('posts the page\'s run with each action, and keeps the run id in the webview state', async () => {
    await tab.locator('vscode-button', { hasText: 'Rename' }).click();
    await tab.locator('.block-checkpoints button', { hasText: 'tag' }).last().click();
    await tab.locator('vscode-button', { hasText: 'Show Full Log' }).click();
    const actions = (await posted()).slice(1);
    assert.deepEqual(actions, [
      { type: 'action', runId: 'run_f1', action: 'rename' },
      { type: 'action', runId: 'run_f1', action: 'tagCheckpoint', checkpointId: 'ckpt_20' },
      { type: 'action', runId: 'run_f1', action: 'showLog' },
    ]);
    assert.deepEqual(await tab.evaluate(() => JSON.parse(sessionStorage.getItem('keel-state') ?? 'null') as unknown), { runId: 'run_f1' });
  });

  it('offers Stop Run only while the run is active, and breaks neither the CSP nor the page', async () => {
    assert.equal(await tab.locator('vscode-button', { hasText: 'Stop Run' }).count(), 0);
    await send({ type: 'show', page: { ...page, detail: { ...detail, run: { ...detail.run, status: 'running', endedAt: null, exitCode: null, statusReason: null } } }, now: T0 });
    await tab.locator('vscode-button', { hasText: 'Stop Run' }).waitFor();
    assert.equal(await tab.locator('.block-why').count(), 0, 'no "why it failed" for a running run');
    assert.deepEqual(await tab.evaluate(() => (window as unknown as { __csp: string[] }).__csp), []);
    assert.deepEqual(errors, []);
  });
});

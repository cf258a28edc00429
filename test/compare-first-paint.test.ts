/**
 * The compare panel's host against a real daemon (VS Code's few APIs faked,
 * test/support/fake-vscode.ts): the prefetched init goes in the page's HTML, thinned to
 * FIRST_PAINT_POINTS per curve; a webview that drew it says `ready` with `embeddedInit` and
 * gets no second `init`, then, once it painted, the same curves at full resolution first and
 * the other keys after. A run that changes before the webview is ready makes the page's init
 * stale: that `ready` gets a fresh `init`; an init not ready in time leaves the page without
 * one (the webview asks). A hidden panel goes back to the page without one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type * as vscode from 'vscode';
import { defaultPanelState, unpackMessage, type HostToWebview } from '../daemon/src/protocol/index.ts';
import { Store } from '../daemon/src/store/index.ts';
import { FakeLog, settings, useFakeVscode } from './support/fake-vscode.ts';
import { fakeWebviewPanel } from './support/fake-webview-panel.ts';
import { repoRoot, TestHome, waitFor } from './support/keel-home.ts';

useFakeVscode();
const { DaemonConnection } = await import('../extension/src/connection/daemon-connection.ts');
const { ComparePanel, EMBED_WAIT_MS } = await import('../extension/src/compare/panel.ts');
const { FIRST_PAINT_BUDGET, FIRST_PAINT_POINTS } = await import('../extension/src/compare/keys.ts');

const STEPS = 5_000;

/** The init a page carries (as the webview reads it), or null. */
function pageInit(html: string): Extract<HostToWebview, { type: 'init' }> | null {
  const json = /<script type="application\/json" id="keel-init" nonce="[^"]+">([^]*?)<\/script>/.exec(html)?.[1];
  return json === undefined ? null : unpackMessage(JSON.parse(json)) as Extract<HostToWebview, { type: 'init' }>;
}

describe('compare panel: the first chart from the page, then full resolution', () => {
  const h = new TestHome('keel-first-paint-');
  const context = { extensionPath: repoRoot, extensionUri: { scheme: 'file', fsPath: repoRoot }, extension: { packageJSON: { version: '0.1.0-test' } } } as unknown as vscode.ExtensionContext;
  const connection = new DaemonConnection(context, new FakeLog() as unknown as vscode.LogOutputChannel);
  const runIds: string[] = [];
  /** A sweep of 30 runs: the first paint shares FIRST_PAINT_BUDGET among them. */
  const sweepIds: string[] = [];
  let otherId = '';

  before(async () => {
    mkdirSync(h.home, { recursive: true, mode: 0o700 });
    const store = new Store(h.db);
    for (const name of ['a', 'b']) {
      const run = store.runs.create({ projectId: null, source: 'import', name, status: 'succeeded' });
      for (const key of ['loss', 'eval_loss']) {
        store.metrics.record(run.id, Array.from({ length: STEPS }, (_, s) => ({ key, step: s, value: Math.exp(-s / 1000) + ((s * 7919) % 100) / 1e3 })));
      }
      runIds.push(run.id);
    }
    otherId = store.runs.create({ projectId: null, source: 'import', name: 'other', status: 'succeeded' }).id;
    for (let i = 0; i < 30; i++) {
      const run = store.runs.create({ projectId: null, source: 'import', name: `sweep-${i}`, status: 'succeeded' });
      store.metrics.record(run.id, Array.from({ length: 1_000 }, (_, s) => ({ key: 'loss', step: s, value: Math.exp(-s / 300) + ((s * 7919 + i) % 100) / 1e3 })));
      sweepIds.push(run.id);
    }
    store.close();
    settings.set('keel.daemon.home', h.home);
    // The daemon started and a load on the machine must not make the page go without its init
    // (what a slow init does: the bench and e2e measure that the usual one makes it in time).
    ComparePanel.embedWaitMs = 30_000;
    await connection.client();
  });
  after(() => {
    ComparePanel.embedWaitMs = EMBED_WAIT_MS;
    connection.dispose();
    settings.clear();
    h.cleanup();
  });

  it('puts a thinned init in the page, sends no second init, then the same curves at full resolution before the other key', async () => {
    const f = fakeWebviewPanel();
    const panel = new ComparePanel(connection, f.panel, defaultPanelState(runIds));
    try {
      await waitFor(() => f.pages.length > 0, 20_000, 'the page');
      const init = pageInit(f.pages[0] ?? '');
      assert.ok(init, 'the first page carries the init');
      assert.deepEqual(init.comparison.runs.map((r) => r.name), ['a', 'b']);
      assert.deepEqual(init.series.map((s) => [s.key, s.total, s.downsampled]), [['loss', STEPS, true], ['loss', STEPS, true]]);
      for (const s of init.series) assert.ok(s.points.length <= FIRST_PAINT_POINTS && s.points.length > FIRST_PAINT_POINTS / 2, `${s.points.length} points`);
      f.send({ type: 'painted' }); // the webview may paint before its ready arrives
      f.send({ type: 'ready', embeddedInit: true });
      await waitFor(() => f.posted.filter((m) => m.type === 'seriesBatch').length >= 2, 20_000, 'the curves after the first paint');
      assert.equal(f.posted.filter((m) => m.type === 'init').length, 0, 'no init message: the page had it');
      const batches = f.posted.flatMap((m) => (m.type === 'seriesBatch' ? [m.series] : []));
      assert.deepEqual(batches.map((b) => b.map((s) => s.key)), [['loss', 'loss'], ['eval_loss', 'eval_loss']]);
      for (const s of batches[0] ?? []) assert.ok(s.points.length > 1_000 && s.points.length <= 2_000, `full resolution: ${s.points.length} points`);
      // Hidden, the panel's webview is gone; shown again it loads a page without the old init.
      f.hide();
      assert.equal(pageInit(f.pages.at(-1) ?? ''), null);
      assert.match(f.pages.at(-1) ?? '', /<div id="app"><\/div>/);
    } finally {
      panel.dispose();
    }
  });

  it('shares the first paint\'s points among many runs (30 runs: a sketch of 5,000 / 30 points a curve), then refines every curve', async () => {
    const f = fakeWebviewPanel();
    const panel = new ComparePanel(connection, f.panel, defaultPanelState(sweepIds));
    try {
      await waitFor(() => f.pages.length > 0, 20_000, 'the page');
      const init = pageInit(f.pages[0] ?? '');
      assert.ok(init, 'the first page carries the init');
      assert.equal(init.series.length, 30);
      const share = Math.floor(FIRST_PAINT_BUDGET / 30);
      for (const s of init.series) assert.ok(s.downsampled && s.points.length <= share && s.points.length > share / 2, `${s.points.length} points, share ${share}`);
      assert.ok(init.series.reduce((n, s) => n + s.points.length, 0) <= FIRST_PAINT_BUDGET);
      f.send({ type: 'ready', embeddedInit: true });
      f.send({ type: 'painted' });
      await waitFor(() => f.posted.filter((m) => m.type === 'seriesBatch').flatMap((m) => (m.type === 'seriesBatch' ? m.series : [])).length >= 30, 20_000, 'the refined curves');
      const refined = f.posted.flatMap((m) => (m.type === 'seriesBatch' ? m.series : []));
      assert.deepEqual(new Set(refined.map((s) => s.runId)), new Set(sweepIds), 'every run\'s curve comes again');
      // 30 curves share the chart's budget at 1,333 points each: a 1,000-step run comes whole.
      for (const s of refined) assert.ok(s.points.length === 1_000 && !s.downsampled, `refined: ${s.points.length} points, downsampled ${s.downsampled}`);
    } finally {
      panel.dispose();
    }
  });

  it('sends the page without an init when the init is not ready in time, and the init when the webview asks', async () => {
    ComparePanel.embedWaitMs = 0;
    const f = fakeWebviewPanel();
    const panel = new ComparePanel(connection, f.panel, defaultPanelState(runIds));
    try {
      await waitFor(() => f.pages.length > 0, 20_000, 'the page');
      assert.equal(pageInit(f.pages[0] ?? ''), null);
      f.send({ type: 'ready' });
      await waitFor(() => f.posted.some((m) => m.type === 'init'), 20_000, 'the init');
      const init = f.posted.find((m) => m.type === 'init');
      assert.ok(init?.type === 'init');
      assert.deepEqual(init.series.map((s) => s.key), ['loss', 'loss']);
    } finally {
      ComparePanel.embedWaitMs = 30_000;
      panel.dispose();
    }
  });

  it('answers a page whose init went stale (a run changed before ready) with a fresh init', async () => {
    const f = fakeWebviewPanel();
    const panel = new ComparePanel(connection, f.panel, defaultPanelState(runIds));
    let changed = false;
    const sub = connection.onNotification('runs', () => { changed = true; });
    try {
      await waitFor(() => f.pages.length > 0, 20_000, 'the page');
      assert.ok(pageInit(f.pages[0] ?? ''));
      await (await connection.client()).call('runs/delete', { run: otherId });
      await waitFor(() => changed, 10_000, 'the runs notification');
      f.send({ type: 'ready', embeddedInit: true });
      await waitFor(() => f.posted.some((m) => m.type === 'init'), 20_000, 'a fresh init');
      const init = f.posted.find((m) => m.type === 'init');
      assert.ok(init?.type === 'init');
      assert.deepEqual(init.series.map((s) => s.key), ['loss', 'loss']);
    } finally {
      sub.dispose();
      panel.dispose();
    }
  });
});

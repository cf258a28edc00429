/**
 * The extension's views apply `runs` notifications as deltas, against a real daemon (VS
 * Code's few APIs faked, test/support/fake-vscode.ts): a watched run that logs new points
 * updates its row in the run list and its header in an open compare panel without one more
 * runs/list, runs/get, hosts/list or models/list (the daemon's own request counts say so); a
 * deleted run leaves the list the same way; and the Runs view's Recent reads older runs a
 * page at a time.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as vscode from 'vscode';
import { defaultPanelState } from '../daemon/src/protocol/index.ts';
import { Store } from '../daemon/src/store/index.ts';
import { FakeLog, settings, useFakeVscode } from './support/fake-vscode.ts';
import { fakeWebviewPanel } from './support/fake-webview-panel.ts';
import { repoRoot, TestHome, waitFor } from './support/keel-home.ts';

useFakeVscode();
const { DaemonConnection } = await import('../extension/src/connection/daemon-connection.ts');
const { WorkspaceProjects } = await import('../extension/src/project/workspace-projects.ts');
const { RunsModel } = await import('../extension/src/runs/runs-model.ts');
const { HostsView } = await import('../extension/src/hosts/hosts-view.ts');
const { ModelsView } = await import('../extension/src/models/models-view.ts');
const { ComparePanel } = await import('../extension/src/compare/panel.ts');

/** Ended runs already in the store: more than one page of Recent (50). */
const OLD_RUNS = 60;

describe('extension views apply run deltas', () => {
  const h = new TestHome('keel-ext-deltas-');
  const root = join(h.dir, 'proj');
  const out = join(root, 'outputs', 'live');
  const context = { extensionPath: repoRoot, extensionUri: { scheme: 'file', fsPath: repoRoot }, extension: { packageJSON: { version: '0.1.0-test' } } } as unknown as vscode.ExtensionContext;
  const connection = new DaemonConnection(context, new FakeLog() as unknown as vscode.LogOutputChannel);
  const projects = new WorkspaceProjects(connection);
  const model = new RunsModel(connection, projects);
  const hosts = new HostsView(connection);
  const models = new ModelsView(connection, model);
  const oldIds: string[] = [];
  let liveId = '';

  before(() => {
    mkdirSync(h.home, { recursive: true, mode: 0o700 });
    const store = new Store(h.db);
    for (let i = 0; i < OLD_RUNS; i++) oldIds.push(store.runs.create({ projectId: null, source: 'import', name: `old-${i}`, status: 'succeeded' }).id);
    store.close();
    mkdirSync(out, { recursive: true });
    writeFileSync(join(root, 'keel.yaml'), 'name: deltas\noutputs: [outputs/*]\n');
    writeFileSync(join(out, 'metrics.jsonl'), `${JSON.stringify({ step: 1, loss: 2 })}\n`);
    settings.set('keel.daemon.home', h.home);
  });
  after(() => {
    for (const d of [models, hosts, model, projects, connection]) d.dispose();
    settings.clear();
    h.cleanup();
  });

  const requests = async (): Promise<Record<string, number>> => (await (await connection.client()).call('daemon/status', {})).requests ?? {};
  const grew = (before: Record<string, number>, after: Record<string, number>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const [m, n] of Object.entries(after)) if (m !== 'daemon/status' && n > (before[m] ?? 0)) out[m] = n - (before[m] ?? 0);
    return out;
  };

  /**
   * The request counts once the views stop asking (no new request but daemon/status for
   * QUIET_MS, longer than the views' 500 ms debounce, so a refresh already triggered lands
   * before it): a baseline that load cannot move.
   */
  const QUIET_MS = 1_000;
  const settled = async (): Promise<Record<string, number>> => {
    let last = await requests();
    for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, QUIET_MS));
      const now = await requests();
      if (Object.keys(grew(last, now)).length === 0) return now;
      last = now;
    }
    throw new Error(`the views kept asking for 20 s: ${JSON.stringify(last)}`);
  };

  it('shows a watched run the moment it appears, from the notification\'s row', async () => {
    const client = await connection.client();
    await waitFor(() => model.loaded, 10_000, 'the first read of the list');
    await client.call('projects/register', { root });
    await waitFor(() => model.runs.some((r) => r.name === 'live'), 30_000, 'the live run in the list');
    liveId = model.runs.find((r) => r.name === 'live')?.id ?? '';
    assert.equal(model.find(liveId)?.status, 'running');
  });

  it('updates the live run\'s row and an open compare panel from notifications alone', async () => {
    const { panel: webviewPanel, posted, send } = fakeWebviewPanel();
    const panel = new ComparePanel(connection, webviewPanel, defaultPanelState([liveId, oldIds[0] ?? '']));
    try {
      send({ type: 'ready' });
      await waitFor(() => posted.some((m) => m.type === 'init'), 20_000, 'the panel init');
      const before = await settled(); // the views' first reads are done
      const updates = posted.length;
      appendFileSync(join(out, 'metrics.jsonl'), [{ step: 2, loss: 1.5 }, { step: 3, loss: 1.25 }].map((l) => JSON.stringify(l)).join('\n') + '\n');
      await waitFor(() => model.find(liveId)?.lastStep === 3, 30_000, 'the row at step 3');
      assert.equal(model.find(liveId)?.lastLoss, 1.25);
      await waitFor(() => posted.slice(updates).some((m) => m.type === 'runUpdate' && m.run.id === liveId), 5_000, 'a runUpdate in the panel');
      await new Promise((r) => setTimeout(r, 1_500)); // past every view's debounce
      // metrics/get may follow a curve the panel shows; nothing re-reads runs, hosts or models.
      const { 'metrics/get': _curves, ...others } = grew(before, await requests());
      assert.deepEqual(others, {}, 'no request but curve reads');
    } finally {
      panel.dispose();
    }
  });

  it('drops a deleted run without reading the list again', async () => {
    const client = await connection.client();
    const gone = oldIds.at(-1) ?? ''; // the newest: on the first page
    await waitFor(() => model.find(gone) !== undefined, 5_000, 'the run in the list');
    const before = await settled();
    await client.call('runs/delete', { run: gone });
    await waitFor(() => model.find(gone) === undefined, 5_000, 'the run gone from the list');
    await new Promise((r) => setTimeout(r, 1_000)); // past every view's debounce: nothing else may ask
    assert.deepEqual(grew(before, await requests()), { 'runs/delete': 1 });
  });

  it('reads Recent a page at a time', async () => {
    const recent = (): number => model.groups().find((g) => g.kind === 'recent')?.runs.length ?? 0;
    assert.equal(recent(), 49, 'the first page (50), less the run deleted');
    assert.equal(model.hasMore, true);
    await model.loadMore();
    assert.equal(recent(), OLD_RUNS - 1, 'every ended run once the next page is read (one was deleted)');
    assert.equal(model.hasMore, false);
    await model.refresh();
    assert.equal(recent(), OLD_RUNS - 1, 'a full read keeps the pages read so far');
  });
});

/**
 * The run page: one webview beside the editor showing one run in full — status and why,
 * the last error lines, the launch spec, metrics, checkpoints, evals, lineage — with its
 * actions. One page is open at a time and follows what the user opens (like a preview), so
 * pages do not pile up. The webview says `ready`; the host sends `show`, then `show` again
 * (debounced) when the daemon says the run, its metrics or its eval runs changed. After a
 * reload the serializer opens the same run again.
 */
import * as vscode from 'vscode';
import { isRunPageMessage } from '../../../daemon/src/protocol/index.ts';
import type { RunPageData, RunPageHostToWebview, RunPageState, RunPageWebviewToHost } from '../../../daemon/src/protocol/index.ts';
import { buildPanelHtml, makeNonce } from '../compare/html.ts';
import { Coalescer, Debouncer } from '../debounce.ts';
import { RunStatusMemory } from '../runs/run-deltas.ts';
import { Disposables } from '../disposables.ts';
import { describeError } from '../errors.ts';
import type { KeelServices } from '../services.ts';
import { runPageAction, type RunPageActionDeps } from './run-page-actions.ts';
import { loadRunPage } from './run-page-data.ts';

/** The webview panel type, also the serializer's id (`onWebviewPanel:keel.runPage`). */
export const RUN_PAGE_VIEW_TYPE = 'keel.runPage';

/** Scripts on; only the bundles in dist/ readable. */
function pageOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return { enableScripts: true, retainContextWhenHidden: false, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist')] };
}

/** The state a reloaded page saved, if it names a run. */
function parseState(x: unknown): RunPageState | undefined {
  const runId = typeof x === 'object' && x !== null ? (x as { runId?: unknown }).runId : undefined;
  return typeof runId === 'string' && runId !== '' ? { runId } : undefined;
}

class RunPage extends Disposables {
  readonly panel: vscode.WebviewPanel;
  private readonly services: KeelServices;
  private readonly deps: RunPageActionDeps;
  private runId: string;
  private page: RunPageData | null = null;
  private readonly reload = this.register(new Debouncer(500, () => void this.send()));
  /** New points (and a training run's row updates with them) redraw the page at most every 3 s, never starved by a steady stream. */
  private readonly reloadMetrics = this.register(new Coalescer(3_000, () => void this.send()));
  private readonly statuses = new RunStatusMemory();

  constructor(services: KeelServices, deps: RunPageActionDeps, panel: vscode.WebviewPanel, runId: string) {
    super();
    this.services = services;
    this.deps = deps;
    this.panel = panel;
    this.runId = runId;
    const extensionUri = services.context.extensionUri;
    panel.webview.options = pageOptions(extensionUri);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'keel.svg');
    const asset = (name: string): string => panel.webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', name)).toString();
    panel.webview.html = buildPanelHtml({ cspSource: panel.webview.cspSource, scriptUri: asset('run-page.js'), styleUri: asset('run-page.css'), nonce: makeNonce(), title: panel.title });
    this.register(panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m)));
    this.register(panel.onDidDispose(() => this.dispose()));
    const mine = (id: string): boolean => id === this.runId || (this.page?.evalRuns.some((r) => r.id === id) ?? false);
    // A status change (or a new eval run) shows at once; a row update is new points, drawn with them.
    this.register(services.onNotification('runs', (n) => {
      if (!mine(n.runId)) return;
      if (this.statuses.classify(n) === 'row' && n.run) this.reloadMetrics.schedule();
      else this.reload.schedule();
    }));
    this.register(services.onNotification('alerts', (n) => { if (n.runId && mine(n.runId)) this.reload.schedule(); }));
    this.register(services.onNotification('metrics', (n) => { if (n.runId === this.runId) this.reloadMetrics.schedule(); }));
    this.register(services.onDidConnect(() => this.reload.schedule()));
  }

  /** Shows another run in this page. */
  showRun(runId: string): void {
    this.runId = runId;
    this.page = null;
    void this.send();
  }

  private post(message: RunPageHostToWebview): void {
    if (!this.isDisposed) void this.panel.webview.postMessage(message);
  }

  private async send(): Promise<void> {
    const runId = this.runId;
    try {
      const page = await loadRunPage(await this.services.client(), runId);
      if (runId !== this.runId || this.isDisposed) return;
      this.page = page;
      this.panel.title = `Run: ${page.detail.run.name}`;
      this.post({ type: 'show', page, now: Date.now() });
    } catch (err) {
      if (runId !== this.runId) return;
      this.services.log.warn(`run page ${runId}: ${(err as Error).message}`);
      this.post({ type: 'error', message: describeError(err, `Could not load run ${runId}`).message });
    }
  }

  private onMessage(raw: unknown): void {
    if (!isRunPageMessage(raw)) return;
    void this.handle(raw).catch((err: unknown) => {
      const e = describeError(err, 'The run page action failed');
      this.services.log.warn(e.message);
      void vscode.window.showErrorMessage(`Keel: ${e.message}`);
    });
  }

  private async handle(m: RunPageWebviewToHost): Promise<void> {
    if (m.type === 'ready') return this.send();
    if (m.runId !== this.runId) return;
    const changed = await runPageAction(this.deps, m, this.page);
    if (changed) this.reload.schedule();
  }
}

/** The open run page (at most one) and its serializer. */
export class RunPages extends Disposables implements vscode.WebviewPanelSerializer {
  private readonly services: KeelServices;
  private readonly deps: Omit<RunPageActionDeps, 'openRun'>;
  private current: RunPage | undefined;

  constructor(services: KeelServices, deps: Omit<RunPageActionDeps, 'openRun'>) {
    super();
    this.services = services;
    this.deps = deps;
    this.register(vscode.window.registerWebviewPanelSerializer(RUN_PAGE_VIEW_TYPE, this));
    this.register({ dispose: () => { this.current?.panel.dispose(); } });
  }

  /** Shows `runId` in the run page, opening it beside the editor when none is open. */
  async show(runId: string, preserveFocus = false): Promise<void> {
    await this.services.client();
    if (this.current && !this.current.isDisposed) {
      this.current.showRun(runId);
      this.current.panel.reveal(undefined, preserveFocus);
      return;
    }
    const panel = vscode.window.createWebviewPanel(RUN_PAGE_VIEW_TYPE, 'Run', { viewColumn: vscode.ViewColumn.Beside, preserveFocus }, pageOptions(this.services.context.extensionUri));
    this.adopt(panel, runId);
  }

  /** Restores the page after a reload, on the run it showed. */
  deserializeWebviewPanel(panel: vscode.WebviewPanel, saved: unknown): Promise<void> {
    const state = parseState(saved);
    if (!state) {
      panel.dispose();
      return Promise.resolve();
    }
    this.adopt(panel, state.runId);
    return Promise.resolve();
  }

  private adopt(panel: vscode.WebviewPanel, runId: string): void {
    this.current?.panel.dispose();
    const page = new RunPage(this.services, { ...this.deps, openRun: (id) => this.show(id) }, panel, runId);
    this.current = page;
    page.register({ dispose: () => { if (this.current === page) this.current = undefined; } });
  }
}

/**
 * One compare panel: a webview beside the editor showing some runs. The webview says
 * `ready`; the host answers with one `init` (state, comparison, the most relevant key's
 * curves), streams the other keys' curves as `series`, then sends only deltas:
 * `seriesAppend` from live metric notifications, `runUpdate` when a run changes,
 * `comparison` when runs finish (evals arrive), `runRemoved` when a run is gone, `series`
 * after a zoom or a reconnect, `lineage` on request.
 */
import * as vscode from 'vscode';
import type { KeelClient } from '../../../daemon/src/client/client.ts';
import { ErrorCode, RpcError, isTerminal, isWebviewToHost } from '../../../daemon/src/protocol/index.ts';
import type { ComparePanelState, HostToWebview, NotificationOf, RunComparison, SeriesPayload, WebviewToHost } from '../../../daemon/src/protocol/index.ts';
import { Disposables } from '../disposables.ts';
import { describeError } from '../errors.ts';
import type { KeelServices } from '../services.ts';
import { openConfigDiff } from './config-diff.ts';
import { buildPanelHtml, makeNonce } from './html.ts';
import { INIT_KEYS, initialKeys, seriesToFetch } from './keys.ts';
import { SeriesLoader } from './series-loader.ts';
import { parsePanelState } from './state.ts';
import { compareTitle } from './title.ts';

/** The webview panel type, also the serializer's id (`onWebviewPanel:keel.compare`). */
export const COMPARE_VIEW_TYPE = 'keel.compare';

/** How long to gather run changes before re-sending the comparison. */
const COMPARISON_DEBOUNCE_MS = 1_500;
/** What a panel whose runs are all gone (or a lineage view of a record no run used) shows. */
const EMPTY_COMPARISON: RunComparison = { runs: [], params: { differ: [], equal: 0, equalParams: {} }, metrics: [], evals: [] };
/** Notifications kept while init is built (a bulk import could send thousands). */
const MAX_BUFFERED = 2_000;

/** Webview options every compare panel uses: scripts on, only dist/ readable. */
export function panelOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return { enableScripts: true, retainContextWhenHidden: false, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist')] };
}

export class ComparePanel extends Disposables {
  readonly panel: vscode.WebviewPanel;
  private readonly services: KeelServices;
  private state: ComparePanelState;
  private readonly series: SeriesLoader;
  /** Lineage to send right after init (Show Lineage), by record reference. */
  private readonly lineageRef: string | undefined;
  /** Metric notifications that arrive while init is being built; replayed after it. */
  private buffered: NotificationOf['metrics'][] | null = null;
  private initialized = false;
  private comparisonTimer: NodeJS.Timeout | undefined;

  constructor(services: KeelServices, panel: vscode.WebviewPanel, state: ComparePanelState, lineageRef?: string) {
    super();
    this.services = services;
    this.panel = panel;
    this.state = state;
    this.lineageRef = lineageRef;
    this.series = new SeriesLoader({
      fetch: (runId, key, maxPoints, range) => this.fetchSeries(runId, key, maxPoints, range),
      post: (m) => this.post(m),
      onError: (message) => services.log.warn(`compare panel: ${message}`),
      maxPoints: () => this.maxPoints(),
    });
    this.series.reset(state.runIds);
    const extensionUri = services.context.extensionUri;
    panel.webview.options = panelOptions(extensionUri);
    const asset = (name: string): string => panel.webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', name)).toString();
    panel.webview.html = buildPanelHtml({ cspSource: panel.webview.cspSource, scriptUri: asset('webview.js'), styleUri: asset('webview.css'), nonce: makeNonce(), title: panel.title });
    this.register(panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m)));
    this.register(panel.onDidDispose(() => this.dispose()));
    // Without retainContextWhenHidden a hidden webview is gone: it says `ready` again when shown.
    this.register(panel.onDidChangeViewState((e) => {
      if (!e.webviewPanel.visible) this.initialized = false;
    }));
    this.register(services.onNotification('metrics', (n) => this.onMetrics(n)));
    this.register(services.onNotification('runs', (n) => this.onRunChange(n)));
    this.register(services.onDidConnect((c) => void this.resync(c)));
    // Metric points the daemon dropped while this window was slow: fetch those runs' curves again.
    this.register(services.onResync((n) => {
      const runs = new Set(n.dropped.filter((d) => d.topic === 'metrics').flatMap((d) => d.runIds));
      if (runs.size > 0) void this.refetchCurves((runId) => runs.has(runId));
    }));
    this.register({ dispose: () => clearTimeout(this.comparisonTimer) });
  }

  get runIds(): readonly string[] {
    return this.state.runIds;
  }

  private post(message: HostToWebview): void {
    if (!this.isDisposed) void this.panel.webview.postMessage(message);
  }

  private onMessage(raw: unknown): void {
    if (!isWebviewToHost(raw)) return;
    void this.handle(raw).catch((err: unknown) => {
      this.services.log.warn(`compare panel: ${raw.type} failed: ${(err as Error).message}`);
      this.post({ type: 'error', message: describeError(err).message });
    });
  }

  private async handle(m: WebviewToHost): Promise<void> {
    switch (m.type) {
      case 'ready':
        return this.sendInit();
      case 'requestSeries':
        return this.series.load(m.runId, m.key, m.maxPoints, { ...(m.fromStep !== undefined ? { fromStep: m.fromStep } : {}), ...(m.toStep !== undefined ? { toStep: m.toStep } : {}) });
      case 'openConfigDiff':
        return openConfigDiff(this.services, m.leftRunId, m.rightRunId, m.key);
      case 'openRun':
        await vscode.commands.executeCommand('keel.openRun', m.runId);
        return;
      case 'requestLineage':
        return this.sendLineage(m.runId, m.runId);
      case 'stateChanged': {
        // The webview keeps its state with setState (the serializer gets it); the host keeps a
        // copy for the next init, but the runs shown are the host's to decide.
        const state = parsePanelState(m.state);
        if (state) this.state = { ...state, runIds: this.state.runIds };
        return;
      }
    }
  }

  /** `keel.compare.maxPoints`: points per curve the daemon downsamples to. */
  private maxPoints(): number {
    const n = vscode.workspace.getConfiguration('keel.compare').get<number>('maxPoints', 2000);
    return Number.isInteger(n) && n >= 2 ? Math.min(n, 1_000_000) : 2000;
  }

  private async fetchSeries(runId: string, key: string, maxPoints: number, range?: { fromStep?: number; toStep?: number }): Promise<SeriesPayload> {
    const client = await this.services.client();
    const r = await client.call('metrics/get', { run: runId, key, maxPoints: Math.max(2, Math.min(maxPoints, 1_000_000)), ...range });
    return { runId, key, points: r.points, total: r.total, downsampled: r.downsampled };
  }

  private async sendInit(): Promise<void> {
    this.buffered = [];
    this.initialized = false;
    let rest: { runId: string; key: string }[] = [];
    try {
      const client = await this.services.client();
      const comparison = await this.compareExisting(client);
      // A restored "Lineage: …" panel keeps its title; a compare panel follows its runs.
      if (!this.lineageRef && /^(Compare|Run)\b/.test(this.panel.title)) this.panel.title = compareTitle(comparison.runs.map((r) => r.name));
      this.series.reset(comparison.runs.map((r) => r.id));
      const keys = initialKeys(comparison, this.state.selectedKeys);
      const series = await this.series.fetchForInit(seriesToFetch(comparison, keys.slice(0, INIT_KEYS)));
      rest = seriesToFetch(comparison, keys.slice(INIT_KEYS));
      this.post({ type: 'init', state: { ...this.state, runIds: this.series.shown.runIds }, comparison, series });
      this.initialized = true;
    } finally {
      const pending = this.buffered ?? [];
      this.buffered = null;
      if (this.initialized) for (const n of pending) this.series.onMetrics(n);
    }
    if (this.lineageRef) await this.sendLineage(this.lineageRef, this.series.shown.runIds[0] ?? this.lineageRef);
    await this.series.stream(rest);
  }

  /** runs/compare over the panel's runs, dropping (and reporting) runs that no longer exist. */
  private async compareExisting(client: KeelClient): Promise<RunComparison> {
    if (this.state.runIds.length === 0) return EMPTY_COMPARISON;
    try {
      return await client.call('runs/compare', { runs: this.state.runIds });
    } catch (err) {
      if (!(err instanceof RpcError) || err.code !== ErrorCode.NotFound) throw err;
    }
    const exists = await Promise.all(this.state.runIds.map((id) => client.call('runs/get', { run: id }).then(() => true, () => false)));
    const gone = this.state.runIds.filter((_, i) => !exists[i]);
    this.state = { ...this.state, runIds: this.state.runIds.filter((_, i) => exists[i]) };
    if (gone.length) this.services.log.info(`compare panel: runs no longer tracked: ${gone.join(', ')}`);
    if (this.state.runIds.length === 0) return EMPTY_COMPARISON;
    return client.call('runs/compare', { runs: this.state.runIds });
  }

  private async sendLineage(ref: string, runId: string): Promise<void> {
    const client = await this.services.client();
    const graph = await client.call('lineage/get', { ref, depth: 10 }).catch((err: unknown) => {
      if (err instanceof RpcError && err.code === ErrorCode.NotFound) return null;
      throw err;
    });
    this.post({ type: 'lineage', runId, graph });
  }

  private onMetrics(n: NotificationOf['metrics']): void {
    if (this.buffered) {
      if (this.buffered.length < MAX_BUFFERED) this.buffered.push(n);
      return;
    }
    if (this.initialized) this.series.onMetrics(n);
  }

  private onRunChange(n: NotificationOf['runs']): void {
    if (!this.initialized) return;
    if (this.series.shown.hasRun(n.runId)) void this.refreshRun(n.runId);
    // Evals of a run's checkpoints arrive when *another* run (the eval job) ends.
    if (isTerminal(n.status)) this.scheduleComparison();
  }

  private async refreshRun(runId: string): Promise<void> {
    const client = this.services.connected;
    if (!client) return;
    try {
      const { run } = await client.call('runs/get', { run: runId });
      this.post({ type: 'runUpdate', run });
    } catch (err) {
      if (err instanceof RpcError && err.code === ErrorCode.NotFound) this.removeRun(runId);
    }
  }

  private removeRun(runId: string): void {
    if (!this.series.shown.hasRun(runId)) return;
    this.series.shown.removeRun(runId);
    this.state = { ...this.state, runIds: this.state.runIds.filter((id) => id !== runId) };
    this.post({ type: 'runRemoved', runId });
    this.scheduleComparison();
  }

  private scheduleComparison(): void {
    clearTimeout(this.comparisonTimer);
    this.comparisonTimer = setTimeout(() => void this.sendComparison(), COMPARISON_DEBOUNCE_MS);
  }

  private async sendComparison(): Promise<void> {
    const client = this.services.connected;
    if (!client || this.isDisposed || this.state.runIds.length === 0) return;
    try {
      const before = [...this.state.runIds];
      const comparison = await this.compareExisting(client);
      for (const id of before) if (!this.state.runIds.includes(id)) this.removeRun(id);
      this.post({ type: 'comparison', comparison });
    } catch (err) {
      this.services.log.warn(`compare panel: refreshing the comparison failed: ${(err as Error).message}`);
    }
  }

  /** After a reconnect (the daemon restarted): the comparison and every shown curve again. */
  private async resync(_client: KeelClient): Promise<void> {
    if (!this.initialized || this.isDisposed) return;
    await this.sendComparison();
    await this.refetchCurves(() => true);
  }

  /** Fetches the shown curves of some runs again (each replaces its curve in the webview). */
  private async refetchCurves(ofRun: (runId: string) => boolean): Promise<void> {
    if (!this.initialized || this.isDisposed) return;
    const shown = this.series.shown;
    const pairs = shown.runIds.filter(ofRun).flatMap((runId) => [...shown.keys()].filter((k) => shown.shows(runId, k)).map((key) => ({ runId, key })));
    await this.series.stream(pairs);
  }
}

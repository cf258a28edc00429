/**
 * One compare panel: a webview showing some runs. The init (comparison, the most relevant
 * key's curves) is fetched while VS Code makes the webview; when it is ready in time it goes
 * in the page itself (html.ts), so the webview draws the first chart without a round trip
 * and says `ready` with `embeddedInit`. Otherwise the webview says `ready` and gets one
 * `init`. Then the other keys' curves as `series`, then only deltas: `seriesAppend` from
 * live metric notifications, `runUpdate` when a run changes, `comparison` when runs finish
 * (evals arrive), `runRemoved` when a run is gone, `series` after a zoom or a reconnect,
 * `lineage` on request (and right after init in a lineage view, focused on its record).
 */
import * as vscode from 'vscode';
import type { KeelClient } from '../../../daemon/src/client/client.ts';
import { ErrorCode, RpcError, isTerminal, isWebviewToHost, packMessage } from '../../../daemon/src/protocol/index.ts';
import type { ComparePanelState, HostToWebview, LineageGraph, NotificationOf, RunComparison, SeriesPayload, WebviewToHost } from '../../../daemon/src/protocol/index.ts';
import { Disposables } from '../disposables.ts';
import { runOfRow } from '../runs/run-deltas.ts';
import { describeError } from '../errors.ts';
import type { KeelServices } from '../services.ts';
import { openConfigDiff } from './config-diff.ts';
import { buildPanelHtml, makeNonce } from './html.ts';
import { curvePoints, firstPaintPoints, INIT_KEYS, initialKeys, seriesToFetch } from './keys.ts';
import { openLineagePath, PanelLineage } from './lineage-host.ts';
import { SeriesLoader } from './series-loader.ts';
import { parsePanelState } from './state.ts';
import { compareTitle } from './title.ts';

/** The webview panel type, also the serializer's id (`onWebviewPanel:keel.compare`). */
export const COMPARE_VIEW_TYPE = 'keel.compare';

/** How long to gather run changes before re-sending the comparison. */
const COMPARISON_DEBOUNCE_MS = 1_500;
/** What a panel whose runs are all gone (or a lineage view of a record no run used) shows. */
const EMPTY_COMPARISON: RunComparison = { runs: [], params: { differ: [], equal: 0, equalParams: {} }, metrics: [], evals: [] };
/**
 * How long the other curves wait for the webview to say it drew its first chart: they are
 * sent after it, so the first paint neither shares the wire with them nor waits behind
 * their redraws, and never later than this.
 */
const PAINT_WAIT_MS = 1_500;
/**
 * How long the page waits for the prefetched init to put it in the HTML. VS Code spends
 * 300–400 ms making the webview before any page can start, and the init takes 50–150 ms for
 * 10 runs: the wait is hidden. A slower init (a hundred runs, a busy daemon) lets the page
 * go without it, so the bundle loads meanwhile and `ready` picks the init up.
 */
export const EMBED_WAIT_MS = 400;
/** Notifications kept while init is built (a bulk import could send thousands). */
const MAX_BUFFERED = 2_000;

/** What `init` carries, and the curves to stream after it (first the init's own again, at full resolution, when it carried them thinned). */
interface PreparedInit {
  comparison: RunComparison;
  series: SeriesPayload[];
  rest: { runId: string; key: string }[];
}

/** Webview options every compare panel uses: scripts on, only dist/ readable. */
export function panelOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return { enableScripts: true, retainContextWhenHidden: false, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist')] };
}

export class ComparePanel extends Disposables {
  /** EMBED_WAIT_MS; a test on a loaded machine waits longer so the page surely carries the init. */
  static embedWaitMs = EMBED_WAIT_MS;
  readonly panel: vscode.WebviewPanel;
  private readonly services: KeelServices;
  private state: ComparePanelState;
  private readonly series: SeriesLoader;
  /** The record a lineage view shows, and the paths its graphs name. */
  private readonly lineage: PanelLineage;
  /** The init fetched while the webview loads (dropped when a run changes meanwhile). */
  private prefetched: Promise<PreparedInit> | null = null;
  /** Metric notifications that arrive while init is being built; replayed after it. */
  private buffered: NotificationOf['metrics'][] | null = null;
  private initialized = false;
  private comparisonTimer: NodeJS.Timeout | undefined;
  /** When the panel was made (the log says how long its first init took from there). */
  private openedAt = 0;
  /** Resolves the wait for the webview's `painted` after an init. */
  private painted: (() => void) | null = null;
  /** The webview said `painted` since the last init (it may, before `ready`, for an embedded init). */
  private sawPainted = false;
  /** The init the page's HTML carries, until the webview says it drew it (`ready` with `embeddedInit`). */
  private embedded: PreparedInit | null = null;
  /** Wall-clock times (epoch ms) of the first load's steps, logged once it paints: the bench sets them beside the webview's marks. */
  private readonly timeline: Record<string, number> = { created: Date.now() };
  /** The page's HTML; `plainHtml` is the same without an init (what a re-shown webview loads). */
  private readonly plainHtml: string;

  constructor(services: KeelServices, panel: vscode.WebviewPanel, state: ComparePanelState, lineage?: LineageGraph) {
    super();
    this.services = services;
    this.panel = panel;
    this.state = state;
    this.lineage = new PanelLineage(lineage);
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
    const page = { cspSource: panel.webview.cspSource, scriptUri: asset('webview.js'), styleUri: asset('webview.css'), nonce: makeNonce(), title: panel.title };
    this.plainHtml = buildPanelHtml(page);
    this.register(panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m)));
    this.register(panel.onDidDispose(() => this.dispose()));
    // Without retainContextWhenHidden a hidden webview is gone: it says `ready` again when shown,
    // from a page without the first init (that one is old by then).
    this.register(panel.onDidChangeViewState((e) => {
      if (e.webviewPanel.visible) return;
      this.initialized = false;
      this.embedded = null;
      if (panel.webview.html !== this.plainHtml) panel.webview.html = this.plainHtml;
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
    // The daemon works while the webview loads its bundle: `ready` then finds the init built.
    this.openedAt = performance.now();
    const prefetched = this.prepareInit();
    this.prefetched = prefetched;
    prefetched.catch(() => undefined); // its failure is reported when `ready` awaits it
    void this.writePage(prefetched, (init) => buildPanelHtml({ ...page, init: packMessage(this.initMessage(init)) }));
  }

  /**
   * Sets the page once the prefetched init is there (in it), or after EMBED_WAIT_MS (without:
   * the webview asks with `ready`). A run that changed meanwhile makes the prefetch stale: the
   * page goes out without it.
   */
  private async writePage(prefetched: Promise<PreparedInit>, withInit: (init: PreparedInit) => string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const init = await Promise.race([
      prefetched.catch(() => null),
      new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), ComparePanel.embedWaitMs); }),
    ]);
    clearTimeout(timer);
    if (this.isDisposed) return;
    if (init && this.prefetched === prefetched) {
      this.prefetched = null;
      this.embedded = init;
      this.sawPainted = false;
      this.panel.webview.html = withInit(init);
      this.services.log.info(`compare panel: page with init (${init.comparison.runs.length} runs, ${init.series.length} curves) set ${Math.round(performance.now() - this.openedAt)} ms after the panel opened`);
    } else {
      this.panel.webview.html = this.plainHtml;
    }
    this.timeline.html ??= Date.now();
  }

  /** The `init` message of a prepared init. */
  private initMessage(init: PreparedInit): HostToWebview {
    return { type: 'init', state: { ...this.state, runIds: init.comparison.runs.map((r) => r.id) }, comparison: init.comparison, series: init.series };
  }

  get runIds(): readonly string[] {
    return this.state.runIds;
  }

  private post(message: HostToWebview): void {
    // Curves go in columns (series-pack.ts): the first chart waits on every hop parsing them.
    if (!this.isDisposed) void this.panel.webview.postMessage(packMessage(message));
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
      case 'ready': {
        this.timeline.ready ??= Date.now();
        // The page's init is drawn: it counts as sent. A page from before a run changed (or a
        // re-shown one) gets a fresh init, which replaces what it drew.
        const embedded = m.embeddedInit === true ? this.embedded : null;
        this.embedded = null;
        return this.sendInit(embedded);
      }
      case 'painted':
        if (this.timeline.painted === undefined) {
          this.timeline.painted = Date.now();
          this.services.log.info(`compare panel: timeline ${JSON.stringify(this.timeline)}`);
        }
        this.sawPainted = true;
        this.painted?.();
        return;
      case 'requestSeries':
        return this.series.load(m.runId, m.key, m.maxPoints, { ...(m.fromStep !== undefined ? { fromStep: m.fromStep } : {}), ...(m.toStep !== undefined ? { toStep: m.toStep } : {}) });
      case 'openConfigDiff':
        return openConfigDiff(this.services, m.leftRunId, m.rightRunId, m.key);
      case 'openRun':
        await vscode.commands.executeCommand('keel.openRun', m.runId);
        return;
      case 'requestLineage':
        this.post(await this.lineage.forRun((ref) => this.fetchGraph(ref), m.runId));
        return;
      case 'openPath':
        // Only paths of graphs this panel was sent: a message never opens an arbitrary file.
        if (this.lineage.knows(m.path)) await openLineagePath(m.path);
        else this.services.log.warn(`compare panel: ignored openPath for a path no graph named: ${m.path}`);
        return;
      case 'showLineage':
        await vscode.commands.executeCommand('keel.showLineage', m.ref);
        return;
      case 'stateChanged': {
        // The webview keeps its state with setState (the serializer gets it); the host keeps a
        // copy for the next init, but the runs shown are the host's to decide.
        const state = parsePanelState(m.state);
        if (state) this.state = { ...state, runIds: this.state.runIds };
        return;
      }
    }
  }

  /** Points per curve the daemon downsamples to: `keel.compare.maxPoints`, shared out when many runs are shown. */
  private maxPoints(): number {
    const n = vscode.workspace.getConfiguration('keel.compare').get<number>('maxPoints', 2000);
    return curvePoints(Number.isInteger(n) && n >= 2 ? Math.min(n, 1_000_000) : 2000, this.state.runIds.length);
  }

  private async fetchSeries(runId: string, key: string, maxPoints: number, range?: { fromStep?: number; toStep?: number }): Promise<SeriesPayload> {
    const client = await this.services.client();
    const r = await client.call('metrics/get', { run: runId, key, maxPoints: Math.max(2, Math.min(maxPoints, 1_000_000)), ...range });
    return { runId, key, points: r.points, total: r.total, downsampled: r.downsampled };
  }

  /** The comparison and the first curves, fetched while the webview loads (no vscode UI touched). */
  private async prepareInit(): Promise<PreparedInit> {
    this.buffered ??= [];
    const t0 = performance.now();
    const client = await this.services.client();
    const comparison = await this.compareExisting(client);
    const t1 = performance.now();
    const keys = initialKeys(comparison, this.state.selectedKeys);
    // A lineage view draws its graph first; its curves can follow.
    const first = this.state.section === 'lineage' ? 0 : INIT_KEYS;
    const full = this.maxPoints();
    const coarse = firstPaintPoints(full, this.state.runIds.length);
    const series = await this.series.fetchForInit(seriesToFetch(comparison, keys.slice(0, first)), coarse);
    // Curves thinned for the first paint come again at full resolution, first in the stream.
    const refine = coarse < full ? series.filter((s) => s.downsampled).map(({ runId, key }) => ({ runId, key })) : [];
    this.services.log.info(`compare panel: runs/compare ${Math.round(t1 - t0)} ms, first curves ${Math.round(performance.now() - t1)} ms`);
    return { comparison, series, rest: [...refine, ...seriesToFetch(comparison, keys.slice(first))] };
  }

  /** Sends the init (or, `embedded`, takes the one the page carried as sent), then the other curves. */
  private async sendInit(embedded: PreparedInit | null = null): Promise<void> {
    this.buffered ??= [];
    this.initialized = false;
    const t0 = performance.now();
    let rest: { runId: string; key: string }[] = [];
    try {
      let init = embedded;
      if (!init) {
        const pending = this.prefetched ?? this.prepareInit();
        this.prefetched = null;
        init = await pending;
      }
      const { comparison } = init;
      rest = init.rest;
      this.series.adopt(comparison.runs.map((r) => r.id), init.series);
      // A restored "Lineage: …" panel keeps its title; a compare panel follows its runs.
      if (!this.lineage.ref && /^(Compare|Run)\b/.test(this.panel.title)) this.panel.title = compareTitle(comparison.runs.map((r) => r.name));
      if (!embedded) {
        this.sawPainted = false;
        this.post(this.initMessage(init));
      }
      this.initialized = true;
      const now = performance.now();
      const what = `init (${comparison.runs.length} runs, ${init.series.length} curves)`;
      this.services.log.info(embedded
        ? `compare panel: ${what} drawn from the page, ready ${Math.round(now - this.openedAt)} ms after the panel opened`
        : `compare panel: ${what} sent ${Math.round(now - t0)} ms after ready, ${Math.round(now - this.openedAt)} ms after the panel opened`);
    } finally {
      const held = this.buffered ?? [];
      this.buffered = null;
      if (this.initialized) for (const n of held) this.series.onMetrics(n);
    }
    const lineage = await this.lineage.afterInit((ref) => this.fetchGraph(ref), this.series.shown.runIds[0]);
    if (lineage) this.post(lineage);
    if (this.initialized && rest.length > 0) await this.firstPaint();
    await this.series.stream(rest);
  }

  /** Resolves when the webview drew its first chart after init, or after PAINT_WAIT_MS. */
  private firstPaint(): Promise<void> {
    if (this.sawPainted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.painted === done) this.painted = null;
        resolve();
      };
      const timer = setTimeout(done, PAINT_WAIT_MS);
      this.painted = done;
    });
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

  private async fetchGraph(ref: string): Promise<LineageGraph | null> {
    const client = await this.services.client();
    return client.call('lineage/get', { ref, depth: 10 }).catch((err: unknown) => {
      if (err instanceof RpcError && err.code === ErrorCode.NotFound) return null;
      throw err;
    });
  }

  private onMetrics(n: NotificationOf['metrics']): void {
    if (this.buffered) {
      if (this.buffered.length < MAX_BUFFERED) this.buffered.push(n);
      return;
    }
    if (this.initialized) this.series.onMetrics(n);
  }

  private onRunChange(n: NotificationOf['runs']): void {
    // A comparison fetched before this change is stale: `ready` fetches a fresh one.
    if (!this.initialized) {
      this.prefetched = null;
      this.embedded = null;
      return;
    }
    if (this.series.shown.hasRun(n.runId)) {
      // The row the notification carries is the run as it is now: no runs/get (an older daemon sends none).
      if (n.deleted) this.removeRun(n.runId);
      else if (n.run) this.post({ type: 'runUpdate', run: runOfRow(n.run) });
      else void this.refreshRun(n.runId);
    }
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

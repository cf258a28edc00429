/**
 * The run list shared by the Runs view, the status bar and the pickers: this workspace's
 * projects' active runs plus the latest ended ones (a page at a time: `loadMore`), read in
 * full on every reconnect and when the workspace's projects change, and otherwise kept up to
 * date from the rows `runs` notifications carry (run-deltas.ts) without asking the daemon.
 * Never polled. The view can be narrowed to the runs of one config file (the CodeLens's "N
 * runs"); the counts stay global. A daemon whose notifications carry no row gets the old
 * treatment: the list is read again (debounced) on each.
 */
import * as vscode from 'vscode';
import type { NotificationOf, RunSummary } from '../../../daemon/src/protocol/index.ts';
import { Coalescer, Debouncer } from '../debounce.ts';
import { Disposables } from '../disposables.ts';
import type { WorkspaceProjects } from '../project/workspace-projects.ts';
import type { KeelServices } from '../services.ts';
import { ActiveStatuses, countRuns, groupRuns, type RunCounts, type RunGroup } from './grouping.ts';
import { applyRunDelta, replayDeltas } from './run-deltas.ts';

/** Ended runs read at a time (the first page, and each "Load more"). */
const RECENT_LIMIT = 50;
/** At most this many runs of one config are shown when the view is narrowed to it. */
const CONFIG_LIMIT = 200;
/** Row updates are drawn together, at most this often (a training run updates every ~2 s). */
const DRAW_MS = 250;

/** The view narrowed to the runs of one config file. */
export interface ConfigFilter {
  configPath: string;
  /** How the view names it (workspace-relative). */
  label: string;
  runs: readonly RunSummary[];
}

export class RunsModel extends Disposables {
  private readonly services: KeelServices;
  private readonly projects: WorkspaceProjects;
  private list: readonly RunSummary[] = [];
  private configFilter: ConfigFilter | null = null;
  private loadedOnce = false;
  /** The next page of ended runs, per project scope (undefined: every project); null when read to the end. */
  private readonly cursors = new Map<string | undefined, string | null>();
  /** Ended runs shown: one page more for each "Load more". */
  private recentShown = RECENT_LIMIT;
  /** False until a `runs` notification brings a row (a daemon that sends none needs full reads). */
  private rowsFromDaemon = false;
  /** Notifications that arrived while a full read was under way (replayed on its answer); null when none is. */
  private arrivedDuringRead: NotificationOf['runs'][] | null = null;
  private readonly debouncer = this.register(new Debouncer(300, () => void this.refresh()));
  private readonly drawer = this.register(new Coalescer(DRAW_MS, () => this.changeEmitter.fire()));
  private readonly changeEmitter = this.register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.changeEmitter.event;

  constructor(services: KeelServices, projects: WorkspaceProjects) {
    super();
    this.services = services;
    this.projects = projects;
    this.register(services.onNotification('runs', (n) => this.applyNotification(n)));
    // A run's alert count comes with its row; a daemon without rows is asked again.
    this.register(services.onNotification('alerts', () => { if (!this.rowsFromDaemon) this.debouncer.schedule(); }));
    this.register(services.onDidConnect(() => this.debouncer.schedule()));
    this.register(projects.onDidChange(() => this.debouncer.schedule()));
  }

  get loaded(): boolean {
    return this.loadedOnce;
  }

  get runs(): readonly RunSummary[] {
    return this.list;
  }

  /** True while older ended runs remain to be read (`loadMore`). */
  get hasMore(): boolean {
    return [...this.cursors.values()].some((c) => c !== null);
  }

  /** The groups the view shows: every run, or the filtered config's runs (with their eval runs). */
  groups(): RunGroup[] {
    if (!this.configFilter) return groupRuns(this.list, this.recentShown);
    const ids = new Set(this.configFilter.runs.map((r) => r.id));
    const evals = this.list.filter((r) => r.parentRunId && ids.has(r.parentRunId) && r.kind === 'eval');
    return groupRuns([...this.configFilter.runs, ...evals], CONFIG_LIMIT);
  }

  /** The config the view is narrowed to, if any. */
  get filter(): ConfigFilter | null {
    return this.configFilter;
  }

  /** Narrows the view to the runs of `configPath` (any version of the file). */
  async filterByConfig(configPath: string, label: string): Promise<void> {
    const client = await this.services.client();
    const { runs } = await client.call('runs/list', { config: configPath, limit: CONFIG_LIMIT });
    this.configFilter = { configPath, label, runs };
    void vscode.commands.executeCommand('setContext', 'keel.state.runsFiltered', true);
    this.changeEmitter.fire();
  }

  /** Shows every run again. */
  clearFilter(): void {
    if (!this.configFilter) return;
    this.configFilter = null;
    void vscode.commands.executeCommand('setContext', 'keel.state.runsFiltered', false);
    this.changeEmitter.fire();
  }

  counts(): RunCounts {
    return countRuns(this.list);
  }

  find(runId: string): RunSummary | undefined {
    return this.list.find((r) => r.id === runId) ?? this.configFilter?.runs.find((r) => r.id === runId);
  }

  /** Soon (debounced): for bursts of notifications. */
  refreshSoon(): void {
    this.debouncer.schedule();
  }

  /** The scopes the list covers: this workspace's projects once they are known, else everything the daemon has. */
  private scopes(): (string | undefined)[] {
    const scopes: (string | undefined)[] = this.projects.projects().map((p) => p.id);
    return scopes.length === 0 ? [undefined] : scopes;
  }

  /** A row the list does not hold yet belongs in it when its project is one of the list's scopes. */
  private inScope(row: RunSummary): boolean {
    const scopes = this.scopes();
    return scopes.includes(undefined) || (row.projectId !== null && scopes.includes(row.projectId));
  }

  /** Applies a `runs` notification's row; reads everything again only for a daemon that sends none. */
  private applyNotification(n: NotificationOf['runs']): void {
    if (!n.deleted && !n.run) {
      this.rowsFromDaemon = false;
      this.debouncer.schedule();
      return;
    }
    if (n.run) this.rowsFromDaemon = true;
    this.arrivedDuringRead?.push(n);
    const next = applyRunDelta(this.list, n, (row) => this.inScope(row));
    let changed = next !== this.list;
    this.list = next;
    const filter = this.configFilter;
    if (filter) {
      // A new run of the filtered file shares a config record with one shown (a new version of the file shows on the next full read).
      const configs = new Set(filter.runs.map((r) => r.configId));
      const runs = applyRunDelta(filter.runs, n, (row) => row.configId !== null && configs.has(row.configId));
      if (runs !== filter.runs) {
        this.configFilter = { ...filter, runs };
        changed = true;
      }
    }
    if (changed) this.drawer.schedule();
  }

  /** Reads the next page of ended runs (the Runs view's "Load more"). */
  async loadMore(): Promise<void> {
    const client = this.services.connected ?? await this.services.client();
    const pages = await Promise.all([...this.cursors].filter(([, cursor]) => cursor !== null).map(async ([project, cursor]) => {
      const page = await client.call('runs/list', { ...(project ? { project } : {}), limit: RECENT_LIMIT, ...(cursor ? { cursor } : {}) });
      return { project, page };
    }));
    const byId = new Map(this.list.map((r) => [r.id, r]));
    for (const { project, page } of pages) {
      this.cursors.set(project, page.nextCursor ?? null);
      for (const r of page.runs) if (!byId.has(r.id)) byId.set(r.id, r);
    }
    this.list = [...byId.values()];
    this.recentShown += RECENT_LIMIT;
    this.changeEmitter.fire();
  }

  /** Re-reads the list now (only if connected: the views never start the daemon by themselves). */
  async refresh(): Promise<void> {
    const client = this.services.connected;
    if (!client) return;
    const scopes = this.scopes();
    const arrived: NotificationOf['runs'][] = [];
    this.arrivedDuringRead = arrived;
    try {
      const parts = await Promise.all(scopes.map(async (project) => {
        const [active, recent] = await Promise.all([
          client.call('runs/list', { ...(project ? { project } : {}), statuses: ['queued', ...ActiveStatuses] }),
          client.call('runs/list', { ...(project ? { project } : {}), limit: Math.min(this.recentShown, 10_000) }),
        ]);
        return { project, runs: [...active.runs, ...recent.runs], next: recent.nextCursor ?? null };
      }));
      const filter = this.configFilter;
      const filtered = filter ? (await client.call('runs/list', { config: filter.configPath, limit: CONFIG_LIMIT })).runs : null;
      if (this.arrivedDuringRead !== arrived) return; // a newer read took over
      this.list = replayDeltas([...new Map(parts.flatMap((p) => p.runs).map((r) => [r.id, r])).values()], arrived, (row) => this.inScope(row));
      this.cursors.clear();
      for (const p of parts) this.cursors.set(p.project, p.next);
      if (filter && filtered && this.configFilter?.configPath === filter.configPath) {
        const configs = new Set(filtered.map((r) => r.configId));
        this.configFilter = { ...this.configFilter, runs: replayDeltas(filtered, arrived, (row) => row.configId !== null && configs.has(row.configId)) };
      }
      this.loadedOnce = true;
      this.changeEmitter.fire();
    } catch (err) {
      this.services.log.warn(`refreshing runs failed: ${(err as Error).message}`);
    } finally {
      if (this.arrivedDuringRead === arrived) this.arrivedDuringRead = null;
    }
  }
}

/**
 * The run list shared by the Runs view, the status bar and the pickers: this workspace's
 * projects' active runs plus the latest ended ones, refreshed (debounced) when the daemon
 * says runs or alerts changed, and on every reconnect. Never polled. The view can be narrowed
 * to the runs of one config file (the CodeLens's "N runs"); the counts stay global.
 */
import * as vscode from 'vscode';
import type { RunSummary } from '../../../daemon/src/protocol/index.ts';
import { Debouncer } from '../debounce.ts';
import { Disposables } from '../disposables.ts';
import type { WorkspaceProjects } from '../project/workspace-projects.ts';
import type { KeelServices } from '../services.ts';
import { ActiveStatuses, countRuns, groupRuns, type RunCounts, type RunGroup } from './grouping.ts';

const RECENT_LIMIT = 50;
/** At most this many runs of one config are shown when the view is narrowed to it. */
const CONFIG_LIMIT = 200;

/** The view narrowed to the runs of one config file. */
export interface ConfigFilter {
  configPath: string;
  /** How the view names it (workspace-relative). */
  label: string;
  runs: RunSummary[];
}

export class RunsModel extends Disposables {
  private readonly services: KeelServices;
  private readonly projects: WorkspaceProjects;
  private list: RunSummary[] = [];
  private configFilter: ConfigFilter | null = null;
  private loadedOnce = false;
  private readonly debouncer = this.register(new Debouncer(300, () => void this.refresh()));
  private readonly changeEmitter = this.register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.changeEmitter.event;

  constructor(services: KeelServices, projects: WorkspaceProjects) {
    super();
    this.services = services;
    this.projects = projects;
    this.register(services.onNotification('runs', () => this.debouncer.schedule()));
    this.register(services.onNotification('alerts', () => this.debouncer.schedule()));
    this.register(services.onDidConnect(() => this.debouncer.schedule()));
    this.register(projects.onDidChange(() => this.debouncer.schedule()));
  }

  get loaded(): boolean {
    return this.loadedOnce;
  }

  get runs(): readonly RunSummary[] {
    return this.list;
  }

  /** The groups the view shows: every run, or the filtered config's runs (with their eval runs). */
  groups(): RunGroup[] {
    if (!this.configFilter) return groupRuns(this.list, RECENT_LIMIT);
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

  /** Re-reads the list now (only if connected: the views never start the daemon by themselves). */
  async refresh(): Promise<void> {
    const client = this.services.connected;
    if (!client) return;
    // Only this workspace's projects, once they are known; otherwise everything the daemon has.
    const scopes: (string | undefined)[] = this.projects.projects().map((p) => p.id);
    if (scopes.length === 0) scopes.push(undefined);
    try {
      const parts = await Promise.all(scopes.flatMap((project) => [
        client.call('runs/list', { ...(project ? { project } : {}), statuses: ['queued', ...ActiveStatuses] }),
        client.call('runs/list', { ...(project ? { project } : {}), limit: RECENT_LIMIT }),
      ]));
      this.list = [...new Map(parts.flatMap((p) => p.runs).map((r) => [r.id, r])).values()];
      if (this.configFilter) {
        const { configPath, label } = this.configFilter;
        this.configFilter = { configPath, label, runs: (await client.call('runs/list', { config: configPath, limit: CONFIG_LIMIT })).runs };
      }
      this.loadedOnce = true;
      this.changeEmitter.fire();
    } catch (err) {
      this.services.log.warn(`refreshing runs failed: ${(err as Error).message}`);
    }
  }
}

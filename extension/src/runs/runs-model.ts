/**
 * The run list shared by the Runs view, the status bar and the pickers: this workspace's
 * projects' active runs plus the latest ended ones, refreshed (debounced) when the daemon
 * says runs or alerts changed, and on every reconnect. Never polled.
 */
import * as vscode from 'vscode';
import type { RunSummary } from '../../../daemon/src/protocol/index.ts';
import { Debouncer } from '../debounce.ts';
import { Disposables } from '../disposables.ts';
import type { WorkspaceProjects } from '../project/workspace-projects.ts';
import type { KeelServices } from '../services.ts';
import { ActiveStatuses, countRuns, groupRuns, type RunCounts, type RunGroup } from './grouping.ts';

const RECENT_LIMIT = 50;

export class RunsModel extends Disposables {
  private readonly services: KeelServices;
  private readonly projects: WorkspaceProjects;
  private list: RunSummary[] = [];
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

  groups(): RunGroup[] {
    return groupRuns(this.list, RECENT_LIMIT);
  }

  counts(): RunCounts {
    return countRuns(this.list);
  }

  find(runId: string): RunSummary | undefined {
    return this.list.find((r) => r.id === runId);
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
      this.loadedOnce = true;
      this.changeEmitter.fire();
    } catch (err) {
      this.services.log.warn(`refreshing runs failed: ${(err as Error).message}`);
    }
  }
}

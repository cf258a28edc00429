/**
 * The Datasets view: each tracked dataset, its versions (newest first) and each version's
 * profile warnings (duplicates, invalid lines, likely PII). Refreshed when the daemon
 * finishes hashing something or a project changes.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Dataset, DatasetVersion } from '../../../daemon/src/protocol/index.ts';
import { Debouncer } from '../debounce.ts';
import { Disposables } from '../disposables.ts';
import { ago, formatBytes, plural, shortHash } from '../format.ts';
import type { WorkspaceProjects } from '../project/workspace-projects.ts';
import type { KeelServices } from '../services.ts';
import { profileFacts, profileWarnings } from './profile-warnings.ts';

export type DatasetNode =
  | { type: 'dataset'; dataset: Dataset }
  | { type: 'version'; dataset: Dataset; version: DatasetVersion; latest: boolean; warnings: string[] }
  | { type: 'warning'; text: string }
  | { type: 'message'; text: string };

export class DatasetsView extends Disposables implements vscode.TreeDataProvider<DatasetNode> {
  private readonly services: KeelServices;
  private readonly projects: WorkspaceProjects;
  private datasets: Dataset[] = [];
  private readonly versions = new Map<string, Promise<DatasetVersion[]>>();
  private readonly emitter = this.register(new vscode.EventEmitter<DatasetNode | undefined>());
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly debouncer = this.register(new Debouncer(500, () => void this.refresh()));

  constructor(services: KeelServices, projects: WorkspaceProjects) {
    super();
    this.services = services;
    this.projects = projects;
    this.register(vscode.window.createTreeView('keel.datasets', { treeDataProvider: this }));
    this.register(services.onNotification('progress', (p) => { if (p.finished) this.debouncer.schedule(); }));
    this.register(services.onNotification('projects', () => this.debouncer.schedule()));
    this.register(services.onDidConnect(() => this.debouncer.schedule()));
    this.register(projects.onDidChange(() => this.debouncer.schedule()));
  }

  async refresh(): Promise<void> {
    const client = this.services.connected;
    if (!client) return;
    const ids = this.projects.projects().map((p) => p.id);
    try {
      const lists = await Promise.all((ids.length ? ids : [undefined]).map((project) => client.call('datasets/list', project ? { project } : {})));
      this.datasets = lists.flatMap((l) => l.datasets).sort((a, b) => a.path.localeCompare(b.path));
      this.versions.clear();
      this.emitter.fire(undefined);
    } catch (err) {
      this.services.log.warn(`refreshing datasets failed: ${(err as Error).message}`);
    }
  }

  async getChildren(node?: DatasetNode): Promise<DatasetNode[]> {
    if (!node) return this.datasets.map((dataset) => ({ type: 'dataset', dataset }));
    if (node.type === 'version') return node.warnings.map((text) => ({ type: 'warning', text }));
    if (node.type !== 'dataset') return [];
    try {
      const versions = await this.versionsOf(node.dataset);
      return versions.map((version, i) => ({ type: 'version', dataset: node.dataset, version, latest: i === 0, warnings: profileWarnings(version.profile) }));
    } catch (err) {
      return [{ type: 'message', text: `Could not load versions: ${(err as Error).message}` }];
    }
  }

  getTreeItem(node: DatasetNode): vscode.TreeItem {
    switch (node.type) {
      case 'dataset': {
        const item = new vscode.TreeItem(node.dataset.path, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `dataset:${node.dataset.id}`;
        item.description = plural(node.dataset.versions, 'version');
        item.iconPath = new vscode.ThemeIcon(node.dataset.kind === 'folder' ? 'folder' : 'database');
        item.contextValue = 'keel.dataset';
        const root = this.projects.projects().find((p) => p.id === node.dataset.projectId)?.root;
        if (root) item.resourceUri = vscode.Uri.file(join(root, node.dataset.path));
        return item;
      }
      case 'version': {
        const { version: v } = node;
        const label = `${shortHash(v.hash)}${node.latest ? ' (latest)' : ''}`;
        const item = new vscode.TreeItem(label, node.warnings.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
        item.id = `dataset-version:${v.id}`;
        item.description = [profileFacts(v.profile), formatBytes(v.sizeBytes), ago(v.createdAt)].filter(Boolean).join(' · ');
        item.tooltip = `${v.hash}\n${plural(v.fileCount, 'file')}${node.warnings.length ? `\n\n${node.warnings.join('\n')}` : ''}`;
        item.iconPath = node.warnings.length ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')) : new vscode.ThemeIcon('versions');
        return item;
      }
      case 'warning': {
        const item = new vscode.TreeItem(node.text);
        item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
        return item;
      }
      case 'message':
        return new vscode.TreeItem(node.text);
    }
  }

  private versionsOf(dataset: Dataset): Promise<DatasetVersion[]> {
    let p = this.versions.get(dataset.id);
    if (!p) {
      p = this.services.client().then((c) => c.call('datasets/show', { ref: dataset.id })).then((r) => [...r.versions].sort((a, b) => b.createdAt - a.createdAt));
      this.versions.set(dataset.id, p);
      p.catch(() => this.versions.delete(dataset.id));
    }
    return p;
  }
}

/**
 * The Models view: each alias (`prod`, `candidate`) with the checkpoint it points at and
 * its history (earlier checkpoints: a rollback is tagging one of them again).
 */
import * as vscode from 'vscode';
import type { ModelAliasInfo } from '../../../daemon/src/protocol/index.ts';
import { Debouncer } from '../debounce.ts';
import { Disposables } from '../disposables.ts';
import { ago, formatBytes } from '../format.ts';
import { checkpointLabel } from '../runs/run-details.ts';
import type { KeelServices } from '../services.ts';

export type ModelNode =
  | { type: 'alias'; model: ModelAliasInfo }
  | { type: 'history'; model: ModelAliasInfo; entry: ModelAliasInfo['history'][number]; index: number };

export class ModelsView extends Disposables implements vscode.TreeDataProvider<ModelNode> {
  private readonly services: KeelServices;
  private models: ModelAliasInfo[] = [];
  private readonly emitter = this.register(new vscode.EventEmitter<ModelNode | undefined>());
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly debouncer = this.register(new Debouncer(500, () => void this.refresh()));

  constructor(services: KeelServices) {
    super();
    this.services = services;
    this.register(vscode.window.createTreeView('keel.models', { treeDataProvider: this }));
    this.register(services.onDidConnect(() => this.debouncer.schedule()));
    this.register(services.onNotification('projects', () => this.debouncer.schedule()));
  }

  async refresh(): Promise<void> {
    const client = this.services.connected;
    if (!client) return;
    try {
      this.models = (await client.call('models/list', {})).models.sort((a, b) => a.alias.localeCompare(b.alias));
      this.emitter.fire(undefined);
    } catch (err) {
      this.services.log.warn(`refreshing models failed: ${(err as Error).message}`);
    }
  }

  getChildren(node?: ModelNode): ModelNode[] {
    if (!node) return this.models.map((model) => ({ type: 'alias', model }));
    if (node.type !== 'alias') return [];
    // Newest first; the first entry is the current target, already shown on the alias.
    const history = [...node.model.history].sort((a, b) => b.at - a.at);
    return history.slice(1).map((entry, index) => ({ type: 'history', model: node.model, entry, index }));
  }

  getTreeItem(node: ModelNode): vscode.TreeItem {
    if (node.type === 'alias') {
      const m = node.model;
      const c = m.checkpoint;
      const item = new vscode.TreeItem(m.alias, m.history.length > 1 ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
      item.id = `model:${m.projectId ?? '-'}:${m.alias}`;
      item.description = c ? `→ ${checkpointLabel(c)} · ${c.kind} · ${formatBytes(c.sizeBytes)} · ${ago(m.updatedAt)}` : '→ (checkpoint gone)';
      item.tooltip = c ? `${c.location}\n${c.hash ?? ''}${c.baseModel ? `\nbase model: ${c.baseModel}` : ''}` : undefined;
      item.iconPath = new vscode.ThemeIcon('tag');
      item.contextValue = 'keel.model';
      return item;
    }
    const e = node.entry;
    const item = new vscode.TreeItem(`was ${e.checkpointId}`);
    item.description = `${ago(e.at)}${e.note ? ` · ${e.note}` : ''}`;
    item.iconPath = new vscode.ThemeIcon('history');
    return item;
  }
}

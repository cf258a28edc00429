/**
 * The Models view: each alias (`prod`, `candidate`) with the checkpoint it points at and the
 * run that made it, and its history (earlier checkpoints: rolling back is tagging one of them
 * again). Rows carry the actions (promote, roll back, show lineage, copy path; a click opens
 * the run). `keel.state.hasCheckpoints` says whether there is anything to tag yet, so the Tag
 * Checkpoint button shows only then.
 */
import * as vscode from 'vscode';
import type { KeelClient } from '../../../daemon/src/client/client.ts';
import { isTerminal, type ModelAliasInfo } from '../../../daemon/src/protocol/index.ts';
import { Debouncer } from '../debounce.ts';
import { Disposables } from '../disposables.ts';
import { ago } from '../format.ts';
import type { RunsModel } from '../runs/runs-model.ts';
import type { KeelServices } from '../services.ts';
import { aliasDescription, aliasTooltip, historyLabel, type CheckpointFacts } from './model-labels.ts';

export type ModelNode =
  | { type: 'alias'; model: ModelAliasInfo; runName: string | null }
  | { type: 'history'; model: ModelAliasInfo; entry: ModelAliasInfo['history'][number]; index: number; facts: CheckpointFacts | null };

/** Recent ended runs looked at (runs/get) to learn whether any checkpoint exists yet. */
const RUNS_PROBED = 10;

export class ModelsView extends Disposables implements vscode.TreeDataProvider<ModelNode> {
  private readonly services: KeelServices;
  private readonly runs: RunsModel;
  private models: ModelAliasInfo[] = [];
  private readonly runNames = new Map<string, string>();
  private readonly facts = new Map<string, CheckpointFacts | null>();
  private hasCheckpoints = false;
  /** What the rows last drawn showed (models and run names), to skip redraws that change nothing. */
  private shown = '';
  private readonly emitter = this.register(new vscode.EventEmitter<ModelNode | undefined>());
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly debouncer = this.register(new Debouncer(500, () => void this.refresh()));

  constructor(services: KeelServices, runs: RunsModel) {
    super();
    this.services = services;
    this.runs = runs;
    const tree = this.register(vscode.window.createTreeView('keel.models', { treeDataProvider: this }));
    // An alias moved by any client (`keel tag` in a terminal, another window) is announced;
    // looking again when the view comes into sight also covers a daemon from before that.
    this.register(services.onNotification('models', () => this.debouncer.schedule()));
    this.register(tree.onDidChangeVisibility((e) => { if (e.visible) this.debouncer.schedule(); }));
    this.register(services.onDidConnect(() => this.debouncer.schedule()));
    this.register(services.onNotification('projects', () => this.debouncer.schedule()));
    // Until a checkpoint exists, each run that ends may bring the first one.
    // (Row updates of running runs change the list every few seconds, a deletion brings no
    // checkpoint: only more ended runs count.)
    let ended = -1;
    this.register(runs.onDidChange(() => {
      const now = runs.runs.filter((r) => isTerminal(r.status)).length;
      if (now > ended && !this.hasCheckpoints) this.debouncer.schedule();
      ended = now;
    }));
  }

  async refresh(): Promise<void> {
    const client = this.services.connected;
    if (!client) return;
    try {
      const models = (await client.call('models/list', {})).models.sort((a, b) => a.alias.localeCompare(b.alias));
      this.models = models;
      await this.loadNames(client);
      this.hasCheckpoints = this.models.length > 0 || (await this.anyCheckpoint(client));
      await vscode.commands.executeCommand('setContext', 'keel.state.hasCheckpoints', this.hasCheckpoints);
      // Redrawn only when something shown changed (the "tagged … ago" texts: once a minute at
      // most): a redraw replaces the rows under the mouse, and a click on a row's inline action
      // mid-redraw can reach its command without the row.
      const shown = JSON.stringify([models, models.map((m) => (m.checkpoint?.runId ? this.runNames.get(m.checkpoint.runId) ?? null : null)), Math.floor(Date.now() / 60_000)]);
      if (shown === this.shown) return;
      this.shown = shown;
      this.facts.clear();
      this.emitter.fire(undefined);
    } catch (err) {
      this.services.log.warn(`refreshing models failed: ${(err as Error).message}`);
    }
  }

  /** The names of the runs that made the aliased checkpoints. */
  private async loadNames(client: KeelClient): Promise<void> {
    const ids = [...new Set(this.models.flatMap((m) => (m.checkpoint?.runId ? [m.checkpoint.runId] : [])))].filter((id) => !this.runNames.has(id));
    await Promise.all(ids.map(async (id) => {
      const known = this.runs.find(id)?.name ?? (await client.call('runs/get', { run: id }).then((d) => d.run.name, () => null));
      if (known) this.runNames.set(id, known);
    }));
  }

  private async anyCheckpoint(client: KeelClient): Promise<boolean> {
    const ended = this.runs.runs.filter((r) => r.status === 'succeeded' || r.status === 'failed' || r.status === 'cancelled').slice(0, RUNS_PROBED);
    for (const r of ended) {
      if ((await client.call('runs/get', { run: r.id }).catch(() => null))?.checkpoints.length) return true;
    }
    return false;
  }

  async getChildren(node?: ModelNode): Promise<ModelNode[]> {
    if (!node) return this.models.map((model) => ({ type: 'alias', model, runName: model.checkpoint?.runId ? this.runNames.get(model.checkpoint.runId) ?? null : null }));
    if (node.type !== 'alias') return [];
    // Newest first; the first entry is the current target, already shown on the alias.
    const history = [...node.model.history].sort((a, b) => b.at - a.at).slice(1);
    const facts = await Promise.all(history.map((e) => this.factsOf(e.checkpointId)));
    return history.map((entry, index) => ({ type: 'history', model: node.model, entry, index, facts: facts[index] ?? null }));
  }

  /** Step, location and run of an earlier checkpoint (lineage/resolve: cheap, cached per refresh). */
  private async factsOf(checkpointId: string): Promise<CheckpointFacts | null> {
    if (this.facts.has(checkpointId)) return this.facts.get(checkpointId) ?? null;
    const client = this.services.connected;
    const node = client ? (await client.call('lineage/resolve', { ref: checkpointId }).catch(() => ({ node: null }))).node : null;
    const runId = typeof node?.details.runId === 'string' ? node.details.runId : null;
    const facts = node ? { location: node.label, step: typeof node.details.step === 'number' ? node.details.step : null, runId, runName: runId ? this.runNames.get(runId) ?? this.runs.find(runId)?.name ?? null : null } : null;
    this.facts.set(checkpointId, facts);
    return facts;
  }

  getTreeItem(node: ModelNode): vscode.TreeItem {
    if (node.type === 'alias') {
      const m = node.model;
      const c = m.checkpoint;
      const item = new vscode.TreeItem(m.alias, m.history.length > 1 ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
      item.id = `model:${m.projectId ?? '-'}:${m.alias}`;
      item.description = aliasDescription(m, node.runName);
      item.tooltip = aliasTooltip(m, node.runName);
      item.iconPath = new vscode.ThemeIcon('tag');
      item.contextValue = m.history.length > 1 ? 'keel.model.withHistory' : 'keel.model';
      if (c?.runId) item.command = { command: 'keel.openRun', title: 'Open Run', arguments: [c.runId, { preserveFocus: true }] };
      return item;
    }
    const item = new vscode.TreeItem(historyLabel(node.entry, node.facts));
    item.id = `model-history:${node.model.alias}:${node.entry.at}:${node.entry.checkpointId}`;
    item.description = `tagged ${ago(node.entry.at)}${node.entry.note ? ` · ${node.entry.note}` : ''}`;
    item.tooltip = node.facts?.location ?? node.entry.checkpointId;
    item.iconPath = new vscode.ThemeIcon('history');
    item.contextValue = 'keel.modelHistory';
    return item;
  }
}

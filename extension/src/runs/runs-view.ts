/**
 * The Runs view: Running / Queued / Recent, live from the RunsModel (or only the runs of one
 * config, when a CodeLens asked), Recent a page at a time ("Load more runs…"); each run expands to its config, datasets, code version,
 * checkpoints, evals and the eval runs Keel made of it (from `runs/get`, cached until the run
 * changes). Alerts show as a badge through a file decoration on the run's node. Relative
 * times ("5 min ago") are redrawn every half minute while the view is visible.
 */
import * as vscode from 'vscode';
import type { RunDetail, RunSummary } from '../../../daemon/src/protocol/index.ts';
import { Disposables } from '../disposables.ts';
import type { KeelServices } from '../services.ts';
import { nestedEvalRuns, type RunGroup } from './grouping.ts';
import { alertBadge, runContextValue, runDescription, runIcon, runTooltip, type IconSpec } from './run-labels.ts';
import { runDetailRows, type DetailRow } from './run-details.ts';
import type { RunsModel } from './runs-model.ts';
import { plural } from '../format.ts';

export type RunsNode =
  | { type: 'group'; group: RunGroup }
  | { type: 'run'; runId: string; run: RunSummary }
  | { type: 'detail'; runId: string; row: DetailRow; path: string; checkpoint?: DetailRow['checkpoint'] }
  | { type: 'message'; text: string }
  /** The last row of Recent while older runs remain: reads the next page. */
  | { type: 'more' };

const RUN_SCHEME = 'keel-run';
/** How often relative times are redrawn while the view is visible. */
const RELABEL_MS = 30_000;

export function themeIcon(spec: IconSpec): vscode.ThemeIcon {
  return new vscode.ThemeIcon(spec.id, spec.color ? new vscode.ThemeColor(spec.color) : undefined);
}

export class RunsView extends Disposables implements vscode.TreeDataProvider<RunsNode>, vscode.FileDecorationProvider {
  private readonly services: KeelServices;
  private readonly model: RunsModel;
  private readonly details = new Map<string, { updatedAt: number; detail: Promise<RunDetail> }>();
  private datasetPaths: Promise<Map<string, string>> | null = null;
  /** The runs the model held at the last change (their ids), to tell row updates from runs coming or going. */
  private shownIds = '';
  private readonly treeEmitter = this.register(new vscode.EventEmitter<RunsNode | undefined>());
  private readonly decorationEmitter = this.register(new vscode.EventEmitter<vscode.Uri[] | undefined>());
  readonly onDidChangeTreeData = this.treeEmitter.event;
  readonly onDidChangeFileDecorations = this.decorationEmitter.event;
  readonly view: vscode.TreeView<RunsNode>;

  constructor(services: KeelServices, model: RunsModel) {
    super();
    this.services = services;
    this.model = model;
    this.view = this.register(vscode.window.createTreeView('keel.runs', { treeDataProvider: this, canSelectMany: true, showCollapseAll: true }));
    this.register(vscode.window.registerFileDecorationProvider(this));
    this.register(model.onDidChange(() => this.changed()));
    this.register(services.onDidConnect(() => { this.datasetPaths = null; }));
    const relabel = setInterval(() => { if (this.view.visible) this.treeEmitter.fire(undefined); }, RELABEL_MS);
    this.register({ dispose: () => clearInterval(relabel) });
  }

  /** Selected run ids (for "Compare" from the view title). */
  selectedRunIds(): string[] {
    return [...new Set(this.view.selection.flatMap((n) => (n.type === 'run' || n.type === 'detail' ? [n.runId] : [])))];
  }

  /** Shows a run in the view, expanded and selected. */
  async reveal(runId: string): Promise<boolean> {
    if (!this.model.find(runId)) await this.model.refresh();
    const run = this.model.find(runId);
    if (!run) return false;
    await this.view.reveal({ type: 'run', runId, run }, { select: true, focus: true, expand: true });
    return true;
  }

  /** What the view shows at the top two levels, as text (for the test-electron suite and logs). */
  snapshot(): { group: string; runs: { id: string; label: string; description: string }[] }[] {
    return this.model.groups().map((g) => ({
      group: g.label,
      runs: g.runs.map((run) => {
        const item = this.runItem(run);
        return { id: run.id, label: typeof item.label === 'string' ? item.label : run.name, description: typeof item.description === 'string' ? item.description : '' };
      }),
    }));
  }

  private changed(): void {
    // Row updates (a training run's new points, several a second) keep what expanded runs show;
    // a run whose record changed is read again, and so are the dataset paths when runs come or go.
    const ids = this.model.runs.map((r) => r.id).join();
    if (ids !== this.shownIds) this.datasetPaths = null;
    this.shownIds = ids;
    for (const [id, cached] of this.details) {
      if (this.model.find(id)?.updatedAt !== cached.updatedAt) {
        this.details.delete(id);
        this.datasetPaths = null;
      }
    }
    this.treeEmitter.fire(undefined);
    this.decorationEmitter.fire(undefined);
    const { running } = this.model.counts();
    this.view.badge = running > 0 ? { value: running, tooltip: `${running} running` } : undefined;
    const filter = this.model.filter;
    this.view.message = filter ? `Runs of ${filter.label} (${filter.runs.length}). "Show All Runs" in the title bar lists every run again.` : undefined;
  }

  getChildren(node?: RunsNode): RunsNode[] | Promise<RunsNode[]> {
    if (!node) return this.model.groups().map((group) => ({ type: 'group', group }));
    if (node.type === 'group') {
      const runs = node.group.runs.map((run): RunsNode => ({ type: 'run', runId: run.id, run }));
      return node.group.kind === 'recent' && this.model.hasMore && !this.model.filter ? [...runs, { type: 'more' }] : runs;
    }
    if (node.type === 'run') return this.runChildren(node.run);
    if (node.type === 'detail') return (node.row.children ?? []).map((row) => this.detailNode(node.runId, row, node.path));
    return [];
  }

  getParent(node: RunsNode): RunsNode | undefined {
    if (node.type !== 'run') return undefined;
    const parentId = node.run.kind === 'eval' ? node.run.parentRunId : null;
    const parent = parentId ? this.model.find(parentId) : undefined;
    if (parent && nestedEvalRuns(this.model.runs, parent.id).some((r) => r.id === node.runId)) return { type: 'run', runId: parent.id, run: parent };
    return this.model.groups().map((group): RunsNode => ({ type: 'group', group })).find((g) => g.type === 'group' && g.group.runs.some((r) => r.id === node.runId));
  }

  /** A run's rows, then the eval runs Keel made of its checkpoints. */
  private async runChildren(run: RunSummary): Promise<RunsNode[]> {
    const evals = nestedEvalRuns(this.model.runs, run.id).map((r): RunsNode => ({ type: 'run', runId: r.id, run: r }));
    return [...(await this.detailNodes(run)), ...evals];
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    switch (node.type) {
      case 'group': {
        const item = new vscode.TreeItem(node.group.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `group:${node.group.kind}`;
        item.description = String(node.group.runs.length);
        item.contextValue = `keel.group.${node.group.kind}`;
        return item;
      }
      case 'run': return this.runItem(node.run);
      case 'detail': return this.detailItem(node);
      case 'message': {
        const item = new vscode.TreeItem(node.text);
        item.iconPath = new vscode.ThemeIcon('info');
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem('Load more runs…');
        item.id = 'more:recent';
        item.tooltip = 'Show older ended runs';
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.command = { command: 'keel.loadMoreRuns', title: 'Load More Runs' };
        return item;
      }
    }
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    if (uri.scheme !== RUN_SCHEME) return undefined;
    const run = this.model.find(uri.path.slice(1));
    const badge = run ? alertBadge(run.alerts) : undefined;
    if (!run || !badge) return undefined;
    return new vscode.FileDecoration(badge, plural(run.alerts, 'alert'), new vscode.ThemeColor('list.warningForeground'));
  }

  private runItem(run: RunSummary): vscode.TreeItem {
    const item = new vscode.TreeItem(run.name, vscode.TreeItemCollapsibleState.Collapsed);
    // A click shows the run page, keeping the focus here so the arrow keys still walk the list.
    item.command = { command: 'keel.openRun', title: 'Open Run', arguments: [run.id, { preserveFocus: true }] };
    item.id = `run:${run.id}`;
    item.resourceUri = vscode.Uri.from({ scheme: RUN_SCHEME, path: `/${run.id}` });
    item.description = runDescription(run);
    item.tooltip = new vscode.MarkdownString(runTooltip(run));
    item.iconPath = themeIcon(runIcon(run));
    item.contextValue = runContextValue(run);
    return item;
  }

  private detailItem(node: Extract<RunsNode, { type: 'detail' }>): vscode.TreeItem {
    const { row } = node;
    const item = new vscode.TreeItem(row.label, row.children?.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = `detail:${node.runId}:${node.path}`;
    if (row.description !== undefined) item.description = row.description;
    if (row.tooltip !== undefined) item.tooltip = row.tooltip;
    item.iconPath = new vscode.ThemeIcon(row.icon);
    if (row.contextValue) item.contextValue = row.contextValue;
    if (row.open) item.command = { command: 'vscode.open', title: 'Open', arguments: [vscode.Uri.file(row.open)] };
    return item;
  }

  private detailNode(runId: string, row: DetailRow, parentPath: string): RunsNode {
    const path = `${parentPath}/${row.key ?? row.label}`;
    return { type: 'detail', runId, row, path, ...(row.checkpoint ? { checkpoint: row.checkpoint } : {}) };
  }

  private async detailNodes(run: RunSummary): Promise<RunsNode[]> {
    const client = this.services.connected;
    if (!client) return [{ type: 'message', text: 'Not connected to the Keel daemon' }];
    let cached = this.details.get(run.id);
    if (!cached || cached.updatedAt !== run.updatedAt) {
      cached = { updatedAt: run.updatedAt, detail: client.call('runs/get', { run: run.id }) };
      this.details.set(run.id, cached);
    }
    try {
      const [detail, paths] = await Promise.all([cached.detail, this.loadDatasetPaths()]);
      return runDetailRows(detail, paths, (p) => vscode.workspace.asRelativePath(p)).map((row) => this.detailNode(run.id, row, ''));
    } catch (err) {
      this.details.delete(run.id);
      return [{ type: 'message', text: `Could not load the run: ${(err as Error).message}` }];
    }
  }

  private loadDatasetPaths(): Promise<Map<string, string>> {
    const client = this.services.connected;
    if (!client) return Promise.resolve(new Map<string, string>());
    this.datasetPaths ??= client.call('datasets/list', {}).then(
      (r) => new Map(r.datasets.map((d): [string, string] => [d.id, d.path])),
      () => new Map<string, string>(),
    );
    return this.datasetPaths;
  }
}

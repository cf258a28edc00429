/**
 * CodeLenses on every config file a keel.yaml names (`configs:` globs), each its own action:
 * `▶ Launch` (the launch wizard on this file), `N runs` (the Runs view narrowed to them) and
 * `best eval_loss 0.2639 (run)` (that run's page). Only matching files get them (VS Code does
 * the matching from the globs); counts come from the daemon when it is connected, in the
 * background, and are refreshed (debounced) when a run appears, changes status or is deleted
 * (a running run's new points leave the best value as it was until the run ends).
 */
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { Disposables } from '../disposables.ts';
import { PROJECT_FILE, readKeelYaml } from '../project/keel-yaml.ts';
import type { KeelServices } from '../services.ts';
import { RunStatusMemory } from '../runs/run-deltas.ts';
import { configStats, lensTitles } from './config-lens.ts';
import type { ConfigStats } from './config-lens.ts';

const REFRESH_DEBOUNCE_MS = 1_000;

export class ConfigLensProvider extends Disposables implements vscode.CodeLensProvider {
  private readonly services: KeelServices;
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly stats = new Map<string, ConfigStats>();
  private readonly loading = new Set<string>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly statuses = new RunStatusMemory();

  constructor(services: KeelServices) {
    super();
    this.services = services;
    // Counts and best values move when a run appears, ends or goes: not on its every ingest.
    this.register(services.onNotification('runs', (n) => { if (this.statuses.classify(n) !== 'row') this.scheduleRefresh(); }));
    this.register(services.onDidConnect(() => { this.statuses.clear(); this.refresh(); }));
    this.register(services.onDidDisconnect(() => this.refresh()));
    this.register({ dispose: () => clearTimeout(this.refreshTimer) });
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!vscode.workspace.getConfiguration('keel.codeLens', document).get<boolean>('enabled', true)) return [];
    const path = document.uri.fsPath;
    const known = this.stats.get(path);
    if (!known) void this.load(path);
    const titles = lensTitles(known ?? {});
    const top = new vscode.Range(0, 0, 0, 0);
    const lenses = [new vscode.CodeLens(top, { title: titles.launch, command: 'keel.launchRun', arguments: [document.uri], tooltip: 'Launch a fine-tune with this config' })];
    if (titles.runs) lenses.push(new vscode.CodeLens(top, { title: titles.runs, command: 'keel.showRunsOfConfig', arguments: [document.uri], tooltip: 'List the runs of this config in the Runs view' }));
    const best = known?.best;
    if (titles.best && best) lenses.push(new vscode.CodeLens(top, { title: titles.best, command: 'keel.openRun', arguments: [best.runId], tooltip: `Open run ${best.runName}: the lowest ${best.metric} among runs of this exact config (no overrides)` }));
    return lenses;
  }

  private async load(path: string): Promise<void> {
    const client = this.services.connected;
    if (!client || this.loading.has(path)) return;
    this.loading.add(path);
    try {
      this.stats.set(path, await configStats(client, path));
      this.changed.fire();
    } catch (err) {
      this.services.log.debug(`config lens for ${path}: ${(err as Error).message}`);
    } finally {
      this.loading.delete(path);
    }
  }

  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.refresh(), REFRESH_DEBOUNCE_MS);
  }

  /** Forgets the counts; VS Code asks again for the visible editors. */
  refresh(): void {
    this.stats.clear();
    this.changed.fire();
  }
}

/** The document filters for every keel.yaml's `configs` globs in the workspace. */
async function configFilters(): Promise<vscode.DocumentFilter[]> {
  const files = await vscode.workspace.findFiles(`**/${PROJECT_FILE}`, '**/{node_modules,.git}/**', 50);
  return files.flatMap((f) => {
    const root = dirname(f.fsPath);
    return readKeelYaml(root).configs.map((glob) => ({ scheme: 'file', pattern: new vscode.RelativePattern(root, glob) }));
  });
}

/**
 * Registers the lens for the config globs of the workspace's keel.yaml files, and registers
 * it again when a keel.yaml changes (its globs may have).
 */
export function registerConfigLens(services: KeelServices): vscode.Disposable[] {
  const provider = new ConfigLensProvider(services);
  let registration: vscode.Disposable | undefined;
  let generation = 0;
  let disposed = false;
  const apply = async (): Promise<void> => {
    const mine = ++generation;
    const filters = await configFilters();
    if (mine !== generation || disposed) return;
    registration?.dispose();
    registration = filters.length ? vscode.languages.registerCodeLensProvider(filters, provider) : undefined;
  };
  const watcher = vscode.workspace.createFileSystemWatcher(`**/${PROJECT_FILE}`);
  const reapply = (): void => void apply().catch((err: unknown) => services.log.warn(`config lens: ${(err as Error).message}`));
  reapply();
  return [
    provider,
    watcher,
    watcher.onDidCreate(reapply),
    watcher.onDidChange(reapply),
    watcher.onDidDelete(reapply),
    vscode.workspace.onDidChangeWorkspaceFolders(reapply),
    { dispose: () => { disposed = true; registration?.dispose(); } },
  ];
}

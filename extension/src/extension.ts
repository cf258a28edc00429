/**
 * The composition root. `activate()` only constructs and registers (views, commands, the
 * status bar, notification listeners) and returns at once; the daemon connection starts on
 * first need: a command, an opened Keel view, or right away when the workspace holds a
 * keel.yaml. Everything created here dies with the extension (one Disposables root).
 */
import * as vscode from 'vscode';
import { activateCompareFeatures } from './compare/index.ts';
import { DaemonConnection } from './connection/daemon-connection.ts';
import { DatasetsView } from './datasets/datasets-view.ts';
import { Disposables } from './disposables.ts';
import { HostsView, registerHostCommands } from './hosts/hosts-view.ts';
import { registerLaunchCommands } from './launch/launch-command.ts';
import { activateLineageFeatures } from './lineage/index.ts';
import { registerModelCommands } from './models/model-commands.ts';
import { ModelsView } from './models/models-view.ts';
import { registerInitCommand } from './project/init-project.ts';
import { registerKeelYamlLanguage } from './project/keel-yaml-language.ts';
import { RunPages } from './run-page/run-page-panel.ts';
import { WorkspaceProjects } from './project/workspace-projects.ts';
import { RunLogTerminals } from './runs/log-terminal.ts';
import { registerRunCommands } from './runs/run-commands.ts';
import { RunNotifications } from './runs/run-notifications.ts';
import { RunsModel } from './runs/runs-model.ts';
import { RunsView } from './runs/runs-view.ts';
import type { KeelServices } from './services.ts';
import { registerKeelCommand } from './show-error.ts';
import { KeelStatusBar } from './status/status-bar.ts';

/** What activate() returns: for the test-electron suite, not a public API. */
export interface KeelTestApi {
  activateMs: number;
  services: KeelServices;
  /** The Runs view's groups and run rows, as shown. */
  runsSnapshot(): ReturnType<RunsView['snapshot']>;
  /** Re-reads runs, hosts, datasets and models now. */
  refresh(): Promise<void>;
  /** Whether a run's log terminal is open. */
  hasLogTerminal(runId: string): boolean;
}

let root: Disposables | undefined;

export function activate(context: vscode.ExtensionContext): KeelTestApi {
  const started = performance.now();
  root?.dispose();
  const r = (root = new Disposables());
  context.subscriptions.push(r);
  const log = r.register(vscode.window.createOutputChannel('Keel', { log: true }));
  const connection = r.register(new DaemonConnection(context, log));
  const projects = r.register(new WorkspaceProjects(connection));
  const model = r.register(new RunsModel(connection, projects));
  const runsView = r.register(new RunsView(connection, model));
  const hostsView = r.register(new HostsView(connection, (id) => model.find(id)?.name));
  const datasetsView = r.register(new DatasetsView(connection, projects));
  const modelsView = r.register(new ModelsView(connection, model));
  const terminals = r.register(new RunLogTerminals(connection));
  const pages = r.register(new RunPages(connection, { services: connection, model }));
  r.register(new KeelStatusBar(connection, model));
  r.register(new RunNotifications(connection, model));

  const refreshAll = async (): Promise<void> => {
    await connection.client();
    await Promise.all([model.refresh(), hostsView.refresh(), datasetsView.refresh(), modelsView.refresh()]);
  };
  const commands = [
    ...registerLaunchCommands({ services: connection, projects, model, terminals }),
    ...registerRunCommands({ services: connection, model, view: runsView, terminals, pages }),
    ...registerHostCommands(connection, hostsView),
    ...registerModelCommands(connection, modelsView),
    registerInitCommand(connection),
    registerKeelCommand('keel.refresh', refreshAll, log, 'Refresh failed'),
    registerKeelCommand('keel.restartDaemon', () => restartDaemon(connection), log, 'Restart failed'),
    registerKeelCommand('keel.showOutput', () => log.show(), log),
    registerKeelCommand('keel.openWalkthrough', () => vscode.commands.executeCommand('workbench.action.openWalkthrough', `${context.extension.id}#keel.gettingStarted`, false), log),
  ];
  for (const c of commands) r.register(c);
  for (const d of activateCompareFeatures(connection)) r.register(d);
  for (const d of activateLineageFeatures(connection)) r.register(d);
  for (const d of registerKeelYamlLanguage(connection)) r.register(d);

  r.register(connection.onDidChangeState((s) => void vscode.commands.executeCommand('setContext', 'keel.state.connected', s.kind === 'connected')));
  // Opening a Keel view is a need: connect then, even without a keel.yaml in the workspace.
  r.register(runsView.view.onDidChangeVisibility((e) => { if (e.visible) connection.warmUp(); }));
  if (projects.roots().length > 0 || runsView.view.visible) connection.warmUp();

  const activateMs = performance.now() - started;
  log.info(`activate took ${activateMs.toFixed(1)} ms`);
  log.info(`extension host: node ${process.version} (N-API ${process.versions.napi ?? '?'}) ${process.execPath}; daemon home ${connection.paths().home}`);
  return {
    activateMs,
    services: connection,
    runsSnapshot: () => runsView.snapshot(),
    refresh: refreshAll,
    hasLogTerminal: (runId) => terminals.has(runId),
  };
}

async function restartDaemon(connection: DaemonConnection): Promise<void> {
  const client = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Keel: restarting the daemon…' },
    () => connection.restartDaemon(),
  );
  const pid = client.initializeResult?.daemon.pid;
  void vscode.window.showInformationMessage(`Keel: daemon restarted${pid ? ` (pid ${pid})` : ''}.`);
}

export function deactivate(): void {
  root?.dispose();
  root = undefined;
}

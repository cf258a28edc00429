/**
 * The Keel projects of this workspace: the workspace folders that hold a keel.yaml. They are
 * registered with the daemon on every (re)connect and when a keel.yaml appears, and the
 * `keel.state.hasProject` context key follows them (the views' welcome text uses it).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { KeelClient } from '../../../daemon/src/client/client.ts';
import type { Project } from '../../../daemon/src/protocol/index.ts';
import { Disposables } from '../disposables.ts';
import { NoProjectError } from '../errors.ts';
import type { KeelServices } from '../services.ts';
import { PROJECT_FILE } from './keel-yaml.ts';

export class WorkspaceProjects extends Disposables {
  private readonly services: KeelServices;
  private readonly registered = new Map<string, Project>();
  private readonly changeEmitter = this.register(new vscode.EventEmitter<void>());
  /** Fires when the set of roots or their registered projects changes. */
  readonly onDidChange = this.changeEmitter.event;

  constructor(services: KeelServices) {
    super();
    this.services = services;
    const watcher = this.register(vscode.workspace.createFileSystemWatcher(`**/${PROJECT_FILE}`, false, true, false));
    this.register(watcher.onDidCreate(() => this.rootsChanged()));
    this.register(watcher.onDidDelete(() => this.rootsChanged()));
    this.register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.rootsChanged()));
    this.register(services.onDidConnect((client) => void this.registerAll(client)));
    void this.updateContext();
  }

  /** Workspace folders (on disk) that hold keel.yaml. */
  roots(): string[] {
    return (vscode.workspace.workspaceFolders ?? [])
      .filter((f) => f.uri.scheme === 'file' && existsSync(join(f.uri.fsPath, PROJECT_FILE)))
      .map((f) => f.uri.fsPath);
  }

  /** Projects registered for this workspace so far. */
  projects(): Project[] {
    return [...this.registered.values()];
  }

  /** The project root a command acts in: the only one, the active editor's, or picked. Throws NoProjectError when there is none. */
  async pickRoot(title: string): Promise<string | undefined> {
    const roots = this.roots();
    if (roots.length === 0) throw new NoProjectError();
    if (roots.length === 1) return roots[0];
    const active = vscode.window.activeTextEditor?.document.uri;
    const folder = active ? vscode.workspace.getWorkspaceFolder(active) : undefined;
    if (folder && roots.includes(folder.uri.fsPath)) return folder.uri.fsPath;
    const picked = await vscode.window.showQuickPick(roots.map((r) => ({ label: vscode.workspace.asRelativePath(r), description: r, root: r })), { title, placeHolder: 'Which project?' });
    return picked?.root;
  }

  private rootsChanged(): void {
    void this.updateContext();
    const client = this.services.connected;
    if (client) void this.registerAll(client);
    else this.changeEmitter.fire();
  }

  private async updateContext(): Promise<void> {
    await vscode.commands.executeCommand('setContext', 'keel.state.hasProject', this.roots().length > 0);
  }

  private async registerAll(client: KeelClient): Promise<void> {
    const roots = this.roots();
    for (const root of [...this.registered.keys()]) if (!roots.includes(root)) this.registered.delete(root);
    for (const root of roots) {
      try {
        const { project, created, warnings } = await client.call('projects/register', { root });
        this.registered.set(root, project);
        this.services.log.info(`${created ? 'registered' : 'updated'} project "${project.name}" (${root})`);
        for (const w of warnings) this.services.log.warn(`keel.yaml: ${w}`);
        for (const e of project.configErrors) this.services.log.warn(`keel.yaml: ${e}`);
      } catch (err) {
        this.services.log.error(`registering ${root} failed: ${(err as Error).message}`);
      }
    }
    this.changeEmitter.fire();
  }
}

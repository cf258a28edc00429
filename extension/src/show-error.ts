/**
 * Errors as VS Code notifications: the message with a next step (errors.ts) and a button
 * per action, and every Keel command wrapped so a failure is shown once, not thrown into
 * VS Code's generic "command failed" toast.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { ActionTitles, describeError, type ErrorAction } from './errors.ts';

const ActionCommands: Record<ErrorAction, () => Thenable<unknown>> = {
  openKeelYaml: () => {
    const folder = (vscode.workspace.workspaceFolders ?? []).find((f) => existsSync(join(f.uri.fsPath, 'keel.yaml')));
    return folder ? vscode.window.showTextDocument(vscode.Uri.joinPath(folder.uri, 'keel.yaml')) : vscode.commands.executeCommand('keel.initProject');
  },
  initProject: () => vscode.commands.executeCommand('keel.initProject'),
  showOutput: () => vscode.commands.executeCommand('keel.showOutput'),
  restartDaemon: () => vscode.commands.executeCommand('keel.restartDaemon'),
  checkHost: () => vscode.commands.executeCommand('keel.checkHost'),
  addHost: () => vscode.commands.executeCommand('keel.addHost'),
  openSettings: () => vscode.commands.executeCommand('workbench.action.openSettings', 'keel.daemon'),
};

/** Shows `err` with its next step; `doing` names what failed ("Launch failed"). */
export async function showError(err: unknown, doing?: string, log?: vscode.LogOutputChannel): Promise<void> {
  const e = describeError(err, doing);
  log?.error(`${e.message}${e.code ? ` [${e.code}]` : ''}`);
  const choice = await vscode.window.showErrorMessage(`Keel: ${e.message}`, ...e.actions.map((a) => ActionTitles[a]));
  const action = e.actions.find((a) => ActionTitles[a] === choice);
  if (action) await ActionCommands[action]();
}

/**
 * Registers a Keel command whose failures are shown with a next step. The static check in
 * contributions.test.ts finds commands by `registerKeelCommand('keel.…'` (and registerCommand).
 */
export function registerKeelCommand(id: string, run: (...args: unknown[]) => unknown, log: vscode.LogOutputChannel, failure = 'Failed'): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await run(...args);
    } catch (err) {
      await showError(err, failure, log);
      return undefined;
    }
  });
}

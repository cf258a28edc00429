/**
 * `Keel: Initialize Project`: the editor's `keel init`. The daemon writes the commented
 * keel.yaml template (unless one exists) and registers the project; we open the file.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { KeelServices } from '../services.ts';
import { registerKeelCommand } from '../show-error.ts';

async function pickFolder(): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  if (folders.length <= 1) return folders[0];
  return vscode.window.showWorkspaceFolderPick({ placeHolder: 'Which folder holds the project?' });
}

async function initProject(services: KeelServices, arg: unknown): Promise<void> {
  const folder = arg instanceof vscode.Uri ? { uri: arg, name: basename(arg.fsPath) } : await pickFolder();
  if (!folder) {
    if (!vscode.workspace.workspaceFolders?.length) void vscode.window.showInformationMessage('Keel: open a folder first; Keel keeps its keel.yaml there.');
    return;
  }
  const name = await vscode.window.showInputBox({ title: 'Keel: Initialize Project', prompt: 'Project name (shown in Keel\'s views)', value: folder.name, validateInput: (v) => (v.trim() ? undefined : 'A name, please') });
  if (name === undefined) return;
  const client = await services.client();
  const r = await client.call('projects/init', { root: folder.uri.fsPath, name: name.trim() });
  await vscode.window.showTextDocument(vscode.Uri.file(r.file));
  const what = r.wroteProjectFile ? 'Wrote keel.yaml and registered' : 'Kept the existing keel.yaml and registered';
  void vscode.window.showInformationMessage(`Keel: ${what} project "${r.project.name}". Edit its globs and train command to match your project.`);
}

export function registerInitCommand(services: KeelServices): vscode.Disposable {
  return registerKeelCommand('keel.initProject', (arg) => initProject(services, arg), services.log, 'Initialize failed');
}

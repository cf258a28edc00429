/**
 * Config diffs in VS Code's native diff editor: a content provider serving each run's
 * effective config (`runs/config`) as a read-only document, and the commands that open it.
 */
import * as vscode from 'vscode';
import type { KeelServices } from '../services.ts';
import { showError } from '../show-error.ts';
import { CONFIG_SCHEME, configDocPath, lineOfParam, runIdOfConfigPath } from './config-uri.ts';
import { pickRuns } from './pick-runs.ts';
import { runIdsFromArgs } from '../runs/run-args.ts';

/** Serves `keel-config:/<runId>/<name>.yaml` from the daemon. */
export class RunConfigDocuments implements vscode.TextDocumentContentProvider {
  private readonly services: KeelServices;

  constructor(services: KeelServices) {
    this.services = services;
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const runId = runIdOfConfigPath(uri.path);
    if (!runId) return `# not a Keel run config: ${uri.toString()}\n`;
    try {
      const client = await this.services.client();
      const { text } = await client.call('runs/config', { run: runId });
      return text ?? `# Keel has no config recorded for run ${runId}\n`;
    } catch (err) {
      return `# could not read the config of run ${runId}: ${(err as Error).message}\n`;
    }
  }
}

/** The URI of a run's config document (needs the run's name and format for a readable tab). */
export async function configUri(services: KeelServices, runId: string): Promise<vscode.Uri> {
  const client = await services.client();
  const [{ run }, { format }] = await Promise.all([client.call('runs/get', { run: runId }), client.call('runs/config', { run: runId })]);
  return vscode.Uri.from({ scheme: CONFIG_SCHEME, path: configDocPath(run.id, run.name, format) });
}

/**
 * Opens the diff editor between two runs' configs, scrolled to `key` when given.
 * Errors are shown to the user, not thrown (this runs from webview messages and commands).
 */
export async function openConfigDiff(services: KeelServices, leftRunId: string, rightRunId: string, key?: string): Promise<void> {
  try {
    const [left, right] = await Promise.all([configUri(services, leftRunId), configUri(services, rightRunId)]);
    const name = (u: vscode.Uri): string => u.path.split('/').pop()?.replace(/\.(yaml|json)$/, '') ?? '';
    const options: vscode.TextDocumentShowOptions = { preview: true, viewColumn: vscode.ViewColumn.One };
    if (key) {
      const doc = await vscode.workspace.openTextDocument(right);
      const line = lineOfParam(doc.getText(), key);
      if (line !== undefined) options.selection = new vscode.Range(line, 0, line, 0);
    }
    await vscode.commands.executeCommand('vscode.diff', left, right, `config: ${name(left)} ↔ ${name(right)}`, options);
  } catch (err) {
    // Called from webview messages too: show the failure here rather than throw into the panel.
    await showError(err, 'Config diff failed', services.log);
  }
}

/** `keel.diffConfigs`: two runs from the arguments (or a picker), their configs side by side. */
export async function diffConfigsCommand(services: KeelServices, args: unknown[]): Promise<void> {
  let ids = runIdsFromArgs(args);
  if (ids.length < 2) ids = (await pickRuns(services, { title: 'Diff the configs of two runs', exactly: 2, preselect: ids })) ?? [];
  const [left, right] = ids;
  if (left && right) await openConfigDiff(services, left, right);
}

/**
 * What the run page's buttons do, with VS Code's own UI: an input box to rename, a pick to
 * choose the run to compare with, the existing Keel commands for the rest (cancel, rerun,
 * logs, lineage, tag, pull), the clipboard, and the effective config in an editor.
 */
import * as vscode from 'vscode';
import type { RunPageAction, RunPageData } from '../../../daemon/src/protocol/index.ts';
import { runDescription } from '../runs/run-labels.ts';
import { renameRun } from '../runs/run-rename.ts';
import type { RunsModel } from '../runs/runs-model.ts';
import type { KeelServices } from '../services.ts';

export interface RunPageActionDeps {
  services: KeelServices;
  model: RunsModel;
  /** Shows another run in the page. */
  openRun(runId: string): Promise<void>;
}

async function compareWith(deps: RunPageActionDeps, runId: string): Promise<void> {
  if (!deps.model.loaded) await deps.model.refresh();
  const others = deps.model.runs.filter((r) => r.id !== runId && r.kind !== 'eval');
  if (others.length === 0) {
    void vscode.window.showInformationMessage('Keel: there is no other run to compare with yet.');
    return;
  }
  const picked = await vscode.window.showQuickPick(others.map((r) => ({ label: r.name, description: runDescription(r), detail: r.id, id: r.id })),
    { title: 'Keel: Compare With…', placeHolder: 'Which run?', matchOnDescription: true, matchOnDetail: true });
  if (picked) await vscode.commands.executeCommand('keel.compareRuns', runId, picked.id);
}

/** The effective config (after overrides) in an editor: the file itself when the run had none. */
async function openConfig(deps: RunPageActionDeps, runId: string): Promise<void> {
  const client = await deps.services.client();
  const r = await client.call('runs/config', { run: runId });
  if (r.text === null) {
    void vscode.window.showInformationMessage('Keel: this run has no recorded config.');
    return;
  }
  const doc = await vscode.workspace.openTextDocument({ content: r.text, language: r.format === 'json' ? 'json' : 'yaml' });
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Active, preview: true });
}

/** Does what the page asked; true when the page should be read again. */
export async function runPageAction(deps: RunPageActionDeps, m: RunPageAction & { runId: string }, page: RunPageData | null): Promise<boolean> {
  const run = page?.detail.run;
  switch (m.action) {
    case 'rename': return renameRun(deps.services, deps.model, m.runId, run?.name ?? m.runId);
    case 'cancel': await vscode.commands.executeCommand('keel.cancelRun', m.runId); return true;
    case 'rerun': await vscode.commands.executeCommand('keel.rerun', m.runId); return false;
    case 'showLog': await vscode.commands.executeCommand('keel.showLogs', m.runId); return false;
    case 'compareWith': await compareWith(deps, m.runId); return false;
    case 'showLineage': await vscode.commands.executeCommand('keel.showLineage', m.runId); return false;
    case 'reveal': await vscode.commands.executeCommand('keel.revealRun', m.runId); return false;
    case 'openConfig': await openConfig(deps, m.runId); return false;
    case 'tagCheckpoint': await vscode.commands.executeCommand('keel.tagCheckpoint', m.checkpointId ?? { runId: m.runId }); return true;
    case 'pullCheckpoint': {
      const checkpoint = page?.detail.checkpoints.find((c) => c.id === m.checkpointId);
      if (checkpoint) await vscode.commands.executeCommand('keel.pullCheckpoint', { runId: m.runId, checkpoint });
      return false;
    }
    case 'copyText':
      await vscode.env.clipboard.writeText(m.text);
      vscode.window.setStatusBarMessage('Keel: copied', 2_000);
      return false;
    case 'openRun': await deps.openRun(m.target); return false;
    case 'openFile': await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(m.path)); return false;
  }
}

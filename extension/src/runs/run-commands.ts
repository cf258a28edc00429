/**
 * Commands on runs and checkpoints: cancel, rerun, delete, show logs, open (reveal in the
 * Runs view), compare the selection, pull and tag a checkpoint. Each takes a tree node or an id,
 * else asks with a QuickPick.
 */
import * as vscode from 'vscode';
import type { Run } from '../../../daemon/src/protocol/index.ts';
import { formatBytes } from '../format.ts';
import { registerKeelCommand } from '../show-error.ts';
import type { KeelServices } from '../services.ts';
import { groupOf } from './grouping.ts';
import type { RunLogTerminals } from './log-terminal.ts';
import { pickCheckpoint, resolveRun } from './pick-run.ts';
import { checkpointRefOf, runIdOf } from './run-args.ts';
import { checkpointLabel } from './run-details.ts';
import { deleteConfirmation, deletedMessage, isDeletable } from './run-deletion.ts';
import type { RunsModel } from './runs-model.ts';
import type { RunsView } from './runs-view.ts';

export interface RunCommandDeps {
  services: KeelServices;
  model: RunsModel;
  view: RunsView;
  terminals: RunLogTerminals;
}

/** After a launch or rerun: follow the log in a terminal and offer Show Logs / Compare. */
export function announceRun(deps: Pick<RunCommandDeps, 'model' | 'terminals'>, run: Run, what: string): void {
  deps.model.refreshSoon();
  deps.terminals.show(run.id, run.name, true);
  void vscode.window.showInformationMessage(`Keel: ${what} ${run.name} (${run.status}).`, 'Show Logs', 'Compare').then((choice) => {
    if (choice === 'Show Logs') deps.terminals.show(run.id, run.name);
    if (choice === 'Compare') void vscode.commands.executeCommand('keel.compareRuns', run.id);
  });
}

async function cancelRun(deps: RunCommandDeps, arg: unknown): Promise<void> {
  const run = await resolveRun(deps.services, deps.model, arg, 'Cancel Run', (r) => groupOf(r.status) !== 'recent');
  if (!run) return;
  const ok = await vscode.window.showWarningMessage(`Cancel run ${run.name}? Its processes are stopped; its checkpoints are kept.`, { modal: true }, 'Cancel Run');
  if (ok !== 'Cancel Run') return;
  const client = await deps.services.client();
  const { run: after } = await client.call('runs/cancel', { run: run.id });
  deps.model.refreshSoon();
  void vscode.window.showInformationMessage(`Keel: run ${after.name} is ${after.status}.`);
}

async function rerun(deps: RunCommandDeps, arg: unknown): Promise<void> {
  const run = await resolveRun(deps.services, deps.model, arg, 'Rerun', (r) => r.source === 'launch');
  if (!run) return;
  const client = await deps.services.client();
  const { run: again } = await client.call('runs/rerun', { run: run.id });
  announceRun(deps, again, `rerun of ${run.name} started as`);
}

async function deleteRun(deps: RunCommandDeps, arg: unknown): Promise<void> {
  const picked = await resolveRun(deps.services, deps.model, arg, 'Delete Run', isDeletable);
  if (!picked) return;
  const client = await deps.services.client();
  const { run } = await client.call('runs/get', { run: picked.id });
  const { message, detail } = deleteConfirmation(run);
  const ok = await vscode.window.showWarningMessage(message, { modal: true, detail }, 'Delete Run');
  if (ok !== 'Delete Run') return;
  const r = await client.call('runs/delete', { run: run.id });
  deps.model.refreshSoon();
  void vscode.window.showInformationMessage(`Keel: ${deletedMessage(r)}`);
}

async function showLogs(deps: RunCommandDeps, arg: unknown): Promise<void> {
  const run = await resolveRun(deps.services, deps.model, arg, 'Show Logs');
  if (run) deps.terminals.show(run.id, run.name);
}

async function openRun(deps: RunCommandDeps, arg: unknown): Promise<void> {
  const id = runIdOf(arg) ?? (await resolveRun(deps.services, deps.model, arg, 'Open Run'))?.id;
  if (!id) return;
  await deps.services.client();
  if (!(await deps.view.reveal(id))) void vscode.window.showWarningMessage(`Keel: run ${id} is not in this workspace's Runs view.`);
}

async function pullCheckpoint(deps: RunCommandDeps, arg: unknown): Promise<void> {
  const fromNode = checkpointRefOf(arg);
  const runId = fromNode?.runId ?? (await resolveRun(deps.services, deps.model, arg, 'Pull Checkpoint'))?.id;
  if (!runId) return;
  const step = fromNode && fromNode.step !== undefined ? fromNode.step : (await pickCheckpoint(deps.services, runId, 'Pull Checkpoint'))?.step;
  if (step === undefined) return;
  const client = await deps.services.client();
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const r = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Keel: pulling the checkpoint (resumable)…' },
    () => client.call('runs/pull', { run: runId, ...(step !== null ? { step } : {}), ...(cwd ? { cwd } : {}) }, { timeoutMs: 0 }),
  );
  const choice = await vscode.window.showInformationMessage(`Keel: pulled ${checkpointLabel(r.checkpoint)} to ${r.path} (${formatBytes(r.bytes)} copied).`, 'Reveal in Explorer');
  if (choice) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(r.path));
}

const ALIAS = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

async function tagCheckpoint(deps: RunCommandDeps, arg: unknown): Promise<void> {
  let ref = checkpointRefOf(arg)?.ref;
  if (!ref) {
    const run = await resolveRun(deps.services, deps.model, arg, 'Tag Checkpoint');
    ref = run ? (await pickCheckpoint(deps.services, run.id, 'Tag Checkpoint'))?.id : undefined;
  }
  if (!ref) return;
  const client = await deps.services.client();
  const { models } = await client.call('models/list', {});
  const existing = models.map((m) => m.alias);
  const alias = await vscode.window.showInputBox({
    title: 'Keel: Tag Checkpoint',
    prompt: existing.length ? `Alias to point at this checkpoint (existing: ${existing.join(', ')}); re-tagging moves it, history is kept` : 'Alias to point at this checkpoint, e.g. prod or candidate',
    placeHolder: 'candidate',
    validateInput: (v) => (ALIAS.test(v.trim()) ? undefined : 'Letters, digits, ".", "_" and "-", starting with a letter or digit'),
  });
  if (!alias) return;
  const r = await client.call('models/tag', { checkpoint: ref, alias: alias.trim() });
  const moved = r.previous ? ` (was ${checkpointLabel(r.previous)})` : '';
  void vscode.window.showInformationMessage(`Keel: ${r.alias} → ${checkpointLabel(r.checkpoint)}${r.changed ? moved : ' (unchanged)'}.`);
  await vscode.commands.executeCommand('keel.refresh');
}

/** Registers the run and checkpoint commands. */
export function registerRunCommands(deps: RunCommandDeps): vscode.Disposable[] {
  const log = deps.services.log;
  return [
    registerKeelCommand('keel.cancelRun', (arg) => cancelRun(deps, arg), log, 'Cancel failed'),
    registerKeelCommand('keel.rerun', (arg) => rerun(deps, arg), log, 'Rerun failed'),
    registerKeelCommand('keel.deleteRun', (arg) => deleteRun(deps, arg), log, 'Delete failed'),
    registerKeelCommand('keel.showLogs', (arg) => showLogs(deps, arg), log, 'Show Logs failed'),
    registerKeelCommand('keel.openRun', (arg) => openRun(deps, arg), log, 'Open Run failed'),
    registerKeelCommand('keel.pullCheckpoint', (arg) => pullCheckpoint(deps, arg), log, 'Pull failed'),
    registerKeelCommand('keel.tagCheckpoint', (arg) => tagCheckpoint(deps, arg), log, 'Tag failed'),
    // The Runs view's title button: compare what is selected there.
    registerKeelCommand('keel.compareSelectedRuns', () => vscode.commands.executeCommand('keel.compareRuns', ...deps.view.selectedRunIds()), log),
  ];
}

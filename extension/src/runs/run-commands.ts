/**
 * Commands on runs and checkpoints: cancel, rerun, delete, show logs, open (the run page),
 * reveal in the Runs view, list a config's runs, compare the selection, pull and tag a
 * checkpoint. Each takes a tree node or an id, else asks with a QuickPick.
 */
import * as vscode from 'vscode';
import { isTerminal, type Run } from '../../../daemon/src/protocol/index.ts';
import { formatBytes } from '../format.ts';
import { registerKeelCommand } from '../show-error.ts';
import type { KeelServices } from '../services.ts';
import { groupOf } from './grouping.ts';
import type { RunLogTerminals } from './log-terminal.ts';
import { pickCheckpoint, resolveRun } from './pick-run.ts';
import { checkpointRefOf, runIdOf } from './run-args.ts';
import { cancelOutcome, cancelQuestion, waitForEnd } from './run-cancel.ts';
import { renameRun } from './run-rename.ts';
import { checkpointLabel } from './run-details.ts';
import { deleteConfirmation, deletedMessage, isDeletable } from './run-deletion.ts';
import type { RunsModel } from './runs-model.ts';
import type { RunsView } from './runs-view.ts';

/** Where a run is shown in full (the run page). */
export interface RunPageOpener {
  show(runId: string, preserveFocus?: boolean): Promise<void>;
}

export interface RunCommandDeps {
  services: KeelServices;
  model: RunsModel;
  view: RunsView;
  terminals: RunLogTerminals;
  pages: RunPageOpener;
}

/** After a launch or rerun: follow the log in a terminal and offer Show Log / Open Run. */
export function announceRun(deps: Pick<RunCommandDeps, 'model' | 'terminals'>, run: Run, what: string): void {
  deps.model.refreshSoon();
  deps.terminals.show(run.id, run.name, true);
  void vscode.window.showInformationMessage(`Keel: ${what} ${run.name} (${run.status}).`, 'Show Log', 'Open Run').then((choice) => {
    if (choice === 'Show Log') deps.terminals.show(run.id, run.name);
    if (choice === 'Open Run') void vscode.commands.executeCommand('keel.openRun', run.id);
  });
}

/** How long the cancel notification waits to say the run stopped (TERM, then KILL after the grace period). */
const CANCEL_WAIT_MS = 90_000;

async function cancelRun(deps: RunCommandDeps, arg: unknown): Promise<void> {
  const picked = await resolveRun(deps.services, deps.model, arg, 'Cancel Run', (r) => groupOf(r.status) !== 'recent');
  if (!picked) return;
  const client = await deps.services.client();
  const { run } = await client.call('runs/get', { run: picked.id });
  if (isTerminal(run.status)) {
    void vscode.window.showInformationMessage(`Keel: run ${run.name} already ${run.status}.`);
    return;
  }
  const q = cancelQuestion(run);
  const answer = await vscode.window.showWarningMessage(q.message, { modal: true, detail: q.detail }, { title: q.stop }, { title: q.keep, isCloseAffordance: true });
  if (answer?.title !== q.stop) return;
  // Listen before asking: a queued run is cancelled at once, and its notification may beat the answer.
  const ended = waitForEnd(deps.services, run.id, run.status, CANCEL_WAIT_MS);
  const { run: after } = await client.call('runs/cancel', { run: run.id });
  deps.services.log.info(`cancel of run ${run.name} (${run.id}) sent; it is ${after.status}`);
  deps.model.refreshSoon();
  const status = isTerminal(after.status) ? after.status : await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Keel: stopping run ${run.name}…` },
    () => ended,
  );
  const outcome = cancelOutcome(run.name, status);
  deps.services.log.info(`cancel of run ${run.name}: ${outcome}`);
  void vscode.window.showInformationMessage(`Keel: ${outcome}`);
}

/** Stops every run of the picked run's sweep that has not ended (on a Slurm host, one scancel of its job array). */
async function cancelSweep(deps: RunCommandDeps, arg: unknown): Promise<void> {
  const picked = await resolveRun(deps.services, deps.model, arg, 'Cancel Sweep', (r) => r.sweepId !== null && groupOf(r.status) !== 'recent');
  if (!picked) return;
  const client = await deps.services.client();
  const { run } = await client.call('runs/get', { run: picked.id });
  if (run.sweepId === null) {
    void vscode.window.showInformationMessage(`Keel: run ${run.name} is not part of a sweep; Cancel Run stops it alone.`);
    return;
  }
  const answer = await vscode.window.showWarningMessage(`Stop every run of the sweep of ${run.name}?`, { modal: true, detail: 'Runs that have ended are kept as they are. On a Slurm host the sweep\'s job array is cancelled with one scancel.' }, { title: 'Stop Sweep' }, { title: 'Keep Running', isCloseAffordance: true });
  if (answer?.title !== 'Stop Sweep') return;
  const r = await client.call('runs/cancelSweep', { sweep: run.sweepId });
  deps.model.refreshSoon();
  void vscode.window.showInformationMessage(`Keel: stopping ${r.runs.filter((x) => !isTerminal(x.status) || x.status === 'cancelled').length} runs of the sweep${r.slurmArray ? ` (Slurm job array ${r.slurmArray} cancelled)` : ''}; the Runs view shows each as it ends.`);
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

/** Opens the run page; `opts.preserveFocus` (a click in the Runs view) leaves the focus where it was. */
async function openRun(deps: RunCommandDeps, arg: unknown, opts: unknown): Promise<void> {
  const id = runIdOf(arg) ?? (await resolveRun(deps.services, deps.model, arg, 'Open Run'))?.id;
  if (!id) return;
  const preserveFocus = typeof opts === 'object' && opts !== null && (opts as { preserveFocus?: unknown }).preserveFocus === true;
  await deps.pages.show(id, preserveFocus);
}

async function revealRun(deps: RunCommandDeps, arg: unknown): Promise<void> {
  const id = runIdOf(arg) ?? (await resolveRun(deps.services, deps.model, arg, 'Reveal in Runs View'))?.id;
  if (!id) return;
  await deps.services.client();
  if (!(await deps.view.reveal(id))) void vscode.window.showWarningMessage(`Keel: run ${id} is not among the runs this workspace's Runs view lists (the latest 50 ended ones and every active one).`);
}

async function rename(deps: RunCommandDeps, arg: unknown): Promise<void> {
  const run = await resolveRun(deps.services, deps.model, arg, 'Rename Run');
  if (run) await renameRun(deps.services, deps.model, run.id, run.name);
}

/** The Runs view narrowed to the runs of a config file (the CodeLens's "N runs", the explorer menu). */
async function showRunsOfConfig(deps: RunCommandDeps, arg: unknown): Promise<void> {
  const path = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === 'string' ? arg : vscode.window.activeTextEditor?.document.uri.fsPath;
  if (!path) {
    void vscode.window.showInformationMessage('Keel: open a training config to list its runs.');
    return;
  }
  await deps.model.filterByConfig(path, vscode.workspace.asRelativePath(path));
  await vscode.commands.executeCommand('keel.runs.focus');
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
    registerKeelCommand('keel.cancelSweep', (arg) => cancelSweep(deps, arg), log, 'Cancel Sweep failed'),
    registerKeelCommand('keel.rerun', (arg) => rerun(deps, arg), log, 'Rerun failed'),
    registerKeelCommand('keel.deleteRun', (arg) => deleteRun(deps, arg), log, 'Delete failed'),
    registerKeelCommand('keel.showLogs', (arg) => showLogs(deps, arg), log, 'Show Logs failed'),
    registerKeelCommand('keel.openRun', (arg, opts) => openRun(deps, arg, opts), log, 'Open Run failed'),
    registerKeelCommand('keel.renameRun', (arg) => rename(deps, arg), log, 'Rename failed'),
    registerKeelCommand('keel.revealRun', (arg) => revealRun(deps, arg), log, 'Reveal failed'),
    registerKeelCommand('keel.showRunsOfConfig', (arg) => showRunsOfConfig(deps, arg), log, 'Listing the runs failed'),
    registerKeelCommand('keel.clearRunsFilter', () => deps.model.clearFilter(), log),
    registerKeelCommand('keel.loadMoreRuns', () => deps.model.loadMore(), log, 'Loading more runs failed'),
    registerKeelCommand('keel.pullCheckpoint', (arg) => pullCheckpoint(deps, arg), log, 'Pull failed'),
    registerKeelCommand('keel.tagCheckpoint', (arg) => tagCheckpoint(deps, arg), log, 'Tag failed'),
    // The Runs view's title button: compare what is selected there.
    registerKeelCommand('keel.compareSelectedRuns', () => vscode.commands.executeCommand('keel.compareRuns', ...deps.view.selectedRunIds()), log),
  ];
}

/**
 * "Rename Run": an input box with the current name, checked as the user types against the
 * daemon's rules (one line, no "/", not shaped like a run id), then `runs/rename` (which also
 * refuses a name another run has).
 */
import * as vscode from 'vscode';
import type { KeelServices } from '../services.ts';
import type { RunsModel } from './runs-model.ts';

/** Why `value` cannot be a run name, or undefined. Pure. */
export function renameProblem(value: string): string | undefined {
  const v = value.trim();
  if (v === '') return 'A name, please';
  if (v.includes('/')) return 'No "/" in names (a pulled checkpoint goes to a folder named after its run)';
  if (/^run_/.test(v)) return 'Names starting with "run_" look like run ids';
  return undefined;
}

/** Asks for a new name and renames the run; true when it was renamed. */
export async function renameRun(services: KeelServices, model: RunsModel, runId: string, current: string): Promise<boolean> {
  const name = await vscode.window.showInputBox({ title: `Keel: Rename Run ${current}`, prompt: 'A name people can tell apart (unique among runs)', value: current, validateInput: renameProblem });
  if (name === undefined || name.trim() === current) return false;
  const client = await services.client();
  const { run } = await client.call('runs/rename', { run: runId, name: name.trim() });
  model.refreshSoon();
  void vscode.window.showInformationMessage(`Keel: renamed run ${current} to "${run.name}".`);
  return true;
}

/**
 * The launch wizard's check before launching (`runs/preflight`, under a progress
 * notification) and what it says: errors in a modal that lists each one in full (a mistyped
 * key with its "did you mean", a missing base model, a silent host) with Edit Overrides /
 * Launch Anyway; warnings as lines of the confirm step. Then the name step, pre-filled with
 * the name the daemon would give (`lora · lr=0.01`).
 */
import * as vscode from 'vscode';
import type { PreflightProblem, PreflightResult } from '../../../daemon/src/protocol/index.ts';
import { renameProblem } from '../runs/run-rename.ts';
import type { KeelServices } from '../services.ts';
import { plural } from '../format.ts';

/** What the wizard sends to `runs/preflight` (the launch params). */
export interface PreflightParams {
  config: string;
  cwd: string;
  local?: true;
  host?: string;
  gpus: number;
  set?: string[];
  /** Slurm hosts: sbatch --partition and --time. */
  partition?: string;
  time?: string;
}

/** The user's answer to the problems found. */
export type PreflightChoice = 'launch' | 'editOverrides' | 'cancel';

/** The modal's text: how many problems, then each on its own paragraph. Pure. */
export function problemsText(problems: readonly PreflightProblem[]): { message: string; detail: string } {
  const errors = problems.filter((p) => p.severity === 'error');
  const warnings = problems.filter((p) => p.severity === 'warning');
  const message = `This launch would fail: ${plural(errors.length, 'problem')} found before starting it.`;
  const detail = [...errors.map((p) => `✖ ${p.message}`), ...warnings.map((p) => `⚠ ${p.message}`)].join('\n\n');
  return { message, detail };
}

/** Runs the checks with a progress notification. */
export async function runPreflight(services: KeelServices, params: PreflightParams): Promise<PreflightResult> {
  const client = await services.client();
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Keel: checking the launch (config, paths, overrides, host)…' },
    () => client.call('runs/preflight', params, { timeoutMs: 60_000 }),
  );
}

/** Asks what to do about the errors a pre-flight found (none: launch). */
export async function askAboutProblems(result: PreflightResult, canEditOverrides: boolean): Promise<PreflightChoice> {
  if (result.ok) return 'launch';
  const { message, detail } = problemsText(result.problems);
  const edit = { title: 'Edit Overrides' };
  const anyway = { title: 'Launch Anyway' };
  const cancel = { title: 'Cancel', isCloseAffordance: true };
  const buttons = canEditOverrides ? [edit, anyway, cancel] : [anyway, cancel];
  const picked = await vscode.window.showWarningMessage(message, { modal: true, detail }, ...buttons);
  return picked === edit ? 'editOverrides' : picked === anyway ? 'launch' : 'cancel';
}

/** The name step: the daemon's default name pre-filled and selected, editable. */
export async function askName(title: string, defaultName: string | null): Promise<string | undefined> {
  const value = defaultName ?? '';
  const name = await vscode.window.showInputBox({
    title: `${title}: name`,
    prompt: 'A name you can tell this run apart by (the config and what you changed, by default). Enter keeps it.',
    value,
    valueSelection: [0, value.length],
    validateInput: (v) => (v.trim() === '' && value === '' ? undefined : renameProblem(v)),
  });
  if (name === undefined) return undefined;
  return name.trim();
}

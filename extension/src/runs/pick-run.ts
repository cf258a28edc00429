/**
 * Which run (or checkpoint) a command acts on: the tree node or id it was called with,
 * else a QuickPick of runs (and of the run's checkpoints).
 */
import * as vscode from 'vscode';
import type { Checkpoint, RunSummary } from '../../../daemon/src/protocol/index.ts';
import type { KeelServices } from '../services.ts';
import { checkpointLabel, isPresent } from './run-details.ts';
import { runDescription, runIcon } from './run-labels.ts';
import { runIdOf } from './run-args.ts';
import type { RunsModel } from './runs-model.ts';

export interface PickedRun {
  id: string;
  name: string;
}

/** The run in `arg`, else one the user picks among runs passing `filter`; undefined when cancelled. */
export async function resolveRun(services: KeelServices, model: RunsModel, arg: unknown, title: string, filter: (r: RunSummary) => boolean = () => true): Promise<PickedRun | undefined> {
  await services.client();
  const id = runIdOf(arg);
  if (id) return { id, name: model.find(id)?.name ?? id };
  if (!model.loaded) await model.refresh();
  const runs = model.runs.filter(filter);
  if (runs.length === 0) {
    void vscode.window.showInformationMessage(`Keel: no runs to choose from for "${title}".`);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    runs.map((r) => ({ label: `$(${runIcon(r).id.replace('~spin', '')}) ${r.name}`, description: runDescription(r), detail: r.id, run: r })),
    { title: `Keel: ${title}`, placeHolder: 'Which run?', matchOnDescription: true, matchOnDetail: true },
  );
  return picked ? { id: picked.run.id, name: picked.run.name } : undefined;
}

/** A checkpoint of `runId`: the only one, or picked (latest step first). */
export async function pickCheckpoint(services: KeelServices, runId: string, title: string): Promise<Checkpoint | undefined> {
  const client = await services.client();
  const detail = await client.call('runs/get', { run: runId });
  const { run } = detail;
  // Deleted checkpoints are history: never offered for pull, tag or eval.
  const checkpoints = detail.checkpoints.filter(isPresent);
  if (checkpoints.length === 0) {
    const gone = detail.checkpoints.length > 0 ? ` on disk (its ${detail.checkpoints.length} were deleted)` : ' yet';
    void vscode.window.showInformationMessage(`Keel: run ${run.name} has no checkpoints${gone}.`);
    return undefined;
  }
  if (checkpoints.length === 1) return checkpoints[0];
  const sorted = [...checkpoints].sort((a, b) => (b.step ?? -1) - (a.step ?? -1));
  const picked = await vscode.window.showQuickPick(
    sorted.map((c) => ({ label: checkpointLabel(c), description: `${c.kind} · ${c.location}`, checkpoint: c })),
    { title: `Keel: ${title}`, placeHolder: `Which checkpoint of ${run.name}?` },
  );
  return picked?.checkpoint;
}

/** A multi-select QuickPick of runs, newest first, for commands invoked without runs. */
import * as vscode from 'vscode';
import type { RunSummary } from '../../../daemon/src/protocol/index.ts';
import type { KeelServices } from '../services.ts';
import { formatValue } from '../format.ts';

interface RunItem extends vscode.QuickPickItem {
  runId: string;
}

export interface PickRunsOptions {
  title: string;
  /** Require exactly this many runs (else at least one). */
  exactly?: number;
  /** At most this many runs (the compare panel's limit). */
  atMost?: number;
  /** Runs ticked at the start. */
  preselect?: readonly string[];
}

/** One line per run: name, then status · host · step · loss, then the id. */
export function runItem(run: RunSummary): RunItem {
  const facts = [run.status, run.hostName, run.lastStep !== null ? `step ${run.lastStep}` : null, run.lastLoss !== null ? `loss ${formatValue(run.lastLoss)}` : null];
  return { label: run.name, description: facts.filter((f) => f !== null).join(' · '), detail: run.id, runId: run.id };
}

/** The runs the user ticks, or undefined when they cancel (or there are no runs). */
export async function pickRuns(services: KeelServices, opts: PickRunsOptions): Promise<string[] | undefined> {
  return (await pickRunItems(services, opts))?.map((r) => r.id);
}

/** The runs the user ticks with their names (no second round trip to name them), or undefined. */
export async function pickRunItems(services: KeelServices, opts: PickRunsOptions): Promise<{ id: string; name: string }[] | undefined> {
  const client = await services.client();
  const { runs } = await client.call('runs/list', { limit: 500 });
  if (runs.length === 0) {
    void vscode.window.showInformationMessage('Keel has no runs yet. Launch one with "Keel: Launch Fine-tune" or import an output folder with `keel import`.');
    return undefined;
  }
  const qp = vscode.window.createQuickPick<RunItem>();
  qp.title = opts.title;
  const hint = opts.exactly ? `Tick ${opts.exactly} runs, then press Enter` : 'Tick the runs to compare, then press Enter';
  qp.placeholder = hint;
  qp.canSelectMany = true;
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  qp.items = runs.map(runItem);
  qp.selectedItems = qp.items.filter((i) => opts.preselect?.includes(i.runId));
  return new Promise((resolve) => {
    let done = false;
    qp.onDidAccept(() => {
      const ids = qp.selectedItems.map((i) => ({ id: i.runId, name: i.label }));
      const ok = opts.exactly ? ids.length === opts.exactly : ids.length > 0 && (opts.atMost === undefined || ids.length <= opts.atMost);
      if (!ok) {
        // (QuickPick.validationMessage is newer than the VS Code 1.100 API this extension targets.)
        qp.placeholder = opts.exactly ? `Tick exactly ${opts.exactly} runs (${ids.length} ticked)`
          : ids.length === 0 ? 'Tick at least one run' : `Tick at most ${opts.atMost ?? ids.length} runs (${ids.length} ticked)`;
        return;
      }
      done = true;
      resolve(ids);
      qp.hide();
    });
    qp.onDidChangeSelection(() => {
      qp.placeholder = hint;
    });
    qp.onDidHide(() => {
      if (!done) resolve(undefined);
      qp.dispose();
    });
    qp.show();
  });
}

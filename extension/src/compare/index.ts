/**
 * Compare features: the compare panel (`keel.compareRuns`) and its serializer, config diffs
 * in VS Code's diff editor (`keel.diffConfigs`), and the lineage graph view
 * (`keel.showLineage`), which is the same panel opened on a record's runs.
 * (`keel.openRun`, the links' "Open run", is the Runs view's: it reveals the run there.)
 */
import * as vscode from 'vscode';
import { showLineageCommand } from '../lineage/show-lineage.ts';
import { runIdsFromArgs } from '../runs/run-args.ts';
import type { KeelServices } from '../services.ts';
import { registerKeelCommand } from '../show-error.ts';
import { diffConfigsCommand, RunConfigDocuments } from './config-diff.ts';
import { CONFIG_SCHEME } from './config-uri.ts';
import { COMPARE_VIEW_TYPE } from './panel.ts';
import { ComparePanels } from './panels.ts';
import { pickRunItems } from './pick-runs.ts';
import { MAX_COMPARED_RUNS } from '../../../daemon/src/protocol/index.ts';

/** `keel.compareRuns`: run ids, names or Runs-view items; none → a multi-select picker. */
async function compareRuns(services: KeelServices, panels: ComparePanels, args: unknown[]): Promise<void> {
  const refs = runIdsFromArgs(args);
  if (refs.length === 0) {
    // Picked runs come with ids and names: the panel opens without another round trip.
    const picked = (await pickRunItems(services, { title: 'Keel: Compare Runs', atMost: MAX_COMPARED_RUNS })) ?? [];
    if (picked.length > 0) panels.show(picked.map((r) => r.id), { names: picked.map((r) => r.name) });
    return;
  }
  if (refs.length > MAX_COMPARED_RUNS) {
    throw new Error(`a comparison holds at most ${MAX_COMPARED_RUNS} runs (${refs.length} given): compare fewer at once, e.g. one sweep's runs`);
  }
  // Names and id prefixes become ids, so the same runs always land in the same panel.
  const client = await services.client();
  const runs = await Promise.all(refs.map((ref) => client.call('runs/get', { run: ref }).then((r) => r.run)));
  panels.show([...new Set(runs.map((r) => r.id))], { names: runs.map((r) => r.name) });
}

/** Registers the compare panel, its serializer, the config-diff provider and their commands. */
export function activateCompareFeatures(services: KeelServices): vscode.Disposable[] {
  const panels = new ComparePanels(services);
  const log = services.log;
  return [
    panels,
    vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, panels),
    vscode.workspace.registerTextDocumentContentProvider(CONFIG_SCHEME, new RunConfigDocuments(services)),
    registerKeelCommand('keel.compareRuns', (...args) => compareRuns(services, panels, args), log, 'Compare failed'),
    registerKeelCommand('keel.diffConfigs', (...args) => diffConfigsCommand(services, args), log, 'Config diff failed'),
    registerKeelCommand('keel.showLineage', (...args) => showLineageCommand(services, args, {
      show: (runIds, graph, title) => {
        panels.show(runIds, { lineage: graph, title });
      },
    }), log, 'Show Lineage failed'),
  ];
}

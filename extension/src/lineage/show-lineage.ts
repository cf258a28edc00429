/**
 * `Keel: Show Lineage`: the full graph of the active file (or a given path or record id),
 * drawn by the compare panel's webview: an `init` on the record's runs, then `lineage`
 * with the record as its focus (selected, its details shown, scrolled into view).
 */
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { ErrorCode, RpcError } from '../../../daemon/src/protocol/index.ts';
import type { LineageGraph } from '../../../daemon/src/protocol/index.ts';
import { runsOfGraph } from './graph-runs.ts';
import type { KeelServices } from '../services.ts';

/** Where the graph is drawn (the compare panels): the record's graph, already fetched, focused on its root. */
export interface LineageTarget {
  show(runIds: string[], graph: LineageGraph, title: string): void;
}

/** The tab title: what the record is called on the graph (`checkpoint-250 of demo-baseline`, a run's name, a file name). */
export function lineageTitle(graph: LineageGraph): string {
  const root = graph.root;
  const base = root.label.split(/[\\/]/).filter(Boolean).pop() ?? root.label;
  if (root.kind === 'checkpoint') {
    const run = graph.ancestors.find((n) => n.kind === 'run' && n.id === root.details.runId);
    return `Lineage: ${base}${run ? ` of ${run.label}` : ''}`;
  }
  if (root.kind === 'eval' && typeof root.details.taskNames === 'string' && root.details.taskNames !== '') return `Lineage: eval ${root.details.taskNames}`;
  return `Lineage: ${root.kind === 'run' ? root.label : base}`;
}

/** What to resolve and relative to where: a Uri or path argument, a record id, else the active editor's file. */
export function lineageRefFromArgs(args: readonly unknown[], activeFile: string | undefined, workspaceDir: string | undefined): { ref: string; cwd?: string } | undefined {
  const first = args[0];
  if (first instanceof vscode.Uri) return first.scheme === 'file' ? { ref: first.fsPath } : undefined;
  if (typeof first === 'string' && first.trim() !== '') {
    const cwd = activeFile ? dirname(activeFile) : workspaceDir;
    return cwd ? { ref: first.trim(), cwd } : { ref: first.trim() };
  }
  return activeFile ? { ref: activeFile } : undefined;
}

/** `keel.showLineage`: resolves the record, fetches its graph and hands both to the panels. */
export async function showLineageCommand(services: KeelServices, args: unknown[], target: LineageTarget): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const activeFile = editor?.document.uri.scheme === 'file' ? editor.document.uri.fsPath : undefined;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const at = lineageRefFromArgs(args, activeFile, folder);
  if (!at) {
    void vscode.window.showInformationMessage('Keel: open a file (a dataset, config or checkpoint) to show its lineage.');
    return;
  }
  const client = await services.client();
  let graph: LineageGraph;
  try {
    graph = await client.call('lineage/get', { ...at, depth: 10 });
  } catch (err) {
    if (err instanceof RpcError && err.code === ErrorCode.NotFound) {
      void vscode.window.showInformationMessage(`Keel tracks nothing at ${at.ref}. Paths must match a keel.yaml glob (datasets, configs, outputs, evals) or be imported with \`keel import\`.`);
      return;
    }
    throw err;
  }
  // The graph goes along: the panel draws it as soon as its webview loads, without asking again.
  target.show(runsOfGraph(graph), graph, lineageTitle(graph));
}

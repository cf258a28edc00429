/**
 * The compare panel's lineage: the graph of the record "Show Lineage" opened it on (drawn
 * right after the first init, focused on that record, without asking the daemon twice), the
 * runs' graphs the webview asks for, and opening the paths those graphs name — only those:
 * a webview message never opens an arbitrary file.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import type { HostToWebview, LineageGraph } from '../../../daemon/src/protocol/index.ts';

/** Fetches a record's graph; null when the daemon no longer tracks it. */
export type FetchGraph = (ref: string) => Promise<LineageGraph | null>;

/** Every local absolute path a graph names (checkpoint folders, output folders, configs, results files). */
export function graphPaths(graph: LineageGraph): string[] {
  const out: string[] = [];
  for (const n of [graph.root, ...graph.ancestors, ...graph.descendants]) {
    for (const v of [n.label, ...Object.values(n.details)]) if (typeof v === 'string' && isAbsolute(v)) out.push(v);
  }
  return out;
}

export class PanelLineage {
  /** The record the panel was opened on (its id), for every later init. */
  readonly ref: string | undefined;
  /** Its graph as "Show Lineage" fetched it, used once by the first init. */
  private initial: LineageGraph | undefined;
  private readonly paths = new Set<string>();

  constructor(graph?: LineageGraph) {
    this.ref = graph?.root.id;
    this.initial = graph;
    if (graph) this.remember(graph);
  }

  private remember(graph: LineageGraph): void {
    for (const p of graphPaths(graph)) this.paths.add(p);
  }

  /** The `lineage` message an init is followed by in a lineage view (the record focused), else null. */
  async afterInit(fetch: FetchGraph, runId: string | undefined): Promise<HostToWebview | null> {
    if (!this.ref) return null;
    const graph = this.initial ?? (await fetch(this.ref));
    this.initial = undefined;
    if (graph) this.remember(graph);
    return { type: 'lineage', runId: runId ?? this.ref, graph, ...(graph ? { focus: { kind: graph.root.kind, id: graph.root.id } } : {}) };
  }

  /** The `lineage` message for a run the webview asked about. */
  async forRun(fetch: FetchGraph, runId: string): Promise<HostToWebview> {
    const graph = await fetch(runId);
    if (graph) this.remember(graph);
    return { type: 'lineage', runId, graph };
  }

  /** Whether a graph this panel was sent names `path`. */
  knows(path: string): boolean {
    return this.paths.has(path);
  }
}

/** Files that say what a checkpoint folder holds, opened when the folder cannot be revealed. */
const TELLING_FILES = ['adapter_config.json', 'config.json', 'trainer_state.json'];

/**
 * Opens a path a lineage node names: a file in the editor; a folder of the workspace in the
 * Explorer; another folder (a checkpoint under ~/.keel) by the file that describes it, else
 * a message with the path to copy.
 */
export async function openLineagePath(path: string): Promise<void> {
  const uri = vscode.Uri.file(path);
  const info = await stat(path).catch(() => undefined);
  if (!info) {
    void vscode.window.showWarningMessage(`Keel: ${path} is not on this machine any more (moved, deleted, or on a GPU host).`);
    return;
  }
  if (info.isFile()) {
    await vscode.commands.executeCommand('vscode.open', uri, { preview: true, viewColumn: vscode.ViewColumn.One });
    return;
  }
  if (vscode.workspace.getWorkspaceFolder(uri)) {
    await vscode.commands.executeCommand('revealInExplorer', uri);
    return;
  }
  for (const name of TELLING_FILES) {
    const file = join(path, name);
    if ((await stat(file).catch(() => undefined))?.isFile()) {
      await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file), { preview: true, viewColumn: vscode.ViewColumn.One });
      return;
    }
  }
  const copy = await vscode.window.showInformationMessage(`Keel: ${path} is a folder outside the workspace.`, 'Copy Path');
  if (copy) await vscode.env.clipboard.writeText(path);
}

/**
 * The open compare panels: opening one (or revealing the one already showing the same
 * runs), restoring them after a reload (the serializer), and lineage-only panels.
 */
import * as vscode from 'vscode';
import { defaultPanelState } from '../../../daemon/src/protocol/index.ts';
import type { ComparePanelState, LineageGraph } from '../../../daemon/src/protocol/index.ts';
import { Disposables } from '../disposables.ts';
import type { KeelServices } from '../services.ts';
import { maximizePanelGroup } from './open-wide.ts';
import { COMPARE_VIEW_TYPE, ComparePanel, panelOptions } from './panel.ts';
import { compareTitle } from './title.ts';
import { parsePanelState } from './state.ts';

const sameRuns = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((id) => b.includes(id));

export class ComparePanels extends Disposables implements vscode.WebviewPanelSerializer {
  private readonly services: KeelServices;
  private readonly open = new Set<ComparePanel>();

  constructor(services: KeelServices) {
    super();
    this.services = services;
    this.register({ dispose: () => { for (const p of [...this.open]) p.panel.dispose(); } });
  }

  /**
   * Shows `runIds` in a wide panel of its own (see open-wide.ts). `names` gives the title
   * before the daemon answers; `lineage` makes it a lineage view of that graph's root (drawn
   * as soon as the webview loads, the root selected and scrolled to).
   */
  show(runIds: string[], opts: { names?: string[]; lineage?: LineageGraph; title?: string } = {}): ComparePanel {
    const existing = [...this.open].find((p) => sameRuns(p.runIds, runIds) && !opts.lineage);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const title = opts.title ?? compareTitle(opts.names ?? runIds);
    const panel = vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, title, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, panelOptions(this.services.context.extensionUri));
    void maximizePanelGroup(COMPARE_VIEW_TYPE, this.services.log);
    // A lineage view opens on the lineage section; the runs' curves are one tab away.
    const state: ComparePanelState = opts.lineage ? { ...defaultPanelState(runIds), section: 'lineage' } : defaultPanelState(runIds);
    return this.adopt(panel, state, opts.lineage);
  }

  /** Restores a panel after a reload from the state its webview saved. */
  deserializeWebviewPanel(panel: vscode.WebviewPanel, saved: unknown): Promise<void> {
    const state: ComparePanelState | undefined = parsePanelState(saved);
    if (!state) {
      // Nothing to restore from (the webview never saved a state): an empty panel helps nobody.
      this.services.log.info('compare panel: nothing to restore after the reload (no saved state); closing it');
      panel.dispose();
      return Promise.resolve();
    }
    this.services.log.info(`compare panel restored: ${state.runIds.join(', ')}`);
    this.adopt(panel, state);
    return Promise.resolve();
  }

  private adopt(panel: vscode.WebviewPanel, state: ComparePanelState, lineage?: LineageGraph): ComparePanel {
    const compare = new ComparePanel(this.services, panel, state, lineage);
    this.open.add(compare);
    compare.register({ dispose: () => this.open.delete(compare) });
    return compare;
  }
}

/**
 * Opening the compare panel wide: in its own editor group beside the editor, then that group
 * maximised with VS Code's own "Maximize Editor Group" (the other groups fold away; a
 * double-click on the tab or View: Toggle Maximize Editor Group brings them back). A 40 %
 * split makes a three-run config diff scroll sideways. `keel.compare.openMaximized` turns it off.
 */
import * as vscode from 'vscode';

/** How long to wait for the new panel's tab to appear in the editor area. */
const TAB_WAIT_MS = 2_000;

/** Whether new compare panels open maximised (`keel.compare.openMaximized`, default on). */
export function opensMaximized(): boolean {
  return vscode.workspace.getConfiguration('keel.compare').get<boolean>('openMaximized', true) !== false;
}

/** A webview tab of `viewType` (VS Code prefixes the type; the input is matched by shape, as the API's classes may not be the ones the tab carries). */
const isPanelTab = (tab: vscode.Tab, viewType: string): boolean => {
  const input = tab.input as { viewType?: unknown } | undefined;
  return typeof input?.viewType === 'string' && input.viewType.endsWith(viewType);
};

/** Resolves once a tab of `viewType` is the active tab of the active group (or the wait is over). */
function panelTabShown(viewType: string): Promise<void> {
  const shown = (): boolean => {
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    return tab !== undefined && isPanelTab(tab, viewType);
  };
  if (shown()) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      for (const s of subs) s.dispose();
      resolve();
    };
    const timer = setTimeout(done, TAB_WAIT_MS);
    const check = (): void => {
      if (shown()) done();
    };
    // A panel opened beside arrives with a new group (onDidChangeTabGroups), else as a tab.
    const subs = [vscode.window.tabGroups.onDidChangeTabGroups(check), vscode.window.tabGroups.onDidChangeTabs(check)];
  });
}

/**
 * Maximises the editor group of a panel just created (its tab is waited for: the editor area
 * learns of it after `createWebviewPanel` returns). Alone in the editor area it is as wide as
 * it gets already, so nothing is toggled. Never throws: without the command the split stays.
 */
export async function maximizePanelGroup(viewType: string, log: { warn(message: string): void }): Promise<void> {
  if (!opensMaximized()) return;
  await panelTabShown(viewType);
  if (vscode.window.tabGroups.all.length < 2) return;
  try {
    await vscode.commands.executeCommand('workbench.action.toggleMaximizeEditorGroup');
  } catch (err) {
    log.warn(`compare panel: could not maximise its editor group: ${(err as Error).message}`);
  }
}

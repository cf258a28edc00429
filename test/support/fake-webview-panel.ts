/**
 * Test support: a `vscode.WebviewPanel` for the compare panel's host under plain Node (the
 * fake `vscode` module is test/support/fake-vscode.ts). Nothing draws: the test reads what the
 * host posted and the pages it set, and speaks for the webview.
 */
import type * as vscode from 'vscode';
import { unpackMessage, type HostToWebview } from '../../daemon/src/protocol/index.ts';

export interface FakeWebviewPanel {
  /** What the code under test gets. */
  panel: vscode.WebviewPanel;
  /** Every message the host posted, as the webview receives it. */
  posted: HostToWebview[];
  /** Every page (`webview.html`) the host set, in order. */
  pages: string[];
  /** A message from the webview to the host (`ready`, `painted`…). */
  send: (m: unknown) => void;
  /** The panel goes to the background (VS Code's view-state change with `visible: false`). */
  hide: () => void;
}

export function fakeWebviewPanel(): FakeWebviewPanel {
  const posted: HostToWebview[] = [];
  const pages: string[] = [];
  let receive: (m: unknown) => void = () => undefined;
  let viewState: (e: { webviewPanel: { visible: boolean } }) => void = () => undefined;
  const webview = {
    options: {}, cspSource: 'vscode-resource:', asWebviewUri: (u: unknown) => u,
    get html(): string { return pages.at(-1) ?? ''; },
    set html(v: string) { pages.push(v); },
    onDidReceiveMessage: (l: (m: unknown) => void) => { receive = l; return { dispose: () => undefined }; },
    // As the real webview: the message arrives as a structured clone (curves packed in columns).
    postMessage: (m: unknown) => { posted.push(unpackMessage(structuredClone(m)) as HostToWebview); return Promise.resolve(true); },
  };
  const panel = {
    title: 'Compare', visible: true, webview,
    onDidDispose: () => ({ dispose: () => undefined }),
    onDidChangeViewState: (l: typeof viewState) => { viewState = l; return { dispose: () => undefined }; },
    reveal: () => undefined, dispose: () => undefined,
  } as unknown as vscode.WebviewPanel;
  return { panel, posted, pages, send: (m) => receive(m), hide: () => viewState({ webviewPanel: { visible: false } }) };
}

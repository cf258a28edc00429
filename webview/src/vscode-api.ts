/**
 * The one place that calls `acquireVsCodeApi()` (VS Code allows one call per page). Tests
 * define a fake `acquireVsCodeApi` on the page before the bundle loads.
 */
import type { WebviewToHost } from '../../daemon/src/protocol/webview.ts';

/** What the webview needs from VS Code's API object. */
export interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

let api: VsCodeApi | undefined;

/** VS Code's API, acquired on first use. */
export function vscode(): VsCodeApi {
  api ??= acquireVsCodeApi();
  return api;
}

/**
 * The run page's one call of `acquireVsCodeApi()` (VS Code allows one per page). Tests define
 * a fake `acquireVsCodeApi` on the page before the bundle loads.
 */
import type { RunPageState, RunPageWebviewToHost } from '../../../daemon/src/protocol/run-page.ts';

/** What the page needs from VS Code's API object. */
export interface RunPageApi {
  postMessage(message: RunPageWebviewToHost): void;
  getState(): unknown;
  setState(state: RunPageState): void;
}

declare function acquireVsCodeApi(): RunPageApi;

let api: RunPageApi | undefined;

/** VS Code's API, acquired on first use. */
export function vscode(): RunPageApi {
  api ??= acquireVsCodeApi();
  return api;
}

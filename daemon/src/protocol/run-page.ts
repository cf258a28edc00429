/**
 * Messages between the extension host and the run page's webview (postMessage). Both sides
 * import these types; the webview never talks to the daemon. The webview says `ready`; the
 * host answers with `show` (the whole page: it is one run, a few KB) and sends `show` again
 * when the run changes. Buttons post `action`; the host does the work (pickers, input boxes,
 * daemon calls) with VS Code's own UI.
 */
import type { LineageGraph, RunDetail, RunSummary } from './domain.ts';

/** What the page remembers across reloads (the serializer restores the same run). */
export interface RunPageState {
  runId: string;
}

/** Everything the page shows about one run. */
export interface RunPageData {
  detail: RunDetail;
  /** The run as lists show it (step, loss, kind, overrides); null when the daemon no longer lists it. */
  summary: RunSummary | null;
  /** The end of the run's log and its error line (runs/logTail); null when it could not be read. */
  tail: { lines: string[]; errorLine: string | null; complete: boolean } | null;
  /** The run's lineage one step each way; null when it could not be read. */
  lineage: LineageGraph | null;
  /** The eval runs Keel made of this run's checkpoints. */
  evalRuns: RunSummary[];
  /** The run this one evaluates or re-runs. */
  parent: { id: string; name: string } | null;
  /** Model aliases (`prod`, `candidate`) by the checkpoint id they point at. */
  aliases: Record<string, string[]>;
}

/** What a button on the page asks the host to do. */
export type RunPageAction =
  | { action: 'rename' }
  | { action: 'cancel' }
  | { action: 'rerun' }
  | { action: 'showLog' }
  | { action: 'compareWith' }
  | { action: 'showLineage' }
  | { action: 'reveal' }
  | { action: 'openConfig' }
  /** Without a checkpoint: pick one of the run's. */
  | { action: 'tagCheckpoint'; checkpointId?: string }
  | { action: 'pullCheckpoint'; checkpointId: string }
  | { action: 'copyText'; text: string }
  /** Another run's page (a parent, an eval run). */
  | { action: 'openRun'; target: string }
  | { action: 'openFile'; path: string };

export const RunPageActions = ['rename', 'cancel', 'rerun', 'showLog', 'compareWith', 'showLineage', 'reveal', 'openConfig', 'tagCheckpoint', 'pullCheckpoint', 'copyText', 'openRun', 'openFile'] as const;

/** Extension host → run page. `now` is the host's clock, for "5 min ago". */
export type RunPageHostToWebview =
  | { type: 'show'; page: RunPageData; now: number }
  | { type: 'error'; message: string };

/** Run page → extension host. */
export type RunPageWebviewToHost = { type: 'ready' } | ({ type: 'action'; runId: string } & RunPageAction);

const isStr = (x: unknown): x is string => typeof x === 'string';

/** Narrows an unknown postMessage payload to a RunPageWebviewToHost, checking the fields each action carries. */
export function isRunPageMessage(x: unknown): x is RunPageWebviewToHost {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as Record<string, unknown>;
  if (m.type === 'ready') return true;
  if (m.type !== 'action' || !isStr(m.runId) || !(RunPageActions as readonly unknown[]).includes(m.action)) return false;
  switch (m.action) {
    case 'tagCheckpoint': return m.checkpointId === undefined || isStr(m.checkpointId);
    case 'pullCheckpoint': return isStr(m.checkpointId);
    case 'copyText': return isStr(m.text);
    case 'openRun': return isStr(m.target);
    case 'openFile': return isStr(m.path);
    default: return true;
  }
}

/** Incoming postMessage payloads, checked at the edge: a message that is not a known host message with the fields the page reads is dropped. */
import type { RunPageHostToWebview } from '../../../daemon/src/protocol/run-page.ts';

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

function isPage(x: unknown): boolean {
  if (!isObj(x) || !isObj(x.detail) || !isObj(x.detail.run) || typeof x.detail.run.id !== 'string') return false;
  const d = x.detail;
  return Array.isArray(d.metrics) && Array.isArray(d.checkpoints) && Array.isArray(d.evals) && Array.isArray(x.evalRuns) && isObj(x.aliases);
}

/** The message as a RunPageHostToWebview, or why it is not one. */
export function parseRunPageMessage(x: unknown): { message: RunPageHostToWebview } | { error: string } {
  if (!isObj(x)) return { error: 'not a message' };
  if (x.type === 'show' && isPage(x.page) && typeof x.now === 'number') return { message: x as unknown as RunPageHostToWebview };
  if (x.type === 'error' && typeof x.message === 'string') return { message: x as unknown as RunPageHostToWebview };
  return { error: `malformed or unknown message "${String(x.type)}"` };
}

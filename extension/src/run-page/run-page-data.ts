/**
 * What the run page shows, gathered from the daemon: the run with its params, metrics,
 * checkpoints, evals and launch spec (runs/get), the end of its log and its error line
 * (runs/logTail), its lineage one step each way, its eval runs and the model aliases on its
 * checkpoints. No vscode here, so it is tested against a real daemon. A part that cannot be
 * read leaves a gap (null), never a page that fails to open.
 */
import type { KeelClient } from '../../../daemon/src/client/client.ts';
import type { RunPageData, RunSummary } from '../../../daemon/src/protocol/index.ts';

type Caller = Pick<KeelClient, 'call'>;

/** Lines of the log the page shows. */
export const PAGE_TAIL_LINES = 30;

/** The aliases pointing at each checkpoint, by checkpoint id. */
async function aliasesByCheckpoint(client: Caller): Promise<Record<string, string[]>> {
  const { models } = await client.call('models/list', {});
  const out: Record<string, string[]> = {};
  for (const m of models) {
    if (!m.checkpoint) continue;
    (out[m.checkpoint.id] ??= []).push(m.alias);
  }
  return out;
}

/** The summary of a run and the eval runs of it, from one `runs/list` of its project. */
async function listed(client: Caller, runId: string, projectId: string | null): Promise<{ summary: RunSummary | null; evalRuns: RunSummary[] }> {
  const { runs } = await client.call('runs/list', { ...(projectId ? { project: projectId } : {}), limit: 500 });
  return {
    summary: runs.find((r) => r.id === runId) ?? null,
    evalRuns: runs.filter((r) => r.parentRunId === runId && r.kind === 'eval'),
  };
}

/** Loads the page of `runId` (an id, id prefix or name). Rejects only when the run itself cannot be read. */
export async function loadRunPage(client: Caller, runId: string): Promise<RunPageData> {
  const detail = await client.call('runs/get', { run: runId });
  const id = detail.run.id;
  const [list, tail, lineage, aliases] = await Promise.all([
    listed(client, id, detail.run.projectId).catch(() => ({ summary: null, evalRuns: [] })),
    client.call('runs/logTail', { run: id, lines: PAGE_TAIL_LINES }).then(({ lines, errorLine, complete }) => ({ lines, errorLine, complete }), () => null),
    client.call('lineage/get', { ref: id, depth: 1 }).catch(() => null),
    aliasesByCheckpoint(client).catch(() => ({})),
  ]);
  const parentId = list.summary?.parentRunId ?? null;
  const parent = parentId ? await client.call('runs/get', { run: parentId }).then((p) => ({ id: p.run.id, name: p.run.name }), () => null) : null;
  return { detail, summary: list.summary, tail, lineage, evalRuns: list.evalRuns, parent, aliases };
}

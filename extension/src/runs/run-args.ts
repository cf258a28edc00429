/**
 * What a run command was called with: a Runs-view node (`{runId}`), a run id (hover
 * links, other commands, tests), or a multi-selection `(clicked, selected[])` from a tree
 * menu. Pure; shared with the compare and lineage features.
 */

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The run id in one argument, if any. */
export function runIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg.trim() !== '' ? arg : undefined;
  if (!isRecord(arg)) return undefined;
  if (typeof arg.runId === 'string') return arg.runId;
  if (isRecord(arg.run) && typeof arg.run.id === 'string') return arg.run.id;
  return undefined;
}

/**
 * Every run id in a command's arguments, in order, without repeats. A tree menu passes
 * `(clicked, selection)`: the selection wins when it holds the clicked node.
 */
export function runIdsFromArgs(args: readonly unknown[]): string[] {
  const flat = args.flatMap((a) => (Array.isArray(a) ? (a as unknown[]) : [a]));
  const ids = flat.map(runIdOf).filter((x): x is string => x !== undefined);
  return [...new Set(ids)];
}

/** A checkpoint named by a command argument: a Runs-view checkpoint node, or an id/path string. */
export function checkpointRefOf(arg: unknown): { ref: string; runId?: string; step?: number | null } | undefined {
  if (typeof arg === 'string') return arg.trim() !== '' ? { ref: arg } : undefined;
  if (!isRecord(arg) || !isRecord(arg.checkpoint)) return undefined;
  const c = arg.checkpoint;
  if (typeof c.id !== 'string') return undefined;
  return {
    ref: c.id,
    ...(typeof c.runId === 'string' ? { runId: c.runId } : {}),
    ...(typeof c.step === 'number' || c.step === null ? { step: c.step } : {}),
  };
}

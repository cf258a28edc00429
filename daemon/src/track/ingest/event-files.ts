/**
 * TensorBoard event files, each tailed from its stored byte cursor. The files of one run are
 * merged on (tag, step) with the later wall time winning — across files too, so a resumed run
 * that logs steps again overwrites the old values, and an old file read late never overwrites
 * newer ones (its points are checked against the wall times already stored).
 */
import { basename } from 'node:path';
import { mergeScalarPoints, newTfeventsCursor, readTfeventsFile } from '../tfevents/index.ts';
import type { ScalarPoint, TfeventsCursor } from '../tfevents/index.ts';
import { addErrorIssue, addIssue, fileStamp, sameFile, sameVersion, stampFrom } from './context.ts';
import { writePoints } from './metric-writes.ts';
import type { FileStamp, IngestContext } from './context.ts';

/** Bytes decoded per read call; its points are written before the next call. */
const CHUNK_BUDGET_BYTES = 4 * 1024 * 1024;

interface EventCursorState extends FileStamp {
  pluginByTag: Record<string, string>;
  halted?: string;
}

/** The writer's start time from the name (`events.out.tfevents.<time>.<host>…`), for ordering files oldest first. */
function startTime(file: string): number {
  const m = /^events\.out\.tfevents\.(\d+(?:\.\d+)?)/.exec(basename(file));
  return m?.[1] === undefined ? 0 : Number(m[1]);
}

/** Reads the new records of every event file, oldest writer first. */
export async function ingestEventFiles(ctx: IngestContext, files: readonly string[]): Promise<void> {
  const ordered = [...files].sort((a, b) => startTime(a) - startTime(b) || (a < b ? -1 : a > b ? 1 : 0));
  for (const file of ordered) {
    try {
      await ingestEventFile(ctx, file);
    } catch (err) {
      addErrorIssue(ctx, file, err);
    }
  }
}

async function ingestEventFile(ctx: IngestContext, file: string): Promise<void> {
  const stamp = await fileStamp(file);
  if (stamp === undefined) return;
  const stored = ctx.store.cursors.get(ctx.owner, file);
  const storedState = eventState(stored?.state);
  if (stored !== undefined && sameVersion(storedState, stamp)) return;
  // A replaced or shrunk file is read again from the start.
  let cursor: TfeventsCursor = stored !== undefined && storedState !== undefined && sameFile(storedState, stamp) && stored.byteOffset <= stamp.size
    ? { offset: stored.byteOffset, pluginByTag: storedState.pluginByTag, ...(storedState.halted !== undefined ? { halted: storedState.halted } : {}) }
    : newTfeventsCursor();
  for (;;) {
    const result = await readTfeventsFile(file, cursor, { maxBytes: CHUNK_BUDGET_BYTES });
    if (result.error !== undefined) {
      addIssue(ctx, file, result.error);
      return;
    }
    const points = newerOnly(ctx, result.points).map((p) => ({ key: p.tag, step: p.step, value: p.value, wallTime: p.wallTime === 0 ? null : p.wallTime, ...(p.bits !== undefined ? { bits: p.bits } : {}) }));
    await writePoints(ctx, file, points, 'tfevents');
    for (const c of result.corrupt) addIssue(ctx, file, `record at byte ${c.offset}: ${c.reason}`);
    cursor = result.cursor;
    const state: EventCursorState = { ...stamp, pluginByTag: { ...cursor.pluginByTag }, ...(cursor.halted !== undefined ? { halted: cursor.halted } : {}) };
    ctx.store.cursors.put(ctx.owner, file, { byteOffset: cursor.offset, state });
    if (result.eof) return;
  }
}

/**
 * One point per (tag, step), the latest wall time winning — within the batch, and against the
 * points already stored for steps the batch overlaps (only those ranges are looked up).
 */
function newerOnly(ctx: IngestContext, points: readonly ScalarPoint[]): ScalarPoint[] {
  if (points.length === 0) return [];
  const merged = mergeScalarPoints(points);
  const series = new Map(ctx.store.metrics.series(ctx.runId).map((s) => [s.key, s]));
  const out: ScalarPoint[] = [];
  for (let i = 0; i < merged.length;) {
    const tag = (merged[i] as ScalarPoint).tag;
    let j = i;
    while (j < merged.length && (merged[j] as ScalarPoint).tag === tag) j++;
    const group = merged.slice(i, j);
    i = j;
    const first = (group[0] as ScalarPoint).step;
    const last = (group[group.length - 1] as ScalarPoint).step;
    const s = series.get(tag);
    if (s?.firstStep == null || s.lastStep == null || first > s.lastStep || last < s.firstStep) {
      out.push(...group);
      continue;
    }
    const stored = new Map<number, number | null>();
    for (const p of ctx.store.metrics.points(ctx.runId, tag, { fromStep: first, toStep: last })) stored.set(p.step, p.wallTime);
    for (const p of group) {
      const wall = stored.get(p.step);
      if (wall === undefined || wall === null || !(p.wallTime < wall)) out.push(p);
    }
  }
  return out;
}

/** Reads the stored state (untrusted JSON). */
function eventState(state: unknown): EventCursorState | undefined {
  const stamp = stampFrom(state);
  if (stamp === undefined) return undefined;
  const s = state as Record<string, unknown>;
  const plugins: Record<string, string> = {};
  if (typeof s.pluginByTag === 'object' && s.pluginByTag !== null) {
    for (const [tag, plugin] of Object.entries(s.pluginByTag)) if (typeof plugin === 'string') plugins[tag] = plugin;
  }
  return { ...stamp, pluginByTag: plugins, ...(typeof s.halted === 'string' ? { halted: s.halted } : {}) };
}

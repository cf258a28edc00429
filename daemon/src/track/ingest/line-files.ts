/**
 * Growing line logs — `metrics.jsonl` and torchtune `log_<unix>.txt` — read from their stored
 * byte cursors, complete lines only (a line still being written waits for its newline), in
 * bounded chunks so a huge log never sits in memory whole.
 */
import { startCursor } from '../formats/index.ts';
import type { ByteCursor, FileReadResult, ReadOptions } from '../formats/index.ts';
import { addErrorIssue, addParseIssues, fileStamp, sameFile, sameVersion, stampFrom } from './context.ts';
import { writePoints } from './metric-writes.ts';
import type { MetricSource } from '../formats/metric-names.ts';
import type { FileStamp, IngestContext } from './context.ts';

/** A reader such as `readMetricsJsonlFile` or `readTorchtuneLogFile`. */
export type LineFileReader = (path: string, cursor: ByteCursor, options?: ReadOptions) => Promise<FileReadResult>;

/** Bytes read per call of the reader; its points are written before the next call. */
const CHUNK_BUDGET_BYTES = 8 * 1024 * 1024;

interface LineCursorState extends FileStamp {
  discardingLongLine?: boolean;
}

/** Reads the new complete lines of each file (in the order given: later files win on a shared (step, key)). */
export async function ingestLineFiles(ctx: IngestContext, files: readonly string[], read: LineFileReader, source: MetricSource): Promise<void> {
  for (const file of files) {
    try {
      await ingestLineFile(ctx, file, read, source);
    } catch (err) {
      addErrorIssue(ctx, file, err);
    }
  }
}

async function ingestLineFile(ctx: IngestContext, file: string, read: LineFileReader, source: MetricSource): Promise<void> {
  const stamp = await fileStamp(file);
  if (stamp === undefined) return;
  const stored = ctx.store.cursors.get(ctx.owner, file);
  const storedStamp = stampFrom(stored?.state);
  if (stored !== undefined && sameVersion(storedStamp, stamp)) return;
  // A replaced file (other device/inode) starts again from its first byte.
  let cursor: ByteCursor = stored !== undefined && sameFile(storedStamp, stamp)
    ? { offset: stored.byteOffset, line: stored.lineCount, ...(discarding(stored.state) ? { discardingLongLine: true } : {}) }
    : startCursor();
  for (;;) {
    const result = await read(file, cursor, { maxBytes: CHUNK_BUDGET_BYTES });
    await writePoints(ctx, file, result.points, source);
    addParseIssues(ctx, file, result.issues);
    cursor = result.cursor;
    const state: LineCursorState = { ...stamp, ...(cursor.discardingLongLine === true ? { discardingLongLine: true } : {}) };
    ctx.store.cursors.put(ctx.owner, file, { byteOffset: cursor.offset, lineCount: cursor.line, state });
    if (!result.more) return;
  }
}

function discarding(state: unknown): boolean {
  return typeof state === 'object' && state !== null && (state as Record<string, unknown>).discardingLongLine === true;
}

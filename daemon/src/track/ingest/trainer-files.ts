/**
 * Hugging Face Trainer files: `trainer_state.json` (the whole log_history, rewritten at each
 * save) and the `*_results.json` summaries. trainer_state.json is streamed through a parse
 * worker in batches that are upserted on (step, key) as they come, one transaction each;
 * results files are read whole. A file whose identity, size and mtime are unchanged since
 * its last full read is skipped.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import { FormatError } from '../formats/index.ts';
import { INLINE_PARSE_BYTES, readHfResultsFile } from '../formats/results-file.ts';
import type { PointBatch, TrainerStateRead } from '../formats/trainer-state-file.ts';
import type { TrainerStateFacts } from '../formats/trainer-state-stream.ts';
import { addErrorIssue, addParseIssues, fileStamp, stampFrom, sameVersion } from './context.ts';
import type { FileStamp, IngestContext } from './context.ts';
import { writeColumns, writePoints } from './metric-writes.ts';
import { defaultParsePool, type ParsePool } from '../../work/parse-pool.ts';
import type { RunDirLayout } from './scan.ts';

/** What the run's trainer_state.json says about the run as a whole. */
export interface TrainerFacts {
  file: string;
  globalStep?: number;
  maxSteps?: number;
  shouldTrainingStop?: boolean;
  /** Folder name of `best_model_checkpoint` (a path on the training host: matched by name only). */
  bestCheckpointName?: string;
}

/**
 * The trainer_state.json that describes the run best: the root one (written at the end), else
 * the one in the highest `checkpoint-N/`, else `last-checkpoint/`'s.
 */
export function chooseTrainerState(layout: RunDirLayout): string | undefined {
  if (layout.rootTrainerState !== undefined) return layout.rootTrainerState;
  const hf = layout.checkpoints
    .filter((c) => c.kind === 'hf' && existsSync(join(c.path, 'trainer_state.json')))
    .sort((a, b) => (b.step ?? 0) - (a.step ?? 0));
  const last = layout.checkpoints.find((c) => c.kind === 'hf-last' && existsSync(join(c.path, 'trainer_state.json')));
  const chosen = hf[0] ?? last;
  return chosen === undefined ? undefined : join(chosen.path, 'trainer_state.json');
}

/**
 * Streams `file` and upserts every log_history point as it comes, then the end-of-training
 * summary (at the final global step). A file that is cut short (being rewritten) or broken is
 * an issue and is read again next time (its cursor is not moved; points already upserted
 * from it are re-upserted then). Returns the run facts (from the last good read when the
 * file is unchanged or unreadable) and whether it was read now.
 */
export async function ingestTrainerState(ctx: IngestContext, file: string): Promise<{ facts: TrainerFacts | undefined; read: boolean }> {
  const cursor = ctx.store.cursors.get(ctx.owner, file);
  const previous = factsFrom(file, cursor?.state);
  const stamp = await fileStamp(file);
  if (stamp === undefined) return { facts: previous, read: false };
  if (sameVersion(stampFrom(cursor?.state), stamp)) return { facts: previous, read: false };
  let state: TrainerStateRead;
  try {
    state = await ctx.parser.streamTrainerState(file, (batch) => writeBatch(ctx, file, batch), ctx.batchSize);
  } catch (err) {
    addErrorIssue(ctx, file, err, err instanceof FormatError && err.retryLater ? '; read again next time' : '');
    return { facts: previous, read: false };
  }
  addParseIssues(ctx, file, state.issues);
  const finalStep = state.globalStep ?? state.lastStep;
  // The end-of-training entry: its `epoch` is a point of the epoch curve, the rest are summary values.
  await writePoints(ctx, file, Object.entries(state.summary).map(([key, value]) => ({ key, step: finalStep, value })), 'trainer_state');
  const facts = toFacts(file, state);
  // The stamp from before the read: a file rewritten meanwhile differs from it, so it is read again.
  ctx.store.cursors.put(ctx.owner, file, { byteOffset: stamp.size, state: { ...stamp, facts: { ...facts, file: undefined } } });
  return { facts, read: true };
}

/** One batch from the parse worker → one store transaction; then the event loop answers others before the next. */
async function writeBatch(ctx: IngestContext, file: string, batch: PointBatch): Promise<void> {
  await writeColumns(ctx, file, batch, 'trainer_state');
  await setImmediate();
}

/**
 * Records each numeric value of the HF `*_results.json` files as a summary value of the run
 * (at its final global step), under canonical keys (`eval_loss` → `eval/loss`, `train_samples`
 * → `train/train_samples`, `test_rouge1` → `test/rouge1`). Read in the order all, train, eval,
 * test, predict: a later file of the same kind replaces an earlier one's value.
 * `force` re-reads unchanged files (trainer_state was just re-read and may have overwritten them).
 */
export async function ingestHfResults(ctx: IngestContext, files: readonly string[], finalStep: number, force: boolean): Promise<void> {
  for (const file of files) {
    const stamp = await fileStamp(file);
    if (stamp === undefined) continue;
    const cursor = ctx.store.cursors.get(ctx.owner, file);
    if (!force && sameVersion(stampFrom(cursor?.state), stamp)) continue;
    try {
      const results = stamp.size > INLINE_PARSE_BYTES ? await ctx.parser.readHfResults(file) : await readHfResultsFile(file);
      addParseIssues(ctx, file, results.issues);
      await writePoints(ctx, file, Object.entries(results.metrics).map(([key, value]) => ({ key, step: finalStep, value })), 'hf_results', { allSummary: true });
      ctx.store.cursors.put(ctx.owner, file, { byteOffset: stamp.size, state: stamp satisfies FileStamp });
    } catch (err) {
      addErrorIssue(ctx, file, err);
    }
  }
}

/**
 * `global_step` of a trainer_state.json, read in a parse worker without reading log_history
 * (HF writes keys sorted, so it comes first); undefined when absent or unreadable.
 */
export async function readGlobalStep(file: string, parser: ParsePool = defaultParsePool()): Promise<number | undefined> {
  return parser.readTrainerStateNumber(file, 'global_step').catch(() => undefined);
}

function toFacts(file: string, state: TrainerStateFacts): TrainerFacts {
  const facts: TrainerFacts = { file };
  if (state.globalStep !== undefined) facts.globalStep = state.globalStep;
  if (state.maxSteps !== undefined) facts.maxSteps = state.maxSteps;
  if (state.shouldTrainingStop !== undefined) facts.shouldTrainingStop = state.shouldTrainingStop;
  if (state.bestCheckpointName !== undefined) facts.bestCheckpointName = state.bestCheckpointName;
  return facts;
}

/** Facts stored with the cursor of the last good read (untrusted JSON). */
function factsFrom(file: string, state: unknown): TrainerFacts | undefined {
  if (typeof state !== 'object' || state === null) return undefined;
  const raw = (state as Record<string, unknown>).facts;
  if (typeof raw !== 'object' || raw === null) return undefined;
  const f = raw as Record<string, unknown>;
  const facts: TrainerFacts = { file };
  if (typeof f.globalStep === 'number') facts.globalStep = f.globalStep;
  if (typeof f.maxSteps === 'number') facts.maxSteps = f.maxSteps;
  if (typeof f.shouldTrainingStop === 'boolean') facts.shouldTrainingStop = f.shouldTrainingStop;
  if (typeof f.bestCheckpointName === 'string') facts.bestCheckpointName = f.bestCheckpointName;
  return facts;
}

/** True when the facts say training ended: global_step reached max_steps, or should_training_stop. */
export function trainingEnded(facts: TrainerFacts | undefined): boolean {
  if (facts === undefined) return false;
  if (facts.shouldTrainingStop === true) return true;
  return facts.globalStep !== undefined && facts.maxSteps !== undefined && facts.maxSteps > 0 && facts.globalStep >= facts.maxSteps;
}

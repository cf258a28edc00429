/**
 * Checkpoint folders of a run → checkpoint records: step, size, manifest hash, kind, base
 * model, and the edges run → checkpoint (produced), base → run and base → checkpoint
 * (base_model; the base is a model record, or a checkpoint of another run). The output
 * folder's own final model is flagged `final`; when it holds a `checkpoint-N`'s weights the
 * store makes it that checkpoint's second location. A checkpoint folder seen gone (a
 * `save_total_limit` rotation) is marked deleted, and present again if it comes back.
 *
 * A folder still being written is never registered half-done. It is registered only when
 * (1) its files are the same (path, size, mtime) before and after hashing, and
 * (2) it is known to be complete:
 *   - HF `checkpoint-N/` and `last-checkpoint/`: `trainer_state.json` is in it and written to
 *     its closing `}` (the Trainer writes it after the weights, optimizer and scheduler);
 *   - other folders (`epoch_N/`, the output folder's final weights, `final/`…): the same files
 *     were seen by an earlier look of this ingester, or nothing in it changed for `quietMs`;
 *   - any folder: the run looks finished, or the folder is being imported (nothing writes it).
 * Otherwise it is reported as pending and looked at again on the next ingest.
 */
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { EdgeTypes } from '../../store/index.ts';
import { hashTree } from '../hash/index.ts';
import type { FileHasher, HashCache } from '../hash/index.ts';
import { addErrorIssue, addIssue } from './context.ts';
import type { IngestContext } from './context.ts';
import { lookAtFolder } from './folder-look.ts';
import type { FolderLook } from './folder-look.ts';
import { isInside, readBaseModelRef } from './model-refs.ts';
import { recordBaseModel, type BaseModelRef } from '../models/base-model.ts';
import { readGlobalStep } from './trainer-files.ts';
import type { CheckpointFolder } from './scan.ts';
import { checkpointKind, holdsWeights, isRunRecordFile } from './weights.ts';

/** What the checkpoint pass needs beyond the context; `pending` lives as long as the ingester. */
export interface CheckpointRules {
  hasher: FileHasher;
  hashCache: HashCache;
  /** Folder path → fingerprint seen at its last look while it was pending. */
  pending: Map<string, string>;
  quietMs: number;
  now: () => number;
}

/** Facts about the run for this pass. */
export interface RunFacts {
  finished: boolean;
  imported: boolean;
  /** The run's final (or latest) global step, when known. */
  finalStep: number | undefined;
}

/** Registers every complete, changed checkpoint folder; one bad folder never stops the others. */
export async function ingestCheckpointFolders(
  ctx: IngestContext, folders: readonly CheckpointFolder[], rules: CheckpointRules, run: RunFacts,
): Promise<void> {
  for (const folder of folders) {
    try {
      await ingestCheckpointFolder(ctx, folder, rules, run);
    } catch (err) {
      addErrorIssue(ctx, folder.path, err);
    }
  }
}

async function ingestCheckpointFolder(ctx: IngestContext, folder: CheckpointFolder, rules: CheckpointRules, run: RunFacts): Promise<void> {
  const topOnly = folder.kind === 'root';
  const look = await lookAtFolder(folder.path, topOnly);
  if (look.files.length === 0) return;
  if ((folder.kind === 'root' || folder.kind === 'other') && !holdsWeights(look.files)) return;
  const existing = ctx.store.checkpoints.byLocation(folder.path);
  if (existing?.runId === ctx.runId && storedFingerprint(ctx, folder.path) === look.fingerprint) {
    rules.pending.delete(folder.path);
    return;
  }
  if (!(await isComplete(folder, look, rules, run))) {
    markPending(ctx, rules, folder.path, look.fingerprint);
    return;
  }
  if (look.limitHit !== undefined) addIssue(ctx, folder.path, look.limitHit);
  const tree = await hashTree(folder.path, {
    cache: rules.hashCache,
    pool: rules.hasher,
    what: 'checkpoint folder',
    ...(topOnly ? { ignore: (rel: string, isDir: boolean) => isDir || isRunRecordFile(rel) } : {}),
  });
  const again = await lookAtFolder(folder.path, topOnly);
  // Files deleted or changed while hashed: still being written, look again later. Anything
  // else left out (a link leaving the folder, a FIFO) will not change by waiting: the
  // checkpoint is registered without it, and the run's issues say what was left out.
  if (again.fingerprint !== look.fingerprint || tree.skipped.some((s) => s.kind === 'deleted' || s.kind === 'changed')) {
    markPending(ctx, rules, folder.path, again.fingerprint);
    return;
  }
  for (const s of tree.skipped) addIssue(ctx, join(folder.path, s.path), `left out of the checkpoint: ${s.reason}`);
  const step = await checkpointStep(folder, look, run);
  const base = await baseModelOf(ctx, folder, look, rules);
  const changed = ctx.store.transaction(() => {
    const result = ctx.store.checkpoints.upsert({
      location: folder.path, runId: ctx.runId, step: step ?? null, hash: tree.hash, sizeBytes: tree.size,
      kind: checkpointKind(look.files), baseModel: base?.ref ?? null, manifest: { files: tree.files }, final: folder.kind === 'root',
    });
    const runRef = { kind: 'run' as const, id: ctx.runId };
    const checkpointRef = { kind: 'checkpoint' as const, id: result.checkpoint.id };
    ctx.store.lineage.addEdge(runRef, checkpointRef, EdgeTypes.Produced);
    if (base !== undefined) {
      ctx.store.lineage.addEdge(base.record, runRef, EdgeTypes.BaseModel);
      ctx.store.lineage.addEdge(base.record, checkpointRef, EdgeTypes.BaseModel);
    }
    ctx.store.cursors.put(ctx.owner, folder.path, { byteOffset: 0, state: { fingerprint: look.fingerprint } });
    return result.changed;
  });
  rules.pending.delete(folder.path);
  if (changed) ctx.report.checkpoints++;
}

/** The completeness rule of the module comment. */
async function isComplete(folder: CheckpointFolder, look: FolderLook, rules: CheckpointRules, run: RunFacts): Promise<boolean> {
  if (run.imported || run.finished) return true;
  if (folder.kind === 'hf' || folder.kind === 'hf-last') {
    return look.files.includes('trainer_state.json') && (await endsLikeJsonObject(join(folder.path, 'trainer_state.json')));
  }
  if (rules.now() - look.newestMtimeMs >= rules.quietMs) return true;
  return rules.pending.get(folder.path) === look.fingerprint;
}

/** True when the file's last non-blank character is `}`: a JSON object written to its end (cheap: reads the tail only). */
async function endsLikeJsonObject(file: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(file, 'r');
    const size = (await fh.stat()).size;
    const tail = Buffer.alloc(Math.min(size, 64));
    await fh.read(tail, 0, tail.length, size - tail.length);
    return tail.toString('latin1').trimEnd().endsWith('}');
  } catch {
    return false;
  } finally {
    await fh?.close();
  }
}

function markPending(ctx: IngestContext, rules: CheckpointRules, path: string, fingerprint: string): void {
  rules.pending.set(path, fingerprint);
  ctx.report.pending.push(path);
}

function storedFingerprint(ctx: IngestContext, path: string): string | undefined {
  const state = ctx.store.cursors.get(ctx.owner, path)?.state;
  if (typeof state !== 'object' || state === null) return undefined;
  const fp = (state as Record<string, unknown>).fingerprint;
  return typeof fp === 'string' ? fp : undefined;
}

/**
 * `checkpoint-N` → N; torchtune `epoch_N` → N (an epoch number, not a global step: torchtune
 * names its folders by epoch); `last-checkpoint/` and other folders → their trainer_state's
 * global_step; the output folder's final weights → the run's final step.
 */
async function checkpointStep(folder: CheckpointFolder, look: FolderLook, run: RunFacts): Promise<number | undefined> {
  if (folder.step !== undefined) return folder.step;
  if (look.files.includes('trainer_state.json')) {
    const step = await readGlobalStep(join(folder.path, 'trainer_state.json'));
    if (step !== undefined) return step;
  }
  return folder.kind === 'root' || folder.kind === 'hf-last' ? run.finalStep : undefined;
}

/**
 * The folder's base model (PEFT's `base_model_name_or_path`, else config.json's
 * `_name_or_path`) as a record, unless it points back into this run's own folder.
 */
async function baseModelOf(ctx: IngestContext, folder: CheckpointFolder, look: FolderLook, rules: CheckpointRules): Promise<{ ref: string; record: BaseModelRef } | undefined> {
  const ref = await readBaseModelRef(folder.path, look.files, (file, message) => addIssue(ctx, file, `${message}; base model not read`));
  if (ref === undefined) return undefined;
  const record = await recordBaseModel({ store: ctx.store, hasher: rules.hasher, hashCache: rules.hashCache }, ref, {
    bases: ctx.projectRoot === null ? [] : [ctx.projectRoot], exclude: ctx.dir,
  });
  if (record === undefined) return undefined;
  // The base as one name: the model's ref (a real path, a hub id) or the checkpoint's location.
  const name = record.kind === 'model' ? ctx.store.baseModels.get(record.id)?.ref : ctx.store.checkpoints.get(record.id)?.location;
  return { ref: name ?? ref, record };
}

/**
 * Marks the run's checkpoints inside its output folder that are gone from disk as deleted
 * (with when), and those back on disk as present. Returns how many records changed.
 */
export function markCheckpointPresence(ctx: IngestContext, now = Date.now()): number {
  let changed = 0;
  for (const { location } of ctx.store.checkpoints.locationsOfRun(ctx.runId)) {
    if (!isInside(location, ctx.dir)) continue;
    if (ctx.store.checkpoints.setPresence(location, existsSync(location), now)) changed++;
  }
  return changed;
}

/**
 * Marks the run's best checkpoint: Trainer's `best_model_checkpoint` is a path on the training
 * host, so it is matched by folder name only (`…/checkpoint-3000` → this run's `checkpoint-3000`).
 * Returns the checkpoint id, or undefined when no checkpoint of this run has that name.
 */
export function markBestCheckpoint(ctx: IngestContext, bestName: string | undefined): string | undefined {
  if (bestName === undefined) return undefined;
  const best = ctx.store.checkpoints.byRun(ctx.runId).find((c) => basename(c.location) === bestName);
  if (best === undefined) return undefined;
  ctx.store.checkpoints.setBest(ctx.runId, best.id);
  return best.id;
}

/**
 * Which checkpoint (or run) an eval measured, from the model path the eval names
 * (lm-eval `pretrained=` / `peft=`). Rules, first that applies wins:
 *  1. A path that exists here (absolute, or relative to the results file's folder or the
 *     project root): its real path is a checkpoint location, or lies inside one (the nearest
 *     enclosing checkpoint folder), or is / lies inside a run's output folder (subject: the
 *     run). Above an unregistered `checkpoint-N/` (still pending) only the run can match, never
 *     the run's final weights in its output folder.
 *  2. The reference exactly as written is a known checkpoint location (e.g. a base model
 *     registered by its hub id, `Qwen/Qwen3-8B`).
 *  3. A path from another machine: its trailing segments match the trailing segments of a
 *     known checkpoint location — at least two segments (`run1/checkpoint-200`), or one when
 *     that segment is not a generic name like `checkpoint-200` or `final`. The path itself is
 *     tried first, then up to two parents (a file or subfolder inside a checkpoint), never
 *     climbing out of a `checkpoint-N`/`epoch_N`/`last-checkpoint` folder. The
 *     longest match wins; a tie is broken in favour of checkpoints of the same project, and an
 *     unbroken tie is ambiguous (reported, not matched).
 */
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { Checkpoint } from '../../protocol/index.ts';
import type { Store } from '../../store/index.ts';
import { existingRealPath } from './model-refs.ts';

/** The record an eval measured. */
export interface EvalSubject {
  kind: 'checkpoint' | 'run';
  id: string;
}

/** Outcome of matching one reference. */
export interface ModelMatch {
  subject?: EvalSubject;
  /** Locations that matched equally well (rule 3), when the match was ambiguous. */
  ambiguous?: string[];
}

const GENERIC_SEGMENT = /^(checkpoint-\d+|epoch_\d+|last-checkpoint|final(_model)?|outputs?|model|models|adapter_model|adapter|merged|best(_model)?|latest|runs?)$/i;
const CHECKPOINT_FOLDER = /^(checkpoint-\d+|epoch_\d+|last-checkpoint)$/;
const MAX_PARENTS = 2;

/** Matches `ref` (see the module comment); `bases` are folders a relative path is resolved against. */
export function matchModelRef(store: Store, ref: string, bases: readonly string[], projectId: string | null): ModelMatch {
  const trimmed = ref.trim().replace(/[\\/]+$/, '');
  if (trimmed === '') return {};
  const local = matchLocalPath(store, trimmed, bases);
  if (local !== undefined) return { subject: local };
  const named = store.checkpoints.byLocation(trimmed);
  if (named !== undefined) return { subject: { kind: 'checkpoint', id: named.id } };
  return matchBySuffix(store, trimmed, projectId);
}

/** Rule 1: a path that exists on this machine. */
function matchLocalPath(store: Store, ref: string, bases: readonly string[]): EvalSubject | undefined {
  const candidates = isAbsolute(ref) ? [ref] : bases.map((b) => resolve(b, ref));
  for (const candidate of candidates) {
    const real = existingRealPath(candidate);
    if (real === undefined) continue;
    // Once above an unregistered checkpoint-like folder, an enclosing checkpoint (the run's
    // final weights in its output folder) is not what was evaluated: only the run is.
    let crossedCheckpointFolder = false;
    for (let p = real; ; p = dirname(p)) {
      const ckpt = crossedCheckpointFolder ? undefined : store.checkpoints.byLocation(p);
      if (ckpt !== undefined) return { kind: 'checkpoint', id: ckpt.id };
      const run = store.runs.findByOutputDir(p);
      if (run !== undefined) return { kind: 'run', id: run.id };
      if (dirname(p) === p) break;
      if (CHECKPOINT_FOLDER.test(basename(p))) crossedCheckpointFolder = true;
    }
  }
  return undefined;
}

function segmentsOf(path: string): string[] {
  return path.split(/[\\/]+/).filter((s) => s.length > 0);
}

/** Number of equal trailing segments. */
function commonTail(a: readonly string[], b: readonly string[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[a.length - 1 - n] === b[b.length - 1 - n]) n++;
  return n;
}

/** Rule 3: trailing segments of a path written on another machine. */
function matchBySuffix(store: Store, ref: string, projectId: string | null): ModelMatch {
  const segments = segmentsOf(ref);
  for (let drop = 0; drop <= MAX_PARENTS && drop < segments.length; drop++) {
    // Never climb out of a checkpoint-like folder: its parent is the run, not what was evaluated.
    if (drop > 0 && CHECKPOINT_FOLDER.test(segments[segments.length - drop] ?? '')) break;
    const segs = segments.slice(0, segments.length - drop);
    const tail = segs[segs.length - 1] as string;
    const minScore = GENERIC_SEGMENT.test(tail) ? 2 : 1;
    let best: Checkpoint[] = [];
    let bestScore = 0;
    for (const c of store.checkpoints.byLastSegment(tail)) {
      if (!/[\\/]/.test(c.matched) || best.some((b) => b.id === c.id)) continue;
      const score = commonTail(segs, segmentsOf(c.matched));
      if (score < minScore || score < bestScore) continue;
      if (score > bestScore) best = [];
      bestScore = score;
      best.push(c);
    }
    if (best.length === 0) continue;
    const picked = best.length > 1 ? sameProject(store, best, projectId) : best;
    if (picked.length === 1) return { subject: { kind: 'checkpoint', id: (picked[0] as Checkpoint).id } };
    return { ambiguous: best.map((c) => c.location) };
  }
  return {};
}

function sameProject(store: Store, candidates: Checkpoint[], projectId: string | null): Checkpoint[] {
  if (projectId === null) return candidates;
  return candidates.filter((c) => c.runId !== null && store.runs.get(c.runId)?.projectId === projectId);
}

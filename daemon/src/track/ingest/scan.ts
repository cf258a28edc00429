/**
 * One look at a training output folder: which files hold metrics, which folders are
 * checkpoints, and whether the run looks finished. Names and folder listings only; no file
 * content is read here.
 */
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { hfResultsKind, isLmEvalResultsFile, isTorchtuneLogFile } from '../formats/index.ts';
import { holdsWeights, isRunRecordFile } from './weights.ts';

/** How a checkpoint folder was recognised. */
export type CheckpointFolderKind =
  /** HF `checkpoint-<step>/`. */
  | 'hf'
  /** HF `last-checkpoint/` (hub_strategy=checkpoint); step from its trainer_state.json. */
  | 'hf-last'
  /** torchtune `epoch_<N>/`: the step recorded is the epoch number N. */
  | 'epoch'
  /** Another direct subfolder holding weights (`final/`, `merged/`…). */
  | 'other'
  /** The output folder itself, holding the final weights. */
  | 'root';

/** A folder that is (or may become) a checkpoint. */
export interface CheckpointFolder {
  path: string;
  name: string;
  kind: CheckpointFolderKind;
  /** From the folder name (`checkpoint-200` → 200, `epoch_2` → 2); undefined when the name has none. */
  step?: number;
}

/** What one look at an output folder found (absolute paths). */
export interface RunDirLayout {
  dir: string;
  /** `trainer_state.json` in the root, if present. */
  rootTrainerState?: string;
  hfResults: string[];
  tfevents: string[];
  metricsJsonl: string[];
  torchtuneLogs: string[];
  lmEvalCandidates: string[];
  checkpoints: CheckpointFolder[];
  /** Root files that only a finished run leaves (trainer_state.json, train/all_results.json, qlora's `completed`). */
  finishedMarkers: string[];
}

const HF_CHECKPOINT = /^checkpoint-(\d+)$/;
const EPOCH_FOLDER = /^epoch_(\d+)$/;
const FINISHED_MARKERS = new Set(['trainer_state.json', 'train_results.json', 'all_results.json', 'completed']);
/** Subfolders never descended into: tooling caches and hidden folders. */
const SKIP_DIRS = new Set(['node_modules', '__pycache__', 'wandb', 'mlruns']);
const MAX_DEPTH = 6;
const MAX_ENTRIES = 100_000;
const HF_RESULTS_ORDER = ['all', 'train', 'eval', 'test', 'predict'];

/** The checkpoint folder kind for a direct subfolder name, if the name says so. */
function namedCheckpoint(dir: string, name: string): CheckpointFolder | undefined {
  const hf = HF_CHECKPOINT.exec(name);
  if (hf) return { path: join(dir, name), name, kind: 'hf', step: Number(hf[1]) };
  const epoch = EPOCH_FOLDER.exec(name);
  if (epoch) return { path: join(dir, name), name, kind: 'epoch', step: Number(epoch[1]) };
  if (name === 'last-checkpoint') return { path: join(dir, name), name, kind: 'hf-last' };
  return undefined;
}

/**
 * Lists `dir` (an absolute real path) as a run folder. Unreadable subfolders are skipped and
 * reported through `onIssue`; only an unreadable root throws.
 */
export async function scanRunDir(dir: string, onIssue: (message: string) => void): Promise<RunDirLayout> {
  const layout: RunDirLayout = {
    dir, hfResults: [], tfevents: [], metricsJsonl: [], torchtuneLogs: [], lmEvalCandidates: [], checkpoints: [], finishedMarkers: [],
  };
  const rootEntries = await readdir(dir, { withFileTypes: true });
  const rootFiles = rootEntries.filter((e) => e.isFile()).map((e) => e.name);
  for (const name of rootFiles) {
    if (name === 'trainer_state.json') layout.rootTrainerState = join(dir, name);
    if (FINISHED_MARKERS.has(name)) layout.finishedMarkers.push(name);
    if (hfResultsKind(name) !== undefined) layout.hfResults.push(join(dir, name));
  }
  layout.hfResults.sort((a, b) => HF_RESULTS_ORDER.indexOf(hfResultsKind(a) ?? '') - HF_RESULTS_ORDER.indexOf(hfResultsKind(b) ?? ''));
  if (holdsWeights(rootFiles.filter((n) => !isRunRecordFile(n)))) {
    layout.checkpoints.push({ path: dir, name: '.', kind: 'root' });
  }
  let seen = rootEntries.length;
  const walk = async (folder: string, entries: Dirent[], depth: number): Promise<void> => {
    for (const e of entries) {
      if (e.isFile()) classifyFile(layout, join(folder, e.name), e.name);
      if (!e.isDirectory() || e.name.startsWith('.') || SKIP_DIRS.has(e.name) || depth >= MAX_DEPTH) continue;
      const path = join(folder, e.name);
      if (depth === 0) {
        const named = namedCheckpoint(folder, e.name);
        if (named) {
          layout.checkpoints.push(named);
          continue;
        }
      }
      let children: Dirent[];
      try {
        children = await readdir(path, { withFileTypes: true });
      } catch (err) {
        onIssue(`${path}: cannot list (${(err as NodeJS.ErrnoException).code ?? String(err)}); skipped`);
        continue;
      }
      seen += children.length;
      if (seen > MAX_ENTRIES) {
        onIssue(`${dir}: more than ${MAX_ENTRIES} entries; the rest of the folder was not scanned`);
        return;
      }
      if (depth === 0 && otherWeightsFolder(children)) layout.checkpoints.push({ path, name: e.name, kind: 'other' });
      await walk(path, children, depth + 1);
    }
  };
  await walk(dir, rootEntries, 0);
  for (const list of [layout.tfevents, layout.metricsJsonl, layout.torchtuneLogs, layout.lmEvalCandidates]) list.sort();
  return layout;
}

/** Metrics files anywhere below the root (but not inside checkpoint folders). */
function classifyFile(layout: RunDirLayout, path: string, name: string): void {
  if (name.startsWith('events.out.tfevents.')) layout.tfevents.push(path);
  else if (name === 'metrics.jsonl') layout.metricsJsonl.push(path);
  else if (isTorchtuneLogFile(name)) layout.torchtuneLogs.push(path);
  else if (isLmEvalResultsFile(name)) layout.lmEvalCandidates.push(path);
}

/** A direct subfolder holding weights at its top (or in qlora's `adapter_model/`) that the name did not give away. */
function otherWeightsFolder(children: Dirent[]): boolean {
  const names = children.filter((c) => c.isFile()).map((c) => c.name);
  return holdsWeights(names) || children.some((c) => c.isDirectory() && c.name === 'adapter_model');
}

/** What {@link looksLikeRunDir} looks for, in words (for messages that refuse a folder). */
export const RUN_DIR_MARKERS = 'trainer_state.json, checkpoint-N/ (or epoch_N/, last-checkpoint/), metrics.jsonl, '
  + 'TensorBoard event files (events.out.tfevents.*, up to 4 folders deep), a torchtune log_*.txt or HF *_results.json';

/** Folders {@link looksLikeRunDir} lists at most: it answers a yes/no question, not a scan. */
const LOOK_MAX_FOLDERS = 2_000;

/**
 * True when `dir` looks like a training output folder: it holds `trainer_state.json`,
 * `checkpoint-N/`, `epoch_N/`, `last-checkpoint/`, `metrics.jsonl`, a torchtune `log_*.txt`,
 * HF `*_results.json`, or TensorBoard event files anywhere below (a few levels deep). It
 * lists at most {@link LOOK_MAX_FOLDERS} folders, asynchronously, and follows no links.
 */
export async function looksLikeRunDir(dir: string): Promise<boolean> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  for (const e of entries) {
    if (e.isFile() && (e.name === 'trainer_state.json' || e.name === 'metrics.jsonl' || isTorchtuneLogFile(e.name)
      || e.name.startsWith('events.out.tfevents.') || hfResultsKind(e.name) !== undefined)) return true;
    if (e.isDirectory() && namedCheckpoint(dir, e.name) !== undefined) return true;
  }
  return hasEventFileBelow(dir, entries);
}

/** Breadth-first, so a shallow event file is found before the folder budget is spent. */
async function hasEventFileBelow(dir: string, entries: Dirent[]): Promise<boolean> {
  let level: { path: string; entries: Dirent[] }[] = [{ path: dir, entries }];
  let listed = 0;
  for (let depth = 1; depth <= 4 && level.length > 0; depth++) {
    const next: typeof level = [];
    for (const folder of level) {
      for (const e of folder.entries) {
        if (!e.isDirectory() || e.name.startsWith('.') || SKIP_DIRS.has(e.name)) continue;
        if (++listed > LOOK_MAX_FOLDERS) return false;
        const path = join(folder.path, e.name);
        const children = await readdir(path, { withFileTypes: true }).catch(() => [] as Dirent[]);
        if (children.some((c) => c.isFile() && (c.name.startsWith('events.out.tfevents.') || isTorchtuneLogFile(c.name)))) return true;
        next.push({ path, entries: children });
      }
    }
    level = next;
  }
  return false;
}

/**
 * One look at a checkpoint folder's files — relative path, size and mtime of each — reduced to
 * a fingerprint. Two looks with the same fingerprint mean nothing was written in between; the
 * file names tell the checkpoint's kind and where its base model is named. Links count only
 * when their target stays inside the folder (the rule hashing follows, hash/links.ts), and a
 * look stops after {@link MAX_ENTRIES} entries and says so.
 */
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { linkBoundary, targetOutside } from '../hash/links.ts';
import { isRunRecordFile } from './weights.ts';

/** What one look at a folder saw. */
export interface FolderLook {
  /** Relative `/`-separated paths of the regular files, sorted. */
  files: string[];
  totalBytes: number;
  /** Hash of every (path, size, mtime): equal across two looks when nothing changed. */
  fingerprint: string;
  /** Newest modification time of any file (ms since epoch); 0 for an empty folder. */
  newestMtimeMs: number;
  /** Set when the look stopped at {@link MAX_ENTRIES}: a sentence saying so. */
  limitHit?: string;
}

const MAX_DEPTH = 4;
/** Entries one look reads at most: a checkpoint is a few dozen files, a sharded one a few thousand. */
const MAX_ENTRIES = 100_000;

/**
 * Looks at `folder`. With `topOnly` (the output folder itself as a checkpoint) only its own
 * files count, minus the run's records (metrics, logs, results), which change while the model
 * does not.
 */
export async function lookAtFolder(folder: string, topOnly: boolean): Promise<FolderLook> {
  const rows: string[] = [];
  const files: string[] = [];
  let totalBytes = 0;
  let newestMtimeMs = 0;
  let budget = MAX_ENTRIES;
  let limitHit: string | undefined;
  const boundary = linkBoundary(await realpath(folder).catch(() => folder));
  const visit = async (abs: string, rel: string, depth: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch {
      return; // removed while looking: the fingerprint differs next time anyway
    }
    budget -= entries.length;
    if (budget < 0) {
      limitHit ??= `${folder}: more than ${MAX_ENTRIES} entries; the look stopped at ${abs}`;
      return;
    }
    for (const e of entries) {
      const relPath = rel === '' ? e.name : `${rel}/${e.name}`;
      const absPath = join(abs, e.name);
      if (e.isDirectory()) {
        if (!topOnly && depth < MAX_DEPTH) await visit(absPath, relPath, depth + 1);
        continue;
      }
      if (topOnly && isRunRecordFile(e.name)) continue;
      if (e.isSymbolicLink() && (await targetOutside(absPath, boundary)) !== undefined) continue;
      const st = await stat(absPath).catch(() => undefined);
      if (st === undefined || !st.isFile()) continue;
      files.push(relPath);
      rows.push(`${relPath}\t${st.size}\t${st.mtimeMs}`);
      totalBytes += st.size;
      if (st.mtimeMs > newestMtimeMs) newestMtimeMs = st.mtimeMs;
    }
  };
  await visit(folder, '', 0);
  files.sort();
  rows.sort();
  const fingerprint = createHash('sha256').update(rows.join('\n')).digest('hex').slice(0, 32);
  return { files, totalBytes, fingerprint, newestMtimeMs, ...(limitHit !== undefined ? { limitHit } : {}) };
}

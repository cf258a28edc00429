/**
 * The profile stored with a dataset version. A file dataset stores its file's profile as it
 * is. A folder stores the profiles of its text data files (JSONL, JSON, CSV, TSV, plain text),
 * at most {@link MAX_PROFILED_FILES} of them in manifest (path) order so the record stays
 * small, plus totals over the files profiled. Files are profiled one at a time: a JSON
 * document is parsed whole, so running several at once would multiply peak memory.
 */
import { extname, join } from 'node:path';
import type { ManifestEntry, SkippedPath } from '../hash/index.ts';
import { profileDataset } from '../profile/profile.ts';
import type { DatasetFormat, DatasetProfile, PiiCounts } from '../profile/types.ts';

/** Folders profile at most this many files; the rest are counted, not read. */
export const MAX_PROFILED_FILES = 50;

/** Skipped paths kept in a stored profile (a broken folder can have thousands). */
export const MAX_STORED_SKIPPED = 100;

/** File name endings profiled inside a folder. */
const PROFILED_EXTENSIONS = new Set(['.jsonl', '.ndjson', '.json', '.csv', '.tsv', '.txt']);

/** Sums over the files of a folder that were profiled. */
export interface FolderTotals {
  bytes: number;
  rows: number;
  emptyRows: number;
  duplicateRows: number;
  invalidLineCount: number;
  tokensEstimate: number;
  pii: PiiCounts;
  formats: Partial<Record<DatasetFormat, number>>;
}

/** The stored profile of a folder dataset version. */
export interface FolderProfile {
  kind: 'folder';
  /** Profiles by path inside the folder. */
  files: Record<string, DatasetProfile>;
  /** Text data files in the folder (profiled or not). */
  profilableFiles: number;
  profiledFiles: number;
  /** True when more than {@link MAX_PROFILED_FILES} files could have been profiled. */
  truncated: boolean;
  totals: FolderTotals;
  /** Files that could not be profiled, and why. */
  errors: { path: string; message: string }[];
  /** Paths left out of the version (FIFOs, broken links, links leaving the folder, unreadable files). */
  skipped: SkippedSummary;
}

/** What a version left out: how many paths, and the first {@link MAX_STORED_SKIPPED} with their reasons. */
export interface SkippedSummary {
  count: number;
  paths: SkippedPath[];
}

/** The stored summary of `skipped` (already in manifest order). */
export function summarizeSkipped(skipped: readonly SkippedPath[]): SkippedSummary {
  return { count: skipped.length, paths: skipped.slice(0, MAX_STORED_SKIPPED) };
}

/** The stored profile of a file dataset version: its profile, or why there is none. */
export type FileProfile = ({ kind: 'file' } & DatasetProfile) | { kind: 'file'; error: string };

/** Bytes and files profiled so far. */
export interface ProfileProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  currentPath: string;
}

/** Options shared by both profilers. */
export interface ProfileTreeOptions {
  signal?: AbortSignal;
  onProgress?: (progress: ProfileProgress) => void;
}

/** True for files a folder profile reads. */
export function isProfilable(path: string): boolean {
  return PROFILED_EXTENSIONS.has(extname(path).toLowerCase());
}

/** Profiles a one-file dataset. An I/O error is kept in the profile rather than thrown. */
export async function profileFile(absPath: string, size: number, opts: ProfileTreeOptions = {}): Promise<FileProfile> {
  try {
    const profile = await profileDataset(absPath, {
      signal: opts.signal,
      onProgress: (bytes, total) => opts.onProgress?.({ filesDone: 0, filesTotal: 1, bytesDone: bytes, bytesTotal: Math.max(total, size), currentPath: absPath }),
    });
    opts.onProgress?.({ filesDone: 1, filesTotal: 1, bytesDone: profile.bytes, bytesTotal: profile.bytes, currentPath: absPath });
    return { kind: 'file', ...profile };
  } catch (err) {
    opts.signal?.throwIfAborted();
    return { kind: 'file', error: err instanceof Error ? err.message : String(err) };
  }
}

/** Profiles the text data files of a folder version (`files` in manifest order). */
export async function profileFolder(
  root: string, files: readonly ManifestEntry[], skipped: readonly SkippedPath[], opts: ProfileTreeOptions = {},
): Promise<FolderProfile> {
  const profilable = files.filter((f) => isProfilable(f.path));
  const chosen = profilable.slice(0, MAX_PROFILED_FILES);
  const out: FolderProfile = {
    kind: 'folder', files: {}, profilableFiles: profilable.length, profiledFiles: 0,
    truncated: profilable.length > chosen.length, totals: emptyTotals(), errors: [], skipped: summarizeSkipped(skipped),
  };
  const bytesTotal = chosen.reduce((sum, f) => sum + f.size, 0);
  let bytesBefore = 0;
  for (const [index, file] of chosen.entries()) {
    opts.signal?.throwIfAborted();
    const report = (bytes: number): void =>
      opts.onProgress?.({ filesDone: index, filesTotal: chosen.length, bytesDone: bytesBefore + bytes, bytesTotal, currentPath: file.path });
    try {
      const profile = await profileDataset(join(root, ...file.path.split('/')), { signal: opts.signal, onProgress: report });
      out.files[file.path] = profile;
      out.profiledFiles++;
      addTotals(out.totals, profile);
    } catch (err) {
      opts.signal?.throwIfAborted();
      out.errors.push({ path: file.path, message: err instanceof Error ? err.message : String(err) });
    }
    bytesBefore += file.size;
  }
  opts.onProgress?.({ filesDone: chosen.length, filesTotal: chosen.length, bytesDone: bytesTotal, bytesTotal, currentPath: '' });
  return out;
}

function emptyTotals(): FolderTotals {
  return {
    bytes: 0, rows: 0, emptyRows: 0, duplicateRows: 0, invalidLineCount: 0, tokensEstimate: 0,
    pii: { emails: 0, phones: 0, apiKeys: 0 }, formats: {},
  };
}

function addTotals(totals: FolderTotals, p: DatasetProfile): void {
  totals.bytes += p.bytes;
  totals.rows += p.rows;
  totals.emptyRows += p.emptyRows;
  // Per file: a row repeated in two files is not counted (each file keeps its own set).
  totals.duplicateRows += p.duplicateRows;
  totals.invalidLineCount += p.invalidLineCount;
  totals.tokensEstimate += p.tokensEstimate;
  totals.pii.emails += p.pii.emails;
  totals.pii.phones += p.pii.phones;
  totals.pii.apiKeys += p.pii.apiKeys;
  totals.formats[p.format] = (totals.formats[p.format] ?? 0) + 1;
}

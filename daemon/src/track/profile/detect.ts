/**
 * Which reader a dataset file needs, from its name and its first bytes. Names lie often
 * enough (JSON Lines saved as `.json`, binary files with no extension) that the bytes decide
 * when they disagree with the name.
 */
import path from 'node:path';
import type { DatasetFormat } from './types.ts';

/** The format to read a file as, and why when the name alone would have said otherwise. */
export interface DetectedFormat {
  format: DatasetFormat;
  note?: string;
}

const BY_EXTENSION: Record<string, DatasetFormat> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'json',
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.txt': 'text',
  '.text': 'text',
  '.md': 'text',
};

/** Columnar, compressed and tensor files: never read as text even if the first chunk has no NUL. */
const BINARY_EXTENSIONS = new Set(['.parquet', '.arrow', '.feather', '.gz', '.zip', '.zst', '.bz2', '.xz', '.tar', '.safetensors', '.bin', '.pt', '.pth', '.npy', '.npz', '.pkl', '.h5', '.tfrecord']);

/** Decides the format from the file name and its first chunk (up to 64 KiB is plenty). */
export function detectFormat(fileName: string, head: Buffer): DetectedFormat {
  const ext = path.extname(fileName).toLowerCase();
  if (BINARY_EXTENSIONS.has(ext)) return { format: 'binary' };
  if (head.length >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))) {
    return { format: 'binary', note: 'UTF-16 text is not profiled; convert it to UTF-8' };
  }
  if (head.includes(0)) return { format: 'binary', note: ext in BY_EXTENSION ? `named ${ext} but holds binary data (NUL bytes)` : undefined };
  const named = BY_EXTENSION[ext];
  const sniffed = sniffJson(head);
  if (named === 'json' && sniffed === 'jsonl') return { format: 'jsonl', note: 'named .json but holds JSON Lines (one record per line)' };
  if (named !== undefined) return { format: named };
  return { format: sniffed ?? 'text' };
}

/** `[` starts a JSON document; a first line that is a whole JSON object followed by more lines is JSON Lines. */
function sniffJson(head: Buffer): 'json' | 'jsonl' | undefined {
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) return 'json';
  if (!trimmed.startsWith('{')) return undefined;
  const newline = trimmed.indexOf('\n');
  if (newline < 0) return 'json';
  try {
    JSON.parse(trimmed.slice(0, newline));
  } catch {
    // The first line is not a whole object: a pretty-printed JSON document.
    return 'json';
  }
  return trimmed.slice(newline + 1).trim() === '' ? 'json' : 'jsonl';
}

/**
 * Streaming hash of one file in the calling thread. The daemon uses the worker pool
 * (pool.ts) instead, so its event loop never waits on hashing; this version is for scripts,
 * tests and callers that already run off the main thread.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { HASH_ALGO, formatHash } from './algorithm.ts';
import type { FileIdentity } from './cache.ts';

/** Content hash of one file and the number of bytes that were hashed. */
export interface FileHash {
  /** `'sha256:<hex>'` */
  hash: string;
  size: number;
  /**
   * The path's identity taken right after reading (null: the path was gone by then), so a
   * caller can tell whether the file changed meanwhile. The pool fills it in; undefined means
   * the hasher did not look, and the caller must stat the file itself.
   */
  identityAfter?: FileIdentity | null;
}

/** Options for hashing one file. */
export interface HashFileOptions {
  /** Stops reading; the promise rejects with the signal's reason (an AbortError). */
  signal?: AbortSignal;
  /** Called after each chunk with the bytes of this file read so far (cumulative). */
  onProgress?: (bytesRead: number) => void;
}

/**
 * A file could not be read. `code` is the Node error code (`ENOENT` when the file vanished,
 * `EACCES` when it is unreadable, `ENOTREG` when it is not a regular file, e.g. a FIFO).
 */
export class FileReadError extends Error {
  readonly code: string;
  readonly path: string;
  constructor(path: string, code: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'FileReadError';
    this.code = code;
    this.path = path;
  }
}

/** Opening a FIFO read-only would wait for a writer forever; O_NONBLOCK makes it return. */
export const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** Bytes per read in the calling thread: small, so each synchronous digest step is short. */
const IN_THREAD_CHUNK_BYTES = 1024 * 1024;

/** Reads `path` in chunks with bounded memory and returns its content hash and size. */
export async function hashFile(path: string, opts: HashFileOptions = {}): Promise<FileHash> {
  opts.signal?.throwIfAborted();
  let handle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (err) {
    throw toFileReadError(path, err);
  }
  try {
    if (!(await handle.stat()).isFile()) {
      throw new FileReadError(path, 'ENOTREG', 'not a regular file');
    }
    const hasher = createHash(HASH_ALGO);
    const buffer = Buffer.allocUnsafe(IN_THREAD_CHUNK_BYTES);
    let size = 0;
    for (;;) {
      opts.signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hasher.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
      opts.onProgress?.(size);
    }
    return { hash: formatHash(hasher.digest('hex')), size };
  } catch (err) {
    if (err instanceof FileReadError || isAbortError(err)) throw err;
    throw toFileReadError(path, err);
  } finally {
    await handle.close();
  }
}

/** The Node error code of a thrown value, if it has one. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    return err.code;
  }
  return undefined;
}

/** True for the rejection an aborted AbortSignal produces. */
export function isAbortError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'name' in err && err.name === 'AbortError';
}

function toFileReadError(path: string, err: unknown): FileReadError {
  const message = err instanceof Error ? err.message : String(err);
  return new FileReadError(path, errorCode(err) ?? 'EIO', message);
}

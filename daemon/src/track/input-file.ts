/**
 * Reading a file a user (or a training tool) wrote, without trusting it to be one: it is
 * opened non-blocking and checked with fstat before a byte is read, so a FIFO, a device
 * (`keel.yaml -> /dev/zero`) or a socket is refused instead of hanging a thread or filling
 * memory, and a size cap applies to files Keel reads whole. Every refusal names the file,
 * what it is, the limit, and what to do.
 */
import { constants, openSync, fstatSync, readSync, closeSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { ErrorCode, RpcError } from '../protocol/index.ts';

/** Caps on files Keel reads whole. Streaming readers (logs, event files) have none. */
export const InputLimits = {
  /** keel.yaml: a few KB in practice. */
  projectFile: 256 * 1024,
  /** A training config (Axolotl, torchtune, HF JSON): a few KB in practice. */
  config: 4 * 1024 * 1024,
  /** A results file read whole (lm-eval results, HF `*_results.json`). */
  resultsFile: 64 * 1024 * 1024,
} as const;

/** What kind of file-system object a stat describes, in words. */
export function describeFileType(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Why an input file was refused; `code` is E_IO (unreadable, wrong type) or E_INVALID_STATE (too large). */
export class InputFileError extends RpcError {
  readonly path: string;
  readonly reason: 'missing' | 'not-regular' | 'too-large' | 'unreadable';
  constructor(path: string, reason: InputFileError['reason'], message: string, code: ErrorCode = ErrorCode.Io) {
    super(code, message, { path, reason });
    this.name = 'InputFileError';
    this.path = path;
    this.reason = reason;
  }
}

export interface ReadInputOptions {
  /** Refuse files larger than this many bytes. */
  maxBytes: number;
  /** What the file is, for messages ("keel.yaml", "training config"). */
  what: string;
}

// O_NONBLOCK: opening a FIFO for reading must not wait for a writer.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** 256 KiB, 4 MiB, 52.4 MiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KiB`;
  if (bytes < 1024 ** 3) return `${Number((bytes / 1024 ** 2).toFixed(1))} MiB`;
  return `${Number((bytes / 1024 ** 3).toFixed(1))} GiB`;
}

function openError(path: string, what: string, err: unknown): InputFileError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new InputFileError(path, 'missing', `${what} ${path} does not exist`, ErrorCode.NotFound);
  return new InputFileError(path, 'unreadable', `cannot read ${what} ${path}: ${(err as Error).message}`);
}

/** Throws when `st` is not a regular file or is over the cap. */
export function checkInputStats(path: string, st: Stats, opts: ReadInputOptions): void {
  if (!st.isFile()) {
    throw new InputFileError(path, 'not-regular', `${opts.what} ${path} is ${describeFileType(st)}, not a regular file; Keel reads only regular files. Replace it with a file.`);
  }
  if (st.size > opts.maxBytes) throw tooLarge(path, st.size, opts);
}

function tooLarge(path: string, size: number, opts: ReadInputOptions): InputFileError {
  return new InputFileError(
    path, 'too-large',
    `${opts.what} ${path} is ${size > opts.maxBytes + 1 ? formatBytes(size) : `over ${formatBytes(opts.maxBytes)}`}, over Keel's ${formatBytes(opts.maxBytes)} limit for a ${opts.what}; it was not read. ` +
      'Check that it is the file you meant (data or weights pasted into it?) and keep it under the limit.',
    ErrorCode.InvalidState,
  );
}

/** Opens `path` for streaming reads after checking it is a regular file. The caller closes it. */
export async function openRegularFile(path: string, what: string): Promise<{ handle: FileHandle; stats: Stats }> {
  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (err) {
    throw openError(path, what, err);
  }
  try {
    const stats = await handle.stat();
    checkInputStats(path, stats, { what, maxBytes: Number.MAX_SAFE_INTEGER });
    return { handle, stats };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Reads a whole regular file of at most `maxBytes` (a file that grows past the cap while read is refused too). */
export async function readInputFile(path: string, opts: ReadInputOptions): Promise<Buffer> {
  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (err) {
    throw openError(path, opts.what, err);
  }
  try {
    const stats = await handle.stat();
    checkInputStats(path, stats, opts);
    const buf = Buffer.alloc(Math.min(opts.maxBytes + 1, stats.size + 1));
    let filled = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, filled, buf.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled === buf.length) break;
    }
    if (filled > opts.maxBytes) throw tooLarge(path, filled, opts);
    return buf.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/** {@link readInputFile} as UTF-8 text. */
export async function readInputText(path: string, opts: ReadInputOptions): Promise<string> {
  return (await readInputFile(path, opts)).toString('utf8');
}

/** The synchronous form, for the few callers that cannot await (small files only). */
export function readInputTextSync(path: string, opts: ReadInputOptions): string {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (err) {
    throw openError(path, opts.what, err);
  }
  try {
    const stats = fstatSync(fd);
    checkInputStats(path, stats, opts);
    const buf = Buffer.alloc(Math.min(opts.maxBytes + 1, stats.size + 1));
    let filled = 0;
    for (;;) {
      const n = readSync(fd, buf, filled, buf.length - filled, filled);
      if (n === 0) break;
      filled += n;
      if (filled === buf.length) break;
    }
    if (filled > opts.maxBytes) throw tooLarge(path, filled, opts);
    return buf.subarray(0, filled).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * The end of a run's log, and the line in it that most likely says why the run failed
 * (`OSError: base-models/llama not found`, `error: data/train.jsonl: cannot read`,
 * `torch.OutOfMemoryError: CUDA out of memory…`): what a failure notification and the run
 * page quote. Read from the daemon's local copy of the log with `readLocalLog`, only its last
 * TAIL_BYTES — a 10 GB log costs the same as a small one.
 */
import { statSync } from 'node:fs';
import { readLocalLog } from '../dispatch/logs.ts';

/** How much of the log's end is read. */
export const TAIL_BYTES = 64 * 1024;

/** Longest error line returned (a minified JSON dump can be one line of megabytes). */
const MAX_LINE = 400;

/** ANSI colour and cursor sequences (progress bars, coloured loggers). */
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;

/** A line that names an error: a Python exception line, `error:`/`fatal:`, the kernel's and CUDA's words. */
const ERROR_LINE = new RegExp([
  String.raw`^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Failure)\b(?::|$)`,
  String.raw`^(?:error|fatal|ERROR|FATAL|Error)\b[\s:[]`,
  String.raw`\bCUDA out of memory\b`,
  String.raw`\bSegmentation fault\b`,
  String.raw`^Killed\b`,
].join('|'));

/** Errors that wrap the real one printed above them (launchers, subprocess runners). */
const WRAPPER = /\b(?:ChildFailedError|CalledProcessError|SystemExit)\b|^ERROR:torch\.distributed|^error: Recipe .* failed/;

/** Lines a job's wrapper writes about itself, never the reason the job failed. */
const KEEL_NOTE = /\bkeel run\.sh:/;

/** One screen line: colours gone, only what follows the last carriage return (progress bars redraw with \r). */
export function screenLine(raw: string): string {
  const noColour = raw.replace(ANSI, '');
  return (noColour.split('\r').filter((part) => part.trim() !== '').pop() ?? '').trimEnd();
}

/** The last error line among `lines`, preferring the real error over a launcher's wrapper of it. */
export function findErrorLine(lines: readonly string[]): string | null {
  let wrapper: string | null = null;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || KEEL_NOTE.test(line) || !ERROR_LINE.test(line)) continue;
    if (WRAPPER.test(line)) {
      wrapper ??= line;
      continue;
    }
    return clip(line);
  }
  return wrapper === null ? null : clip(wrapper);
}

function clip(line: string): string {
  return line.length > MAX_LINE ? `${line.slice(0, MAX_LINE - 1)}…` : line;
}

/**
 * `line` without the job folder's prefix (`/home/u/.keel/jobs/run_x/1/config.yaml` →
 * `config.yaml`): a notification has room for the error, not for Keel's own paths.
 */
export function withoutPrefix(line: string, prefix: string | null): string {
  if (!prefix) return line;
  const dir = prefix.replace(/\/+$/, '');
  return line.split(`${dir}/`).join('');
}

/**
 * The last `maxLines` screen lines of the log at `path` (none when there is no log yet) and its
 * error line, with `jobDir` taken off the paths in it.
 */
export function readLogTail(path: string | null, maxLines: number, jobDir: string | null = null): { lines: string[]; errorLine: string | null } {
  if (path === null) return { lines: [], errorLine: null };
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return { lines: [], errorLine: null };
  }
  const start = Math.max(0, size - TAIL_BYTES);
  const { text } = readLocalLog(path, start, TAIL_BYTES);
  const all = text.split('\n');
  // The first line of a tail that does not start the file is cut: drop it.
  if (start > 0) all.shift();
  const lines = all.map(screenLine);
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  const errorLine = findErrorLine(lines);
  return { lines: lines.slice(-maxLines), errorLine: errorLine === null ? null : withoutPrefix(errorLine, jobDir) };
}

/**
 * The daemon's log: JSON lines appended to daemon.log (and to stderr when it runs in the
 * foreground). Never stdout. Values under keys that look secret are redacted.
 */
import { appendFileSync } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const secretKey = /(token|secret|password|passwd|api[_-]?key|authorization|credential|private[_-]?key)/i;

/** Replaces values of secret-looking keys (recursively) with "[redacted]". */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((x) => redact(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(value)) out[k] = secretKey.test(k) ? '[redacted]' : redact(x, depth + 1);
  return out;
}

export function createLogger(file: string | null, opts: { stderr: boolean; level?: LogLevel }): Logger {
  const order: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  const min = order.indexOf(opts.level ?? 'info');
  const write = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (order.indexOf(level) < min) return;
    const line = JSON.stringify({ t: new Date().toISOString(), level, msg, ...(fields ? (redact(fields) as object) : {}) }) + '\n';
    // Synchronous appends: a crash right after a log call still leaves the line on disk.
    if (file) {
      try {
        appendFileSync(file, line, { mode: 0o600 });
      } catch {
        /* a full disk must not take the daemon down with it */
      }
    }
    if (opts.stderr) process.stderr.write(line);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

/** A logger that drops everything (tests, the CLI). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

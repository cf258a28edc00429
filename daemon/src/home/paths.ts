/**
 * Where the daemon keeps its state: `$KEEL_HOME` (default `~/.keel`), created 0700 so
 * only its user can reach the socket inside it. Everything Keel keeps there is private:
 * folders 0700 (`ensurePrivateDir`), files 0600 — the database holds configs, commands
 * and paths a user may not want to share on a multi-user GPU box.
 */
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export interface KeelPaths {
  home: string;
  db: string;
  socket: string;
  log: string;
  lock: string;
  /** ControlMaster sockets for SSH (kept short: Unix socket paths are limited). */
  controlDir: string;
}

/** Unix socket paths longer than this fail to bind on Linux (108 bytes incl. NUL) and macOS (104). */
export const MAX_SOCKET_PATH = 103;

export function keelPaths(env: NodeJS.ProcessEnv = process.env): KeelPaths {
  const home = resolve(env.KEEL_HOME && env.KEEL_HOME.length > 0 ? env.KEEL_HOME : join(homedir(), '.keel'));
  return {
    home,
    db: join(home, 'keel.db'),
    socket: join(home, 'daemon.sock'),
    log: join(home, 'daemon.log'),
    lock: join(home, 'daemon.lock'),
    controlDir: join(home, 'cm'),
  };
}

/** A problem with `$KEEL_HOME` that the user must fix; the message says how. */
export class HomeError extends Error {
  readonly code = 'E_HOME';
  constructor(message: string) {
    super(message);
    this.name = 'HomeError';
  }
}

/**
 * mkdir -p with 0700 for each created level. Node's own `recursive: true` spins forever on
 * some pseudo filesystems (e.g. under /proc), so walk up to an existing ancestor ourselves.
 */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  let current = dir;
  while (!existsSync(current)) {
    missing.unshift(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const d of missing) mkdirSync(d, { mode: 0o700 });
}

/** Group and other permission bits: none of them may be set on anything under KEEL_HOME. */
const SHARED_BITS = 0o077;

/** chmod `path` to `mode` when it has group/other bits (a file or folder made by an older Keel). */
export function tightenMode(path: string, mode: 0o600 | 0o700): void {
  try {
    if ((statSync(path).mode & SHARED_BITS) !== 0) chmodSync(path, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * mkdir -p for a folder the daemon keeps under KEEL_HOME: every level it creates is 0700,
 * and the folder itself, when it already exists with group/other bits (an older Keel made
 * it 0755), is tightened to 0700. Returns `dir`.
 */
export function ensurePrivateDir(dir: string): string {
  makeDirs(dir);
  tightenMode(dir, 0o700);
  return dir;
}

/**
 * Runs `fn` with the process umask at `mask`, then restores it: files a library creates
 * inside (SQLite's keel.db, -wal and -shm) get no permission bits the mask removes. Worker
 * threads cannot change the umask; there `fn` just runs (callers chmod afterwards too).
 */
export function withUmask<T>(mask: number, fn: () => T): T {
  const previous = trySetUmask(mask);
  if (previous === null) return fn();
  try {
    return fn();
  } finally {
    process.umask(previous);
  }
}

/**
 * `process.umask(mask)`, returning the previous mask — or null in a worker thread, where Node
 * refuses to set it (ERR_WORKER_UNSUPPORTED_OPERATION). Asked this way rather than through
 * worker_threads' isMainThread: loading that module costs every daemon start.
 */
function trySetUmask(mask: number): number | null {
  try {
    return process.umask(mask);
  } catch {
    return null;
  }
}

/** The daemon's umask: whatever it (or a helper or local job it starts) creates is its user's only. */
export const DAEMON_UMASK = 0o077;

let startUmask: number | undefined;

/**
 * The umask the daemon was started with (the user's own), before ensureHome set
 * DAEMON_UMASK: a job's own command runs with it, so what the job writes outside its private
 * job folder (a shared Hugging Face cache) keeps the modes the user expects.
 */
export function userUmask(): number {
  return startUmask ?? process.umask();
}

/** A umask as the shell prints it (`0022`). */
export function umaskText(mask: number): string {
  return mask.toString(8).padStart(4, '0');
}

/**
 * Creates `$KEEL_HOME` (0700) if needed, checks it is a writable, private directory, and
 * sets the process umask to DAEMON_UMASK. Only the daemon calls this: from here on every
 * file and folder it creates — and those its helpers (rsync, the job scripts) and local jobs
 * create in their job folders under KEEL_HOME — is private, not only the ones Keel names.
 */
export function ensureHome(paths: KeelPaths): void {
  startUmask ??= trySetUmask(DAEMON_UMASK) ?? undefined;
  if (Buffer.byteLength(paths.socket) > MAX_SOCKET_PATH) {
    throw new HomeError(`KEEL_HOME is too long for a Unix socket path (${paths.socket}); choose a shorter KEEL_HOME.`);
  }
  try {
    makeDirs(paths.home);
  } catch (err) {
    throw new HomeError(`cannot create KEEL_HOME ${paths.home}: ${(err as Error).message}. Set KEEL_HOME to a writable folder.`);
  }
  const st = statSync(paths.home);
  if (!st.isDirectory()) throw new HomeError(`KEEL_HOME ${paths.home} is not a directory.`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new HomeError(`KEEL_HOME ${paths.home} belongs to another user (uid ${st.uid}); Keel keeps one home per user.`);
  }
  if ((st.mode & 0o077) !== 0) chmodSync(paths.home, 0o700);
  try {
    accessSync(paths.home, constants.W_OK | constants.X_OK);
  } catch {
    throw new HomeError(`KEEL_HOME ${paths.home} is not writable. Fix its permissions or set KEEL_HOME to a writable folder.`);
  }
  ensurePrivateDir(paths.controlDir);
  tightenHomeEntries(paths.home);
}

/**
 * An older Keel made KEEL_HOME's folders 0755 and its files 0644: tighten what is directly
 * inside (cheap: a handful of entries). Deeper levels are then out of others' reach.
 */
function tightenHomeEntries(home: string): void {
  for (const entry of readdirSync(home, { withFileTypes: true })) {
    if (entry.isDirectory()) tightenMode(join(home, entry.name), 0o700);
    else if (entry.isFile()) tightenMode(join(home, entry.name), 0o600);
  }
}

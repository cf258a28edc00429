/**
 * One daemon per user: `daemon.lock` is created exclusively and holds the owner's pid.
 * A lock whose pid is gone (kill -9, a crash, a reboot) is stale and is taken over;
 * a lock whose pid is alive and is a Keel daemon means one is already running.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

export interface LockInfo {
  pid: number;
  startedAt: number;
}

export type LockResult = { acquired: true; release: () => void } | { acquired: false; holder: LockInfo };

/**
 * The process state letter from /proc (`R`, `S`, `T` stopped, `Z` zombie…), or null where
 * there is no /proc or no such process.
 */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const end = stat.lastIndexOf(')');
    return stat.slice(end + 2, end + 3) || null;
  } catch {
    return null;
  }
}

/** A zombie has exited; it only waits to be reaped (where pid 1 does not reap, it waits forever). */
function isZombie(pid: number): boolean {
  const state = processState(pid);
  return state === 'Z' || state === 'X';
}

/** True while process `pid` exists and has not exited (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

/** True when `pid` runs a Keel daemon (guards against a recycled pid after a reboot). */
export function looksLikeKeel(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /keel/i.test(cmdline);
  } catch {
    // No /proc (macOS): trust liveness alone.
    return process.platform !== 'linux';
  }
}

export function readLock(lockPath: string): LockInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(lockPath, 'utf8')) as Partial<LockInfo>;
    if (typeof info.pid === 'number' && typeof info.startedAt === 'number') return { pid: info.pid, startedAt: info.startedAt };
  } catch {
    /* missing or half-written */
  }
  return undefined;
}

export function acquireLock(lockPath: string, onStale: (holder: LockInfo | undefined) => void): LockResult {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      const info: LockInfo = { pid: process.pid, startedAt: Date.now() };
      writeSync(fd, JSON.stringify(info));
      closeSync(fd);
      let released = false;
      return {
        acquired: true,
        release: () => {
          if (released) return;
          released = true;
          const current = readLock(lockPath);
          if (current?.pid === process.pid) unlinkSync(lockPath);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readLock(lockPath);
    if (holder && holder.pid !== process.pid && isAlive(holder.pid) && looksLikeKeel(holder.pid)) {
      return { acquired: false, holder };
    }
    if (!holder && attempt === 0) {
      // Another daemon may be between creating and writing the file: look again shortly.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      continue;
    }
    onStale(holder);
    try {
      unlinkSync(lockPath);
    } catch {
      /* someone else removed it first: retry */
    }
  }
  throw new Error(`could not take the daemon lock ${lockPath}`);
}

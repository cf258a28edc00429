/**
 * A timeout that counts only the time this process was running. A CLI suspended with Ctrl-Z
 * (SIGSTOP) and resumed later — `keel logs -f`, then `fg` — must not blame the daemon for the
 * time it was stopped itself: on resume an ordinary timer fires before the replies waiting in
 * the socket are read. Here a gap between ticks much longer than a tick means the process did
 * not run, and counts as one tick.
 */

/** Calls `onTimeout` after `ms` of this process's running time; returns a cancel function. */
export function awakeTimeout(ms: number, onTimeout: () => void, tickMs = 250): () => void {
  const tick = Math.max(1, Math.min(tickMs, ms));
  let awake = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    awake += Math.min(now - last, tick * 2);
    last = now;
    if (awake >= ms) {
      clearInterval(timer);
      onTimeout();
    }
  }, tick);
  return () => clearInterval(timer);
}

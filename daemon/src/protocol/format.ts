/**
 * How a record's sizes and times are spelled for people, shared by the extension, the
 * webviews and the CLI so every surface says the same thing. Pure, no imports.
 */

/** 47956 → "48.0 KB" (decimal units, as file managers show them); `missing` for no size. */
export function formatBytes(bytes: unknown, missing = '?'): string {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) return missing;
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** How long ago `at` was, coarsely: "just now", "5 min ago", "3 h ago", "2 d ago". */
export function ago(at: number, now: number = Date.now()): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

/** A duration: "42 s", "3 min 5 s", "2 h 10 min". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** GPU-hours: three decimals under one ("0.042"), one above ("12.5"), as `keel run show` prints them. */
export function formatGpuHours(hours: number): string {
  return hours.toFixed(hours < 1 ? 3 : 1);
}

/**
 * A run's GPU time and cost in one line: "0.250 GPU-hours · cost 0.50". The cost is GPU-hours
 * × the host's `--cost-per-hour`, in whatever currency that was given in (Keel does not know it).
 */
export function usageLine(u: { gpuHours: number; cost: number | null }): string {
  return `${formatGpuHours(u.gpuHours)} GPU-hours${u.cost !== null ? ` · cost ${u.cost.toFixed(2)}` : ''}`;
}

/** `1 run`, `3 runs`, `12,000 points`; `many` for irregular plurals (`2 matches`). */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? word : many}`;
}

/** `path` as one word of a command the user may paste into a shell: as is when plain, else single-quoted. */
export function shellWord(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}

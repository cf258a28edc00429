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

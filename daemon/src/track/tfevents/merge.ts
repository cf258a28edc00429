/** Merging points read from several event files of one run (resumed runs repeat steps). */
import type { ScalarPoint } from './types.ts';

/**
 * One point per (tag, step): the one with the later `wallTime` wins, and on equal wall times
 * the one that comes later in `points` wins (pass files oldest first). The result is sorted
 * by tag (code-unit order), then step ascending. NaN values are kept like any other value.
 */
export function mergeScalarPoints(points: readonly ScalarPoint[]): ScalarPoint[] {
  const byTag = new Map<string, Map<number, ScalarPoint>>();
  for (const p of points) {
    let steps = byTag.get(p.tag);
    if (steps === undefined) {
      steps = new Map();
      byTag.set(p.tag, steps);
    }
    const seen = steps.get(p.step);
    if (seen === undefined || !(p.wallTime < seen.wallTime)) steps.set(p.step, p);
  }
  const tags = [...byTag.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: ScalarPoint[] = [];
  for (const tag of tags) {
    const steps = [...byTag.get(tag)!.values()].sort((a, b) => a.step - b.step);
    for (const p of steps) out.push(p);
  }
  return out;
}

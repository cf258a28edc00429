/**
 * Sweep points: the product of `--grid key=v1,v2,…` lists, and/or `--random N` samples
 * with `--range key=lo:hi` (log-uniform when both bounds are positive and span over 10x,
 * as learning rates do). Values are strings, parsed like `--set` values.
 */
import { ErrorCode, RpcError } from '../protocol/index.ts';

function parseAssignment(text: string, what: string): [string, string] {
  const i = text.indexOf('=');
  if (i <= 0) throw new RpcError(ErrorCode.InvalidParams, `${what} "${text}" must look like key=value`);
  return [text.slice(0, i).trim(), text.slice(i + 1)];
}

/** A seeded PRNG (mulberry32) so a sweep can be repeated. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sweepPoints(spec: { grid?: string[]; random?: number; range?: string[]; seed?: number }): string[][] {
  let points: string[][] = [[]];
  for (const g of spec.grid ?? []) {
    const [key, list] = parseAssignment(g, '--grid');
    const values = list.split(',').map((x) => x.trim()).filter((x) => x !== '');
    if (values.length === 0) throw new RpcError(ErrorCode.InvalidParams, `--grid ${key} has no values`);
    points = points.flatMap((p) => values.map((val) => [...p, `${key}=${val}`]));
  }
  if (spec.random) {
    const next = seededRandom(spec.seed ?? 1);
    const ranges = (spec.range ?? []).map((r) => {
      const [key, span] = parseAssignment(r, '--range');
      const m = /^\s*(-?[\d.eE+-]+)\s*:\s*(-?[\d.eE+-]+)\s*$/.exec(span);
      const lo = Number(m?.[1]);
      const hi = Number(m?.[2]);
      if (!m || !Number.isFinite(lo) || !Number.isFinite(hi) || lo >= hi) throw new RpcError(ErrorCode.InvalidParams, `--range ${r} must be key=lo:hi with lo < hi`);
      return { key, lo, hi, log: lo > 0 && hi / lo > 10 };
    });
    if (ranges.length === 0) throw new RpcError(ErrorCode.InvalidParams, '--random needs at least one --range key=lo:hi');
    const sampled: string[][] = [];
    for (const base of points) {
      for (let i = 0; i < spec.random; i++) {
        sampled.push([...base, ...ranges.map((r) => {
          const u = next();
          const v = r.log ? Math.exp(Math.log(r.lo) + u * (Math.log(r.hi) - Math.log(r.lo))) : r.lo + u * (r.hi - r.lo);
          return `${r.key}=${Number(v.toPrecision(4))}`;
        })]);
      }
    }
    points = sampled;
  }
  if (points.length > 500) throw new RpcError(ErrorCode.InvalidParams, `the sweep has ${points.length} points; at most 500 at once`);
  if (points.length === 1 && points[0]?.length === 0) throw new RpcError(ErrorCode.InvalidParams, 'a sweep needs --grid key=v1,v2 or --random N --range key=lo:hi');
  return points;
}

/**
 * Turning a config tree into the forms the store keeps: dotted params for comparison tables,
 * and one canonical text whose hash is the same for equal configs whatever their key order.
 */
import { createHash } from 'node:crypto';
import { isConfigObject, type ParamValue } from './types.ts';

/** Params Keel records per config; a generated config with more keeps the first ones. */
export const MAX_PARAMS = 10_000;

/**
 * Leaves of a config tree by dotted key: `{a: {b: [{c: 1}]}}` gives `{'a.b.0.c': 1}`.
 * Empty objects and arrays have no leaves, so they add no key (the content hash still sees them).
 * At most `max` (default {@link MAX_PARAMS}) are returned, in tree order.
 */
export function flattenParams(data: unknown, max = MAX_PARAMS): Record<string, ParamValue> {
  return flattenParamsCounted(data, max).params;
}

/** {@link flattenParams} plus how many leaves the tree has in all (shared subtrees counted where each appears). */
export function flattenParamsCounted(data: unknown, max = MAX_PARAMS): { params: Record<string, ParamValue>; total: number } {
  const params: Record<string, ParamValue> = {};
  let kept = 0;
  const leaves = new WeakMap<object, number>();
  let total = 0;
  const visit = (value: unknown, key: string): void => {
    if (kept >= max && typeof value === 'object' && value !== null) {
      // Past the cap only the count is wanted: count leaves without building their keys.
      total += leafCount(value, leaves);
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, key === '' ? String(index) : `${key}.${index}`));
    } else if (isConfigObject(value)) {
      for (const [child, item] of Object.entries(value)) visit(item, key === '' ? child : `${key}.${child}`);
    } else if (key !== '') {
      total++;
      if (kept < max) {
        params[key] = toParamValue(value);
        kept++;
      }
    }
  };
  visit(data, '');
  return { params, total };
}

/** Leaves below a container, remembered per object so shared subtrees cost their distinct nodes. */
function leafCount(value: object, memo: WeakMap<object, number>): number {
  const known = memo.get(value);
  if (known !== undefined) return known;
  let count = 0;
  for (const child of Array.isArray(value) ? (value as unknown[]) : Object.values(value as Record<string, unknown>)) {
    count += typeof child === 'object' && child !== null ? leafCount(child, memo) : 1;
  }
  memo.set(value, count);
  return count;
}

function toParamValue(value: unknown): ParamValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return Number(value);
  // Parsed configs hold only JSON-like values; anything else is recorded as its JSON text.
  return JSON.stringify(value) ?? null;
}

/**
 * JSON text with object keys sorted at every level, so equal configs give equal text.
 * Non-finite numbers (YAML `.nan`, `.inf`) are written as bare `NaN`/`Infinity`/`-Infinity` so
 * they stay distinct from `null`; the text is for hashing, not for JSON readers.
 */
export function stableStringify(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : String(value);
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map((item) => stableStringify(item)).join(',')}]`;
  if (isConfigObject(value)) {
    const keys = Object.keys(value).filter((key) => value[key] !== undefined).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${stableStringify(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Content hash of a config tree: `sha256:<hex>` of its {@link stableStringify} text. */
export function configContentHash(data: unknown): string {
  return `sha256:${createHash('sha256').update(stableStringify(data)).digest('hex')}`;
}

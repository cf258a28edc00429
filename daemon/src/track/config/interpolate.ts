/**
 * OmegaConf-style `${…}` interpolation, as torchtune configs use it (`output_dir: ${output_dir}`,
 * `log_dir: ${output_dir}/logs`, `batch_size_val: ${batch_size}`). Resolved before a config is
 * hashed or flattened, so two configs that mean the same run look the same.
 *
 * Supported: absolute keys (`${a.b}`, `${a[0]}`, `${a.0}`), relative keys (`${.sibling}`,
 * `${..uncle}`), nesting through other interpolations, and `\${` for a literal `${`.
 * Not evaluated: resolvers (`${oc.env:HOME}`) and nested `${a.${b}}`: they stay as written
 * and are reported, because their value depends on the machine or is too dynamic to record.
 *
 * Bounded: a few lines of `${a}${a}` can double a string per line, and a whole-value `${a}`
 * copies a subtree, so a 1 KB file can mean gigabytes. A string that would resolve to more
 * than {@link InterpolationLimits.maxStringChars}, a substitution that would take the whole
 * resolved config past {@link InterpolationLimits.maxTotalSize}, and a chain of references
 * deeper than {@link InterpolationLimits.maxChain} stay as written, each with an issue.
 */
import { isConfigObject, type ConfigIssue } from './types.ts';

/** Caps on what interpolation may produce. */
export const InterpolationLimits = {
  /** One resolved string (a path, a prompt): 64 KiB. */
  maxStringChars: 64 * 1024,
  /** The resolved config as a whole, in characters of strings plus one per value: 16 Mi (4× the largest config file Keel reads). */
  maxTotalSize: 16 * 1024 * 1024,
  /** References followed through other references. */
  maxChain: 1000,
} as const;

/** Finds where a key sits in the source file, for issue positions. */
export type LocateKey = (segments: readonly string[]) => { line: number; column: number } | undefined;

/** A config tree with interpolations resolved, and what could not be resolved. */
export interface Interpolated {
  data: unknown;
  issues: ConfigIssue[];
}

const MISSING = Symbol('missing');

/** Resolves every `${…}` in `data`; unresolvable ones stay as written and become issues. */
export function resolveInterpolations(data: unknown, locate?: LocateKey, limits: Partial<typeof InterpolationLimits> = {}): Interpolated {
  const resolver = new Resolver(data, locate, { ...InterpolationLimits, ...limits });
  return { data: resolver.resolveAt([]), issues: resolver.issues };
}

/**
 * The size of a value once written out: string characters plus one per value, with shared
 * subtrees (one resolved `${a}` used twice) counted each time they appear. Stops counting
 * past `limit` (returns limit + 1), and remembers containers, so a tree of shared parts costs
 * only its distinct nodes.
 */
export function expandedSize(value: unknown, limit: number, memo = new WeakMap<object, number>()): number {
  if (typeof value === 'string') return 1 + value.length;
  if (typeof value !== 'object' || value === null) return 1;
  const known = memo.get(value);
  if (known !== undefined) return known;
  let size = 1;
  const children = Array.isArray(value) ? (value as unknown[]) : Object.values(value);
  for (const child of children) {
    size += expandedSize(child, limit, memo);
    if (size > limit) break;
  }
  const result = Math.min(size, limit + 1);
  memo.set(value, result);
  return result;
}

/** One resolution pass over a tree: memoised per key path, with a stack to catch cycles. */
class Resolver {
  readonly issues: ConfigIssue[] = [];
  private readonly data: unknown;
  private readonly locate: LocateKey | undefined;
  private readonly resolved = new Map<string, unknown>();
  /** Key paths whose value could not be resolved (their text is kept). */
  private readonly failed = new Set<string>();
  private readonly stack: string[] = [];
  private readonly limits: typeof InterpolationLimits;
  private readonly sizes = new WeakMap<object, number>();
  /** Expanded size of everything resolved so far: each key path is counted once, when it resolves. */
  private spent = 0;

  constructor(data: unknown, locate: LocateKey | undefined, limits: typeof InterpolationLimits) {
    this.data = data;
    this.locate = locate;
    this.limits = limits;
  }

  /** The resolved value at `segments`, or MISSING when no such key exists. */
  resolveAt(segments: readonly string[]): unknown {
    const id = JSON.stringify(segments);
    if (this.resolved.has(id)) return this.resolved.get(id);
    const raw = lookup(this.data, segments);
    if (raw === MISSING) return MISSING;
    const onStack = this.stack.indexOf(id);
    if (onStack >= 0) {
      const cycle = [...this.stack.slice(onStack), id].map((entry) => (JSON.parse(entry) as string[]).join('.'));
      this.report(segments, `interpolation cycle: ${cycle.join(' → ')}`);
      this.failed.add(id);
      return raw;
    }
    if (this.stack.length >= this.limits.maxChain) {
      this.report(segments, `references are chained more than ${this.limits.maxChain} deep here; left as written`);
      this.failed.add(id);
      return raw;
    }
    this.stack.push(id);
    const value = this.resolveValue(raw, segments);
    this.stack.pop();
    this.resolved.set(id, value);
    // A container counts itself; its children count themselves when they resolve.
    this.spent += typeof raw === 'object' && raw !== null ? 1 : this.sizeOf(value);
    return value;
  }

  private sizeOf(value: unknown): number {
    return expandedSize(value, this.limits.maxTotalSize, this.sizes);
  }

  private resolveValue(raw: unknown, segments: readonly string[]): unknown {
    if (Array.isArray(raw)) return raw.map((_, index) => this.resolveAt([...segments, String(index)]));
    if (isConfigObject(raw)) {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(raw)) out[key] = this.resolveAt([...segments, key]);
      return out;
    }
    if (typeof raw === 'string' && raw.includes('${')) return this.interpolateString(raw, segments);
    return raw;
  }

  private interpolateString(text: string, segments: readonly string[]): unknown {
    const parts = splitInterpolations(text);
    if ('error' in parts) return this.keep(text, segments, `${parts.error} in "${preview(text)}"`);
    const values: unknown[] = [];
    for (const part of parts) {
      if (part.kind === 'text') {
        values.push(part.text);
        continue;
      }
      const target = targetPath(part.expr, segments);
      if ('error' in target) return this.keep(text, segments, `${target.error}: \${${part.expr}} is left as written`);
      const value = this.resolveAt(target.segments);
      if (value === MISSING) {
        return this.keep(text, segments, `\${${part.expr}} refers to "${target.segments.join('.')}", which is not in the config`);
      }
      // A failed target was already reported where it failed; just keep this text too.
      if (this.failed.has(JSON.stringify(target.segments))) return this.keep(text, segments);
      values.push(value);
    }
    if (parts.length === 1 && parts[0]?.kind === 'ref') {
      const size = this.sizeOf(values[0]);
      if (this.spent + size > this.limits.maxTotalSize) return this.keep(text, segments, this.overTotal(text));
      return values[0];
    }
    return this.joinStrings(text, segments, values);
  }

  /** The parts of `text` joined as Python's str() writes them, unless the result would be over the string cap. */
  private joinStrings(text: string, segments: readonly string[], values: unknown[]): string {
    const max = this.limits.maxStringChars;
    let length = 0;
    for (const value of values) {
      // Measured before it is written out: JSON text of a shared subtree can be exponential.
      length += typeof value === 'string' ? value.length : this.sizeOf(value);
      if (length > max) return this.keep(text, segments, `"${preview(text)}" would resolve to more than ${max / 1024} KiB of text; left as written`);
    }
    const joined = values.map((value) => pythonStr(value)).join('');
    if (joined.length > max) return this.keep(text, segments, `"${preview(text)}" would resolve to more than ${max / 1024} KiB of text; left as written`);
    if (this.spent + joined.length > this.limits.maxTotalSize) return this.keep(text, segments, this.overTotal(text));
    return joined;
  }

  private overTotal(text: string): string {
    return `resolving "${preview(text)}" would make the config larger than ${this.limits.maxTotalSize / (1024 * 1024)} Mi characters; left as written`;
  }

  /** Leaves `text` unresolved, reporting why when this is where it went wrong. */
  private keep(text: string, segments: readonly string[], message?: string): string {
    if (message !== undefined) this.report(segments, message);
    this.failed.add(JSON.stringify(segments));
    return text;
  }

  private report(segments: readonly string[], message: string): void {
    const issue: ConfigIssue = { message, path: segments.join('.') };
    const at = this.locate?.(segments);
    if (at) Object.assign(issue, at);
    this.issues.push(issue);
  }
}

type Part = { kind: 'text'; text: string } | { kind: 'ref'; expr: string };

/** Splits `a${b}c` into text and reference parts; `\${` is a literal `${`. */
function splitInterpolations(text: string): Part[] | { error: string } {
  const parts: Part[] = [];
  let buffer = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('\\${', i)) {
      buffer += '${';
      i += 3;
    } else if (text.startsWith('${', i)) {
      const end = text.indexOf('}', i + 2);
      if (end < 0) return { error: 'unclosed "${"' };
      const expr = text.slice(i + 2, end).trim();
      if (expr.includes('${')) return { error: 'nested interpolation is not supported' };
      if (buffer !== '') parts.push({ kind: 'text', text: buffer });
      buffer = '';
      parts.push({ kind: 'ref', expr });
      i = end + 1;
    } else {
      buffer += text[i];
      i += 1;
    }
  }
  if (buffer !== '') parts.push({ kind: 'text', text: buffer });
  return parts;
}

/** The key path an interpolation expression points at, from the node at `from`. */
function targetPath(expr: string, from: readonly string[]): { segments: string[] } | { error: string } {
  if (expr === '') return { error: 'empty interpolation' };
  if (/^[\w.-]+:/.test(expr)) return { error: 'resolvers are not evaluated' };
  let rest = expr;
  let base: string[] = [];
  if (rest.startsWith('.')) {
    // `${.x}` is a sibling of the node being resolved; each further dot goes one level up.
    const dots = /^\.+/.exec(rest)?.[0].length ?? 0;
    base = from.slice(0, Math.max(0, from.length - dots));
    rest = rest.slice(dots);
  }
  const segments = rest
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((segment) => segment !== '');
  return { segments: [...base, ...segments] };
}

function lookup(data: unknown, segments: readonly string[]): unknown {
  let node: unknown = data;
  for (const segment of segments) {
    if (Array.isArray(node)) {
      const index = Number(segment);
      if (!Number.isInteger(index) || index < 0 || index >= node.length) return MISSING;
      node = node[index];
    } else if (isConfigObject(node) && Object.hasOwn(node, segment)) {
      node = node[segment];
    } else {
      return MISSING;
    }
  }
  return node;
}

/** The start of a long text, for messages. */
function preview(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/** How Python's `str()` writes a value, which is what OmegaConf puts inside a longer string. */
function pythonStr(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : value > 0 ? 'inf' : value < 0 ? '-inf' : 'nan';
  return JSON.stringify(value);
}

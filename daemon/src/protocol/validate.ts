/**
 * Inbound validators for the wire protocol. A validator both checks an `unknown` value and
 * gives its TypeScript type (`Infer<typeof v>`), so each method's params are declared once.
 * This file imports nothing: the extension, the CLI and the webview all share it.
 */

/** A failed check: `path` names the offending field, e.g. `params.client.name`. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** Checks `value` at `path`; returns the typed value or pushes issues and returns undefined. */
export interface Validator<T> {
  readonly kind: string;
  check(value: unknown, path: string, issues: ValidationIssue[]): T | undefined;
  readonly optional?: boolean;
}

/** A validator for a field that may be absent (or null). */
export type OptionalValidator<T> = Validator<T | undefined> & { readonly optional: true };

export type Infer<V> = V extends Validator<infer T> ? T : never;

function make<T>(kind: string, check: Validator<T>['check']): Validator<T> {
  return { kind, check };
}

function fail(issues: ValidationIssue[], path: string, message: string): undefined {
  issues.push({ path, message });
  return undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value}`;
}

export interface StringOptions {
  minLength?: number;
  maxLength?: number;
  pattern?: RegExp;
  oneOf?: readonly string[];
}

export const v = {
  string(opts: StringOptions = {}): Validator<string> {
    return make('string', (value, path, issues) => {
      if (typeof value !== 'string') return fail(issues, path, `expected a string, got ${describe(value)}`);
      if (opts.minLength !== undefined && value.length < opts.minLength) {
        return fail(issues, path, `must be at least ${opts.minLength} characters`);
      }
      if (opts.maxLength !== undefined && value.length > opts.maxLength) {
        return fail(issues, path, `must be at most ${opts.maxLength} characters`);
      }
      if (opts.pattern && !opts.pattern.test(value)) return fail(issues, path, `does not match ${String(opts.pattern)}`);
      if (opts.oneOf && !opts.oneOf.includes(value)) return fail(issues, path, `must be one of ${opts.oneOf.join(', ')}`);
      return value;
    });
  },

  literal<const L extends string>(...values: L[]): Validator<L> {
    return make('literal', (value, path, issues) => {
      if (typeof value === 'string' && (values as string[]).includes(value)) return value as L;
      return fail(issues, path, `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
    });
  },

  number(opts: { min?: number; max?: number; integer?: boolean } = {}): Validator<number> {
    return make('number', (value, path, issues) => {
      if (typeof value !== 'number' || Number.isNaN(value)) return fail(issues, path, `expected a number, got ${describe(value)}`);
      if (opts.integer && !Number.isInteger(value)) return fail(issues, path, 'must be an integer');
      if (opts.min !== undefined && value < opts.min) return fail(issues, path, `must be >= ${opts.min}`);
      if (opts.max !== undefined && value > opts.max) return fail(issues, path, `must be <= ${opts.max}`);
      return value;
    });
  },

  boolean(): Validator<boolean> {
    return make('boolean', (value, path, issues) =>
      typeof value === 'boolean' ? value : fail(issues, path, `expected a boolean, got ${describe(value)}`));
  },

  /** Any JSON value; use only where the daemon validates the content itself. */
  json(): Validator<unknown> {
    return make('json', (value) => value);
  },

  array<T>(item: Validator<T>, opts: { maxItems?: number } = {}): Validator<T[]> {
    return make('array', (value, path, issues) => {
      if (!Array.isArray(value)) return fail(issues, path, `expected an array, got ${describe(value)}`);
      if (opts.maxItems !== undefined && value.length > opts.maxItems) {
        return fail(issues, path, `must have at most ${opts.maxItems} items`);
      }
      const out: T[] = [];
      const before = issues.length;
      value.forEach((x, i) => {
        const r = item.check(x, `${path}[${i}]`, issues);
        if (r !== undefined) out.push(r);
      });
      return issues.length === before ? out : undefined;
    });
  },

  record<T>(item: Validator<T>): Validator<Record<string, T>> {
    return make('record', (value, path, issues) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return fail(issues, path, `expected an object, got ${describe(value)}`);
      }
      const out: Record<string, T> = {};
      const before = issues.length;
      for (const [k, x] of Object.entries(value)) {
        const r = item.check(x, `${path}.${k}`, issues);
        if (r !== undefined) out[k] = r;
      }
      return issues.length === before ? out : undefined;
    });
  },

  optional<T>(inner: Validator<T>): OptionalValidator<T> {
    return {
      kind: `optional ${inner.kind}`,
      optional: true,
      check: (value, path, issues) => (value === undefined || value === null ? undefined : inner.check(value, path, issues)),
    };
  },

  object<S extends Record<string, Validator<unknown>>>(shape: S): Validator<ObjectOf<S>> {
    return make('object', (value, path, issues) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return fail(issues, path, `expected an object, got ${describe(value)}`);
      }
      const src = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      const before = issues.length;
      for (const [key, validator] of Object.entries(shape)) {
        const field = src[key];
        if (field === undefined && !validator.optional) {
          issues.push({ path: `${path}.${key}`, message: 'is required' });
          continue;
        }
        const r = validator.check(field, `${path}.${key}`, issues);
        if (r !== undefined) out[key] = r;
      }
      for (const key of Object.keys(src)) {
        if (!(key in shape)) issues.push({ path: `${path}.${key}`, message: 'is not a known field' });
      }
      return issues.length === before ? (out as ObjectOf<S>) : undefined;
    });
  },
};

type RequiredKeys<S> = { [K in keyof S]: S[K] extends { optional: true } ? never : K }[keyof S];
type OptionalKeys<S> = Exclude<keyof S, RequiredKeys<S>>;
type Simplify<T> = { [K in keyof T]: T[K] };
export type ObjectOf<S extends Record<string, Validator<unknown>>> = Simplify<
  { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

/** Runs a validator; returns the typed value or the list of issues. */
export function validate<T>(validator: Validator<T>, value: unknown, root = 'params'):
  { ok: true; value: T } | { ok: false; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const result = validator.check(value, root, issues);
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: result as T };
}

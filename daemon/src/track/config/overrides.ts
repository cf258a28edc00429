/**
 * Command-line style overrides of a config (`--set learning_rate=1e-4`), and writing the
 * effective config back out for the training tool to read.
 *
 * Syntax follows torchtune's `tune run … key=value` (which is Hydra's): `a.b=value` changes a
 * key that exists, `+a.b=value` adds a new one, `~a.b` removes one. Values are read as YAML 1.2
 * scalars, so `1e-4` is a number, `true` a boolean, `null` (or nothing) null, `[a, b]` a list.
 */
import { parse, stringify } from 'yaml';
import { ErrorCode, RpcError } from '../../protocol/errors.ts';
import { closeMatches, editDistance } from './suggest.ts';
import { isConfigObject, type ConfigFormat } from './types.ts';

/** One override that could not be applied. */
export interface OverrideProblem {
  override: string;
  message: string;
  /** Known keys close to the one asked for. */
  suggestions: string[];
}

/** Overrides that name unknown keys or are malformed. `code` is `E_CONFIG_INVALID`; `data.problems` lists each. */
export class ConfigOverrideError extends RpcError {
  readonly problems: OverrideProblem[];

  constructor(problems: OverrideProblem[]) {
    super(ErrorCode.ConfigInvalid, problems.map((p) => p.message).join('; '), { problems });
    this.name = 'ConfigOverrideError';
    this.problems = problems;
  }
}

type Action = { kind: 'set' | 'add'; path: string[]; value: unknown } | { kind: 'remove'; path: string[] };

/**
 * A copy of `data` with the overrides applied in order. A key must already be in `data` (or in
 * `knownKeys`, e.g. a tool's documented keys that the file leaves out) unless written `+key=…`.
 * Every bad override is collected into one {@link ConfigOverrideError}.
 *
 * Apply overrides to the tree *before* `${…}` interpolation (see `parseTrainingConfig`'s
 * `overrides` option), so that `output_dir=…` also moves `${output_dir}/logs`.
 */
export function applyOverrides(data: unknown, overrides: readonly string[], knownKeys?: Iterable<string>): unknown {
  let tree: unknown = structuredClone(data);
  const extra = new Set(knownKeys ?? []);
  // Keys are checked against the tree as given, by walking each path: listing every path of a
  // large generated config up front would cost far more than the few overrides need.
  const isKnown = (path: string[]): boolean => extra.has(path.join('.')) || pathExists(data, path);
  let known: Set<string> | undefined;
  const problems: OverrideProblem[] = [];
  for (const override of overrides) {
    const action = parseOverride(override);
    if ('problem' in action) {
      problems.push({ override, message: action.problem, suggestions: [] });
      continue;
    }
    const key = action.path.join('.');
    if (action.kind !== 'add' && !isKnown(action.path)) {
      known ??= knownPaths(data, extra);
      const suggestions = suggestKeys(key, known);
      const hint = suggestions.length > 0 ? `; close matches: ${suggestions.join(', ')}` : '';
      problems.push({ override, message: `unknown config key "${key}" in "${override}"${hint} (write +${key}=… to add a new key)`, suggestions });
      continue;
    }
    const result = applyAction(tree, action);
    if ('problem' in result) problems.push({ override, message: `${result.problem} in "${override}"`, suggestions: [] });
    else tree = result.tree;
  }
  if (problems.length > 0) throw new ConfigOverrideError(problems);
  return tree;
}

/** The config as file text in `format`, e.g. to hand the effective config to the trainer. */
export function renderConfig(data: unknown, format: ConfigFormat): string {
  if (format === 'json') return `${JSON.stringify(data, null, 2)}\n`;
  // lineWidth 0: never fold long strings (prompts, chat templates) across lines.
  return stringify(data, { version: '1.2', lineWidth: 0 });
}

function parseOverride(override: string): Action | { problem: string } {
  const text = override.trim();
  if (text.startsWith('~')) {
    const path = splitKey(text.slice(1).split('=')[0] ?? '');
    return path ? { kind: 'remove', path } : { problem: `"${override}" names no key` };
  }
  const eq = text.indexOf('=');
  if (eq < 0) return { problem: `"${override}" is not key=value` };
  const add = text.startsWith('+');
  const path = splitKey(text.slice(add ? 1 : 0, eq));
  if (!path) return { problem: `"${override}" names no key` };
  return { kind: add ? 'add' : 'set', path, value: overrideValue(text.slice(eq + 1)) };
}

function splitKey(key: string): string[] | undefined {
  const path = key.trim().split('.');
  return path.every((segment) => segment !== '') ? path : undefined;
}

/** A value read as YAML; text that YAML would turn into a mapping or a comment stays text. */
function overrideValue(text: string): unknown {
  const trimmed = text.trim();
  let value: unknown;
  try {
    value = parse(trimmed, { version: '1.2' });
  } catch {
    return text;
  }
  const flow = trimmed.startsWith('[') || trimmed.startsWith('{');
  if (typeof value === 'object' && value !== null && !flow) return text;
  if (value === null && !['', '~', 'null', 'Null', 'NULL'].includes(trimmed)) return text;
  return value;
}

function applyAction(tree: unknown, action: Action): { tree: unknown } | { problem: string } {
  if (action.path.length === 0) return { problem: 'empty key' };
  const root: unknown = tree ?? {};
  let node: unknown = root;
  const parents = action.path.slice(0, -1);
  for (const [depth, segment] of parents.entries()) {
    let next = child(node, segment);
    if (next === undefined && action.kind === 'add' && isConfigObject(node)) {
      next = {};
      node[segment] = next;
    }
    if (typeof next !== 'object' || next === null) return { problem: `"${action.path.slice(0, depth + 1).join('.')}" is not a mapping or list` };
    node = next;
  }
  const last = action.path[action.path.length - 1] ?? '';
  if (Array.isArray(node)) {
    const index = Number(last);
    if (!Number.isInteger(index) || index < 0 || index > node.length) return { problem: `"${last}" is not an index of the list` };
    if (action.kind === 'remove') node.splice(index, 1);
    else node[index] = action.value;
  } else if (isConfigObject(node)) {
    if (action.kind === 'remove') delete node[last];
    else node[last] = action.value;
  } else {
    return { problem: 'the config is not a mapping' };
  }
  return { tree: root };
}

function child(node: unknown, segment: string): unknown {
  if (Array.isArray(node)) return node[Number(segment)];
  if (isConfigObject(node) && Object.hasOwn(node, segment)) return node[segment];
  return undefined;
}

/** True when `path` names a key (a leaf, a mapping or a list) of the tree. */
function pathExists(tree: unknown, path: readonly string[]): boolean {
  let node = tree;
  for (const segment of path) {
    if (Array.isArray(node)) {
      const index = Number(segment);
      if (!/^(0|[1-9]\d*)$/.test(segment) || index >= node.length) return false;
      node = node[index];
    } else if (isConfigObject(node) && Object.hasOwn(node, segment)) {
      node = node[segment];
    } else {
      return false;
    }
  }
  return path.length > 0;
}

/** Key paths considered for "close matches": enough for any hand-written config. */
const MAX_SUGGESTION_PATHS = 50_000;

/** Key paths of the tree (leaves, mappings and lists, up to a cap), plus the caller's known keys. */
function knownPaths(tree: unknown, extra: Iterable<string>): Set<string> {
  const known = new Set<string>(extra);
  const visit = (node: unknown, prefix: string): void => {
    const entries = Array.isArray(node) ? node.map((item, index) => [String(index), item] as const) : isConfigObject(node) ? Object.entries(node) : [];
    for (const [key, item] of entries) {
      if (known.size >= MAX_SUGGESTION_PATHS) return;
      const path = prefix === '' ? key : `${prefix}.${key}`;
      known.add(path);
      visit(item, path);
    }
  };
  visit(tree, '');
  return known;
}

/** Known keys close to `key` as a whole path or by their last part (`lr` → `optimizer.lr`), best first. */
function suggestKeys(key: string, known: Set<string>): string[] {
  const lastOf = (path: string): string => path.slice(path.lastIndexOf('.') + 1);
  const wanted = lastOf(key);
  const scored: { path: string; score: number }[] = [];
  for (const path of known) {
    const leaf = lastOf(path);
    if (closeMatches(key, [path], 1).length === 0 && closeMatches(wanted, [leaf], 1).length === 0) continue;
    scored.push({ path, score: Math.min(editDistance(key, path), editDistance(wanted, leaf)) });
  }
  scored.sort((a, b) => a.score - b.score || a.path.length - b.path.length || a.path.localeCompare(b.path));
  return scored.slice(0, 3).map((entry) => entry.path);
}

/**
 * Pre-flight checks of a training config before a launch: the `--set` overrides name keys
 * the config has (with "did you mean") and give values of the type the config holds there;
 * the models and datasets it names exist on disk or read as hub ids. Each check returns
 * problems in the user's words and what passed.
 */
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { statSync } from 'node:fs';
import type { PreflightProblem } from '../protocol/index.ts';
import { applyOverrides, ConfigOverrideError } from '../track/config/overrides.ts';
import { flattenParams } from '../track/config/flatten.ts';
import { existingPaths } from '../track/config/track-config.ts';
import type { ConfigRefs, ParamValue, TrainingConfig } from '../track/config/types.ts';
import { plural } from '../protocol/format.ts';

/** What one check found. */
export interface CheckOutcome {
  problems: PreflightProblem[];
  passed: string[];
}

/** The key an override sets (`lr=1` → `lr`, `+a.b=1` → `a.b`); undefined for removals and malformed ones. */
function setKey(override: string): string | undefined {
  const text = override.trim();
  const eq = text.indexOf('=');
  if (text.startsWith('~') || text.startsWith('+') || eq <= 0) return undefined;
  return text.slice(0, eq).trim();
}

function typeName(value: ParamValue): string {
  return value === null ? 'null' : typeof value;
}

/**
 * An override that turns a number or a boolean of the config into text (`lora_r=abc`): the
 * trainer would crash on it, or worse, read it as something else.
 */
function typeProblem(override: string, key: string, before: ParamValue, after: ParamValue): PreflightProblem | undefined {
  if (before === null || after === null || typeof before === typeof after) return undefined;
  if (typeof before === 'string') return undefined;
  return {
    check: 'overrides', severity: 'error', subject: override,
    message: `${override}: ${key} is a ${typeName(before)} in the config (${String(before)}); "${String(after)}" is not a ${typeName(before)}.`,
  };
}

/** The overrides applied to the config, and the problems of those that do not apply. */
function applyEach(parsed: TrainingConfig, overrides: readonly string[]): { effective: unknown; applied: string[]; problems: PreflightProblem[] } {
  try {
    return { effective: applyOverrides(parsed.data, overrides, Object.keys(parsed.params)), applied: [...overrides], problems: [] };
  } catch (err) {
    if (!(err instanceof ConfigOverrideError)) throw err;
    const bad = new Set(err.problems.map((p) => p.override));
    const problems = err.problems.map((p) => overrideProblem(p.override, p.message, p.suggestions));
    // The rest still get their types checked: one typo should not hide a second mistake.
    const applied = overrides.filter((o) => !bad.has(o));
    return { effective: applyOverrides(parsed.data, applied, Object.keys(parsed.params)), applied, problems };
  }
}

/** The overrides apply to the config: known keys (else close matches) and values of the config's types. */
export function checkOverrides(parsed: TrainingConfig, overrides: readonly string[]): CheckOutcome {
  if (overrides.length === 0) return { problems: [], passed: [] };
  const { effective, applied, problems } = applyEach(parsed, overrides);
  const after = flattenParams(effective);
  for (const override of applied) {
    const key = setKey(override);
    if (key === undefined || !(key in parsed.params) || !(key in after)) continue;
    const problem = typeProblem(override, key, parsed.params[key] ?? null, after[key] ?? null);
    if (problem) problems.push(problem);
  }
  const n = overrides.length;
  return { problems, passed: problems.length ? [] : [`${plural(n, 'override')} name${n === 1 ? 's' : ''} keys of the config`] };
}

function overrideProblem(override: string, message: string, suggestions: string[]): PreflightProblem {
  const unknown = /^unknown config key "([^"]+)"/.exec(message);
  if (!unknown) return { check: 'overrides', severity: 'error', subject: override, message };
  const key = unknown[1] ?? '';
  const hint = suggestions.length ? ` Did you mean ${suggestions.map((s) => `"${s}"`).join(' or ')}?` : '';
  return {
    check: 'overrides', severity: 'error', subject: override, suggestions,
    message: `${override}: the config has no key "${key}".${hint} (Write +${key}=… to add a key the config leaves out.)`,
  };
}

/** What a model or dataset ref is for, in words. */
const ROLE_WORDS: Record<string, string> = { base: 'base model', teacher: 'teacher model', adapter: 'adapter', resume: 'checkpoint to resume from', train: 'training data', val: 'validation data' };

/** Extensions of files a config points at as data or weights (a ref with one is a path, never a hub id). */
const FILE_EXTENSION = /\.(jsonl?|csv|tsv|parquet|arrow|txt|safetensors|bin|pt|pth|gguf|ckpt|ya?ml)$/i;
/** A hub id: `org/name` or a bare `name` (`gpt2`). */
const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

/** How a ref that is not on disk reads: a hub id (fine), a path on the GPU host, or a missing local path. */
function classifyMissing(ref: string, configDir: string, root: string, remoteHost: string | null): 'hub' | 'remote' | 'missing' {
  if (isAbsolute(ref) || ref.startsWith('~')) return remoteHost ? 'remote' : 'missing';
  if (ref.startsWith('./') || ref.startsWith('../') || FILE_EXTENSION.test(ref)) return 'missing';
  // `base-models/llama` where base-models/ exists here: a local path with a typo, not a hub id.
  const first = ref.split('/')[0] ?? '';
  const firstIsDir = ref.includes('/') && [configDir, root].some((d) => isDir(resolve(d, first)));
  if (firstIsDir) return 'missing';
  return HUB_ID.test(ref) ? 'hub' : 'missing';
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Every model and dataset the config names, with its role. */
function namedRefs(refs: ConfigRefs): { ref: string; role: string }[] {
  return [
    ...refs.baseModels.map((m) => ({ ref: m.ref, role: m.role })),
    ...refs.datasets.map((d) => ({ ref: d.path, role: d.role ?? 'train' })),
  ];
}

/**
 * The local paths the config names exist (relative to the config's folder or the project
 * root, as the training tools resolve them); a ref that is not on disk passes as a hub id
 * when it reads as one. `remoteHost`: the run goes there, so an absolute path may live on it.
 */
export async function checkPaths(refs: ConfigRefs, configPath: string, root: string, remoteHost: string | null): Promise<CheckOutcome> {
  const configDir = dirname(configPath);
  const problems: PreflightProblem[] = [];
  let local = 0;
  let hub = 0;
  for (const { ref, role } of namedRefs(refs)) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(ref)) continue;
    if ((await existingPaths(ref, configDir, root)).length > 0) {
      local++;
      continue;
    }
    const what = ROLE_WORDS[role] ?? role;
    const kind = classifyMissing(ref, configDir, root, remoteHost);
    if (kind === 'hub') hub++;
    else if (kind === 'remote') {
      problems.push({ check: 'paths', severity: 'warning', subject: ref, message: `The ${what} ${ref} is not on this machine; it must exist on ${remoteHost ?? 'the host'} when the run starts.` });
    } else {
      problems.push({ check: 'paths', severity: 'error', subject: ref, message: `The ${what} ${ref} named in ${relative(root, configPath)} does not exist (looked in ${shown(configDir, root)}${shown(root, root) === shown(configDir, root) ? '' : ` and ${shown(root, root)}`}). Fix the path, or give a Hugging Face hub id.` });
    }
  }
  const passed: string[] = [];
  if (local > 0) passed.push(`${plural(local, 'local path')} the config names exist${local === 1 ? 's' : ''}`);
  if (hub > 0) passed.push(`${plural(hub, 'name')} read${hub === 1 ? 's' : ''} as a hub id`);
  return { problems, passed };
}

function shown(dir: string, root: string): string {
  const rel = relative(root, dir);
  return rel === '' ? 'the project root' : `${rel}/`;
}

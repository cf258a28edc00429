/**
 * Run names people can tell apart: the config's file stem plus what the launch changed
 * (`lora-r8 · lr=0.01`), made unique with a short counter (`lora-r8 #2`) — instead of the
 * run id. Names are checked here too, for `runs/rename`: one line, no `/` (a pulled
 * checkpoint's folder is named after its run), not shaped like a run id, unique.
 */
import { basename } from 'node:path';
import { ErrorCode, RpcError } from '../protocol/index.ts';
import type { Store } from '../store/index.ts';

/** Common long keys and the short form a name uses for them. */
const SHORT_KEYS: Readonly<Record<string, string>> = {
  learning_rate: 'lr',
  num_train_epochs: 'epochs',
  num_epochs: 'epochs',
  per_device_train_batch_size: 'batch',
  micro_batch_size: 'batch',
  batch_size: 'batch',
  gradient_accumulation_steps: 'grad_accum',
  warmup_steps: 'warmup',
  warmup_ratio: 'warmup',
  weight_decay: 'wd',
  max_steps: 'steps',
  lr_scheduler_type: 'sched',
};

/** Longest default name; longer ones keep the first overrides and count the rest. */
const MAX_NAME = 80;

/** `learning_rate=0.01` → `lr=0.01`; `optimizer.lr=1e-4` → `lr=1e-4`; `+a.b=x` → `b=x`; `~a.b` → `-b`. */
export function overrideLabel(override: string): string {
  const text = override.trim();
  if (text.startsWith('~')) return `-${lastSegment(text.slice(1).split('=')[0] ?? '')}`;
  const eq = text.indexOf('=');
  if (eq < 0) return text;
  const key = lastSegment(text.slice(text.startsWith('+') ? 1 : 0, eq));
  // A value that is a path or hub id (`org/model`) keeps its last part: names hold no `/`.
  const value = text.slice(eq + 1).trim().replace(/\/+$/, '').split('/').pop() ?? '';
  return `${SHORT_KEYS[key] ?? key}=${value}`;
}

function lastSegment(key: string): string {
  const parts = key.trim().split('.').filter((p) => p !== '' && !/^\d+$/.test(p));
  return parts.at(-1) ?? key.trim();
}

/** The name before it is made unique: the config's stem, then each override's label. */
export function baseRunName(configPath: string, overrides: readonly string[]): string {
  const stem = basename(configPath).replace(/\.(ya?ml|json)$/i, '') || 'run';
  const labels = overrides.map(overrideLabel).filter((l) => l !== '');
  let name = stem;
  for (const [i, label] of labels.entries()) {
    const rest = labels.length - i - 1;
    const next = `${name} · ${label}`;
    if (next.length + (rest > 0 ? ` +${rest}`.length : 0) > MAX_NAME) return `${name} +${labels.length - i}`;
    name = next;
  }
  return cleanName(name);
}

/** `base`, or `base #2`, `base #3`… — the first that no run has. */
export function uniqueRunName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base} #${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/**
 * The name a launch of `configPath` with `overrides` gets when none is given. Names are unique
 * across projects (`keel run show NAME` is global); only the names it could clash with are read.
 */
export function defaultRunName(store: Store, configPath: string, overrides: readonly string[]): string {
  const base = baseRunName(configPath, overrides);
  return uniqueRunName(base, store.runs.namesNumberedFrom(base));
}

/** Control characters and the bidi overrides that reorder what is shown. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** The same, for a yes/no test (a global regex keeps state between `test` calls). */
const HAS_UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function cleanName(name: string): string {
  return name.replace(UNPRINTABLE, ' ').replace(/\//g, '∕').replace(/\s+/g, ' ').trim();
}

/**
 * `name` trimmed, for `runs/rename`; throws E_INVALID_PARAMS when it cannot be a run name and
 * E_CONFLICT when another run has it.
 */
export function checkedRunName(store: Store, runId: string, name: string): string {
  const trimmed = name.trim();
  const refuse = (why: string): never => {
    throw new RpcError(ErrorCode.InvalidParams, `"${name.replace(UNPRINTABLE, '?')}" cannot be a run name: ${why}`);
  };
  if (trimmed === '') refuse('it is empty');
  if (HAS_UNPRINTABLE.test(trimmed)) refuse('it holds control characters; use one line of plain text');
  if (trimmed.includes('/')) refuse('it holds "/" (pulled checkpoints go to a folder named after the run); use another character');
  if (/^run_/.test(trimmed)) refuse('names starting with "run_" look like run ids');
  const other = store.runs.namedOtherThan(trimmed, runId);
  if (other) throw new RpcError(ErrorCode.Conflict, `run ${other.id} is already named "${trimmed}"; pick another name (names are unique so \`keel run show NAME\` finds one run)`);
  return trimmed;
}

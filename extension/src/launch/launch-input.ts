/**
 * The launch wizard's pure parts: `key=value` overrides and sweep grids (parsed and
 * validated as the user types), the host and GPU choices, a Slurm host's partition and time
 * limit, the config order, and the one-line summary shown before launching.
 */
import { gresGpuCount, SLURM_PARTITION, slurmTimeProblem, type HostInfo, type SlurmCheckFacts } from '../../../daemon/src/protocol/index.ts';
import { gresText, plural } from '../format.ts';

/** A config param path as `--set` takes it: `learning_rate`, `optimizer.lr`, `datasets[0].path`. */
const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.\-[\]]*$/;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Splits on whitespace, keeping quoted parts together: `a=1 b="x y"` → [`a=1`, `b=x y`]. */
export function splitArgs(text: string): Parsed<string[]> {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | null = null;
  let has = false;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += ch;
      has = true;
    }
  }
  if (quote) return { ok: false, error: `unclosed ${quote} quote` };
  if (has || cur) out.push(cur);
  return { ok: true, value: out };
}

function checkAssignment(token: string): string | undefined {
  const i = token.indexOf('=');
  if (i <= 0) return `"${token}" must look like key=value`;
  const key = token.slice(0, i);
  if (!KEY.test(key)) return `"${key}" is not a config key (letters, digits, _ . - and [n])`;
  return undefined;
}

/** `learning_rate=0.1 num_train_epochs=2` → ['learning_rate=0.1', 'num_train_epochs=2']; empty text → []. */
export function parseOverrides(text: string): Parsed<string[]> {
  const split = splitArgs(text);
  if (!split.ok) return split;
  const seen = new Set<string>();
  for (const token of split.value) {
    const problem = checkAssignment(token);
    if (problem) return { ok: false, error: problem };
    const key = token.slice(0, token.indexOf('='));
    if (seen.has(key)) return { ok: false, error: `${key} is set twice` };
    seen.add(key);
  }
  return { ok: true, value: split.value };
}

/** The daemon refuses sweeps with more points than this. */
export const MAX_SWEEP_POINTS = 500;

/** `lr=1e-4,3e-4 batch=8,16` → grid entries and the number of runs it makes (4). */
export function parseGrid(text: string): Parsed<{ grid: string[]; points: number }> {
  const split = splitArgs(text);
  if (!split.ok) return split;
  if (split.value.length === 0) return { ok: false, error: 'enter at least one key=v1,v2' };
  let points = 1;
  for (const token of split.value) {
    const problem = checkAssignment(token);
    if (problem) return { ok: false, error: problem.replace('key=value', 'key=v1,v2,…') };
    const values = token.slice(token.indexOf('=') + 1).split(',').map((v) => v.trim()).filter((v) => v !== '');
    if (values.length === 0) return { ok: false, error: `${token.slice(0, token.indexOf('='))} has no values` };
    points *= values.length;
  }
  if (points > MAX_SWEEP_POINTS) return { ok: false, error: `that is ${points} runs; at most ${MAX_SWEEP_POINTS} at once` };
  return { ok: true, value: { grid: split.value, points } };
}

/** Where a run goes: the built-in local host, a named host, or any host with free GPUs. */
export type HostTarget = { kind: 'local' } | { kind: 'host'; name: string } | { kind: 'any' };

export interface HostChoice {
  label: string;
  description: string;
  target: HostTarget;
  /** GPUs on the host (the most on any host for `any`). */
  gpusTotal: number;
  gpusFree: number;
  /** Slurm hosts: the partitions at the last check (null: not known) and the host's own default (`--partition` at add). */
  slurm?: { partitions: SlurmPartition[] | null; hostDefault: string | null };
}

export type SlurmPartition = SlurmCheckFacts['partitions'][number];

function reachability(h: HostInfo): string {
  return h.reachable === true ? 'reachable' : h.reachable === false ? 'unreachable' : 'not checked yet';
}

/** "Local" first, then each SSH host with free/total GPUs and reachability, then "Any host" when there are hosts. */
export function hostChoices(hosts: readonly HostInfo[]): HostChoice[] {
  const local = hosts.find((h) => h.backend === 'local');
  const remote = hosts.filter((h) => h.backend !== 'local').sort((a, b) => a.name.localeCompare(b.name));
  const choices: HostChoice[] = [{
    label: '$(vm) Local',
    description: `this machine · ${local?.gpusFree ?? 0}/${local?.gpusTotal ?? 0} GPUs free`,
    target: { kind: 'local' },
    gpusTotal: local?.gpusTotal ?? 0,
    gpusFree: local?.gpusFree ?? 0,
  }];
  for (const h of remote) {
    choices.push({
      label: `$(server) ${h.name}`,
      description: `${h.backend === 'slurm' ? `Slurm (up to ${h.gpusTotal} GPUs per node)` : `${h.gpusFree}/${h.gpusTotal} GPUs free`} · ${reachability(h)}${h.runningRuns ? ` · ${plural(h.runningRuns, 'run')} running` : ''}`,
      target: { kind: 'host', name: h.name },
      gpusTotal: h.gpusTotal,
      gpusFree: h.gpusFree,
      ...(h.backend === 'slurm' ? { slurm: { partitions: h.slurmPartitions ?? null, hostDefault: h.slurm?.partition ?? null } } : {}),
    });
  }
  if (remote.length > 0) {
    const most = Math.max(...hosts.map((h) => h.gpusTotal));
    choices.push({ label: '$(layers) Any host', description: 'the first reachable host with enough free GPUs (queued until one has them)', target: { kind: 'any' }, gpusTotal: most, gpusFree: Math.max(...hosts.map((h) => h.gpusFree)) });
  }
  return choices;
}

/** GPU counts to offer for a host: 0 (CPU) to its total. */
export function gpuCounts(choice: Pick<HostChoice, 'gpusTotal'>): number[] {
  return Array.from({ length: Math.max(0, choice.gpusTotal) + 1 }, (_, i) => i);
}

/** One answer of the partition step: a partition, or (partition undefined) the host's default. */
export interface PartitionItem {
  label: string;
  description: string;
  /** undefined: let the host's `--partition` (or else the cluster's default partition) decide. */
  partition: string | undefined;
  /** GPUs one node of it has (GRES), to offer in the GPU step; null when not known. */
  gpus: number | null;
  /** Its time limit as sinfo says it ("1-00:00:00", "infinite"); null when not known. */
  timeLimit: string | null;
  /** The "type a name" answer, offered when the partitions are not known. */
  other?: true;
}

/**
 * The partition step: "Host default" first (naming the partition it is), then each partition
 * with its GPUs (GRES), time limit, nodes and state, the cluster's default marked. Without
 * known partitions: "Host default" and "Other partition…" to type one.
 */
export function partitionItems(partitions: readonly SlurmPartition[] | null, hostDefault: string | null): PartitionItem[] {
  const clusterDefault = partitions?.find((p) => p.default) ?? null;
  const usual = (hostDefault ? partitions?.find((p) => p.name === hostDefault) : clusterDefault) ?? null;
  const defaultName = hostDefault ?? clusterDefault?.name ?? null;
  const items: PartitionItem[] = [{
    label: '$(star-full) Host default',
    description: defaultName ? `${defaultName}${hostDefault ? ' (the host\'s --partition)' : ' (the cluster\'s default)'}${usual ? ` · ${gresText(usual.gres)} · time limit ${usual.timeLimit}` : ''}` : 'the cluster\'s default partition',
    partition: undefined,
    gpus: usual ? gresGpuCount(usual.gres) : null,
    timeLimit: usual?.timeLimit ?? null,
  }];
  if (partitions === null) {
    items.push({ label: '$(edit) Other partition…', description: 'type its name (the host has not been checked: Keel: Check Host lists them)', partition: undefined, gpus: null, timeLimit: null, other: true });
    return items;
  }
  for (const p of partitions) {
    const state = p.avail !== 'up' ? ` · ${p.avail}` : '';
    items.push({
      label: p.name,
      description: `${gresText(p.gres)} · time limit ${p.timeLimit} · ${plural(p.nodes, 'node')}${state}${p.default ? ' · cluster default' : ''}`,
      partition: p.name,
      gpus: gresGpuCount(p.gres),
      timeLimit: p.timeLimit,
    });
  }
  return items;
}

/** A partition name typed by hand: one Slurm name. */
export function partitionNameProblem(text: string): string | undefined {
  return SLURM_PARTITION.test(text.trim()) ? undefined : 'One partition name: letters, digits, ".", "_" and "-"';
}

/** The time-limit step's check: empty is the partition's own limit; otherwise what sbatch --time takes (the daemon's rule). */
export function timeLimitProblem(text: string): string | undefined {
  const t = text.trim();
  return t === '' ? undefined : slurmTimeProblem(t) ?? undefined;
}

/** The `partition` / `time` launch params of the Slurm steps' answers (nothing for "host default" and an empty time). */
export function slurmParams(answer: { partition?: string | undefined; time?: string | undefined }): { partition?: string; time?: string } {
  const time = answer.time?.trim();
  return { ...(answer.partition ? { partition: answer.partition } : {}), ...(time ? { time } : {}) };
}

export function hostLabel(target: HostTarget): string {
  return target.kind === 'local' ? 'local' : target.kind === 'host' ? target.name : 'any host';
}

/** The launch params for a target. */
export function hostParams(target: HostTarget): { local?: true; host?: string } {
  return target.kind === 'local' ? { local: true } : target.kind === 'host' ? { host: target.name } : {};
}

/** "configs/baseline.yaml on local · 0 GPUs · learning_rate=0.1"; on Slurm "… on cluster · partition gpu · time 02:00:00 · 1 GPU" */
export function launchSummary(input: { config: string; target: HostTarget; gpus: number; set: readonly string[]; sweepRuns?: number; maxParallel?: number; name?: string; partition?: string; time?: string }): string {
  const parts = [`${input.name ? `"${input.name}": ` : ''}${input.config} on ${hostLabel(input.target)}`];
  if (input.partition) parts.push(`partition ${input.partition}`);
  if (input.time) parts.push(`time ${input.time}`);
  parts.push(plural(input.gpus, 'GPU'));
  if (input.sweepRuns !== undefined) parts.push(`${plural(input.sweepRuns, 'run')}${input.maxParallel !== undefined ? ` (at most ${input.maxParallel} at once)` : ''}`);
  if (input.set.length) parts.push(input.set.join(' '));
  return parts.join(' · ');
}

/** A file that may be a training config (YAML or JSON, and not keel.yaml itself). */
export function looksLikeConfig(path: string): boolean {
  const name = path.split(/[\\/]/).pop() ?? '';
  return /\.(ya?ml|json)$/i.test(name) && name !== 'keel.yaml';
}

/** Configs to offer: the active editor's first (when it is one), then the rest by path. */
export function orderConfigs(paths: readonly string[], active: string | undefined): string[] {
  const unique = [...new Set(paths)].sort((a, b) => a.localeCompare(b));
  if (active && looksLikeConfig(active)) return [active, ...unique.filter((p) => p !== active)];
  return unique;
}

/**
 * Answers given up front by a caller (CodeLens, tests, other commands): each one given
 * skips its step; with all of config, host, gpus and set given, the launch needs no
 * confirmation. `host` is a host name, "local" or "any".
 */
export interface LaunchRequest {
  config?: string;
  /** The run's name (a single launch); without it the daemon names it after the config and overrides. */
  name?: string;
  target?: HostTarget;
  gpus?: number;
  set?: string[];
  grid?: string[];
  /** Slurm hosts: sbatch --partition and --time (given, their steps are skipped). */
  partition?: string;
  time?: string;
  /** A sweep on a Slurm host: at most this many of its job array's tasks at once (given, its step is skipped). */
  maxParallel?: number;
}

/** `--max-parallel` as typed: '' = no limit (undefined), else a whole number 1–1000; an error message when neither. */
export function parseMaxParallel(text: string): Parsed<number | undefined> {
  const t = text.trim();
  if (t === '') return { ok: true, value: undefined };
  if (!/^\d{1,4}$/.test(t) || Number(t) < 1 || Number(t) > 1000) return { ok: false, error: `"${t}" is not a number of runs from 1 to 1000 (Enter for no limit)` };
  return { ok: true, value: Number(t) };
}

/** Reads a LaunchRequest from a command argument; fields of the wrong shape are ignored, bad overrides are an error. */
export function parseLaunchRequest(arg: unknown): Parsed<LaunchRequest> {
  if (typeof arg !== 'object' || arg === null || Array.isArray(arg)) return { ok: true, value: {} };
  const a = arg as Record<string, unknown>;
  const req: LaunchRequest = {};
  if (typeof a.config === 'string' && a.config) req.config = a.config;
  if (typeof a.host === 'string' && a.host) req.target = a.host === 'local' ? { kind: 'local' } : a.host === 'any' ? { kind: 'any' } : { kind: 'host', name: a.host };
  if (typeof a.gpus === 'number' && Number.isInteger(a.gpus) && a.gpus >= 0) req.gpus = a.gpus;
  if (typeof a.name === 'string' && a.name.trim() !== '') req.name = a.name.trim();
  if (typeof a.partition === 'string' && a.partition) {
    const problem = partitionNameProblem(a.partition);
    if (problem) return { ok: false, error: `partition "${a.partition}": ${problem}` };
    req.partition = a.partition.trim();
  }
  if (typeof a.time === 'string' && a.time) {
    const problem = timeLimitProblem(a.time);
    if (problem) return { ok: false, error: problem };
    req.time = a.time.trim();
  }
  if (a.maxParallel !== undefined) {
    const r = typeof a.maxParallel === 'number' ? parseMaxParallel(String(a.maxParallel)) : { ok: false as const, error: 'must be a number' };
    if (!r.ok) return { ok: false, error: `maxParallel: ${r.error}` };
    if (r.value !== undefined) req.maxParallel = r.value;
  }
  for (const field of ['set', 'grid'] as const) {
    const list = a[field];
    if (!Array.isArray(list)) continue;
    if (!list.every((x): x is string => typeof x === 'string')) return { ok: false, error: `${field} must be a list of strings` };
    const problem = list.map(checkAssignment).find((p) => p !== undefined);
    if (problem) return { ok: false, error: problem };
    req[field] = list;
  }
  return { ok: true, value: req };
}

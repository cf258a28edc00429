/**
 * Turns "launch this config" into a recorded run: finds the project, parses the config,
 * applies `--set` overrides to a copy (keys validated), freezes what the run will execute
 * (commands, code snapshot, dataset versions: freeze.ts), and records the run (intent first)
 * with everything the later steps need. Nothing remote happens here.
 */
import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ErrorCode, RpcError, type LaunchSpecView, type Run } from '../protocol/index.ts';
import type { Store } from '../store/index.ts';
import { applyOverrides, renderConfig } from '../track/config/overrides.ts';
import { flattenParams } from '../track/config/flatten.ts';
import { readProjectFileAsync } from '../projects/record-project.ts';
import type { KeelProject } from '../track/project/keel-yaml.ts';
import { trackConfig } from '../track/config/track-config.ts';
import { defaultRunName } from '../runs/run-name.ts';
import { slurmValueProblem, type SlurmLaunch } from './slurm.ts';
import type { SlurmArraySpec } from './slurm-array.ts';
import { freezeCommand, freezeSources, type FreezeDeps, type FrozenSources, type FrozenSpec } from './freeze.ts';

/** What a launch records in `runs.launch_json`: no env values (they may be secrets). */
export interface LaunchSpec {
  kind: 'train' | 'eval';
  projectRoot: string;
  /** Config path relative to the project root (POSIX), or null for an eval job. */
  configPath: string | null;
  configFormat: 'yaml' | 'json';
  /** The effective config text (after overrides), also stored in blobs by hash. */
  effectiveConfigHash: string | null;
  overrides: string[];
  host: string | null;
  gpus: number;
  /** For eval jobs: the checkpoint location to evaluate. */
  checkpoint: string | null;
  evalOf: string | null;
  sweepId: string | null;
  /** Slurm hosts: sbatch's --time/--partition/--cpus-per-task/--mem for this run (absent: the host's defaults). */
  slurm?: SlurmLaunch;
  /**
   * Slurm hosts: an eval chained to its train job, submitted at once with
   * `--dependency=afterok:<slurmJobId>`; it evaluates the train job's output folder.
   */
  afterTrain?: { runId: string; jobId: string; slurmJobId: string; outputDir: string };
  /** Slurm hosts: a run of a sweep submitted as one task of the sweep's job array (slurm-array.ts). */
  slurmArray?: SlurmArraySpec;
  /** What the run executes, decided at launch (absent from runs queued by a Keel before it froze specs). */
  frozen?: FrozenSpec;
}

export interface LaunchInput {
  config: string;
  cwd?: string;
  host?: string;
  local?: boolean;
  gpus?: number;
  set?: string[];
  name?: string;
  retries?: number;
  priority?: number;
  sweepId?: string;
  /** Slurm hosts only: see LaunchSpec.slurm. */
  slurm?: SlurmLaunch;
  /** Slurm hosts only: see LaunchSpec.slurmArray. */
  slurmArray?: SlurmArraySpec;
}

/** The project holding `path`: the innermost registered root above it. */
function projectFor(store: Store, path: string): { id: string; root: string } {
  const p = store.projects.containing(path);
  if (!p) throw new RpcError(ErrorCode.NotFound, `${path} is not inside a registered project; run \`keel init\` in the project folder first`);
  return { id: p.id, root: p.root };
}

/** The project's keel.yaml, read and parsed off the main path (capped, regular files only). */
export async function projectSpec(root: string): Promise<KeelProject> {
  const read = await readProjectFileAsync(root);
  if (!read.project) {
    throw new RpcError(ErrorCode.ConfigInvalid, `keel.yaml in ${root} has errors:\n${read.errors.join('\n')}`, { errors: read.errors });
  }
  return read.project;
}

/** The config file named by a launch, and its project (a sweep resolves them once for all its points). */
export function launchProject(store: Store, input: Pick<LaunchInput, 'config' | 'cwd'>): { id: string; root: string } {
  const abs = isAbsolute(input.config) ? input.config : resolve(input.cwd ?? process.cwd(), input.config);
  if (!existsSync(abs)) throw new RpcError(ErrorCode.NotFound, `no config file at ${abs}`);
  return projectFor(store, realpathSync(abs));
}

/** Freezes the code and datasets of `project` for a launch (or a sweep's launches). */
export async function freezeProject(deps: FreezeDeps, project: { id: string; root: string }): Promise<FrozenSources> {
  return freezeSources(deps, project, await projectSpec(project.root));
}

/**
 * Records the run, its spec frozen. The config file is tracked first, as it is now, so the
 * run links to exactly the version it launched (the watcher may not have seen an edit made
 * a moment ago). `sources`: code and data frozen once for a whole sweep.
 */
export async function prepareLaunch(deps: FreezeDeps, input: LaunchInput, sources?: FrozenSources): Promise<{ run: Run; sources: FrozenSources }> {
  const { store } = deps;
  const project = launchProject(store, input);
  const real = realpathSync(isAbsolute(input.config) ? input.config : resolve(input.cwd ?? process.cwd(), input.config));
  const keel = await projectSpec(project.root);
  const job = freezeCommand(keel.train);
  if (!job) {
    throw new RpcError(ErrorCode.ConfigInvalid, `keel.yaml in ${project.root} has no train.command; add one, e.g. train: {command: "python3 train.py --config {config} --output-dir {output_dir}"}`);
  }
  // Read and parsed once, in a parse worker: a config over the size, memory or time limits fails here.
  const { config, text, parsed } = await trackConfig({ store, warnOnFailure: false }, project, real);
  const overrides = input.set ?? [];
  const data = overrides.length ? applyOverrides(parsed.data, overrides, Object.keys(flattenParams(parsed.data))) : parsed.data;
  const effectiveText = overrides.length ? renderConfig(data, parsed.format) : text;
  const effectiveConfigHash = store.blobs.put(effectiveText);
  const gpus = Math.max(0, input.gpus ?? 0);
  if (input.slurm) checkSlurmLaunch(store, input);
  const frozenSources = sources ?? (await freezeSources(deps, project, keel));
  const spec: LaunchSpec = {
    kind: 'train',
    projectRoot: project.root,
    configPath: relative(project.root, real).split(sep).join('/'),
    configFormat: parsed.format,
    effectiveConfigHash,
    overrides,
    host: input.local ? 'local' : input.host ?? null,
    gpus,
    checkpoint: null,
    evalOf: null,
    sweepId: input.sweepId ?? null,
    ...(input.slurm ? { slurm: input.slurm } : {}),
    ...(input.slurmArray ? { slurmArray: input.slurmArray } : {}),
    frozen: { frozenAt: Date.now(), job, eval: freezeCommand(keel.eval), code: frozenSources.code, datasets: frozenSources.datasets },
  };
  const run = store.runs.create({
    projectId: project.id,
    // Named after the config and what the launch changed, not after its id (runs/run-name.ts).
    name: input.name || defaultRunName(store, real, overrides),
    source: 'launch',
    kind: 'train',
    configId: config.id,
    sweepId: input.sweepId ?? null,
    priority: input.priority ?? 0,
    gpus,
    maxRetries: input.retries ?? 0,
    launch: spec,
  });
  store.runLinks.setParams(run.id, flattenParams(data));
  return { run, sources: frozenSources };
}

/** Slurm options go to a Slurm host only, and each must be a value sbatch takes (they reach it as arguments). */
function checkSlurmLaunch(store: Store, input: LaunchInput): void {
  const host = input.host ? store.hosts.get(input.host) : undefined;
  if (!host || host.backend !== 'slurm') {
    throw new RpcError(ErrorCode.InvalidParams, `--time, --partition, --cpus and --mem are for Slurm hosts; ${input.host ? `host ${input.host} is not one` : 'name one with --host'} (\`keel hosts\` lists them)`);
  }
  for (const field of ['time', 'partition', 'mem'] as const) {
    const value = input.slurm?.[field];
    const problem = value === undefined ? null : slurmValueProblem(field, value);
    if (problem) throw new RpcError(ErrorCode.InvalidParams, problem);
  }
}

/** Reads the launch spec back from a run. */
export function launchSpecOf(store: Store, runId: string): LaunchSpec {
  const spec = store.runs.launchSpec(runId) as LaunchSpec | null;
  if (!spec) throw new RpcError(ErrorCode.InvalidState, `run ${runId} was not launched by Keel (it was imported or watched)`);
  return spec;
}

/** The run's frozen spec as clients see it (`runs/spec`), or null for a run Keel did not launch or one queued before specs were frozen. */
export function launchSpecView(store: Store, runId: string): LaunchSpecView | null {
  const spec = store.runs.launchSpec(runId) as LaunchSpec | null;
  const f = spec?.frozen;
  if (!spec || !f) return null;
  const { versionId: _v, snapshotId: _s, ...code } = f.code;
  return {
    frozenAt: f.frozenAt, job: f.job, eval: f.eval, configPath: spec.configPath, effectiveConfigHash: spec.effectiveConfigHash,
    overrides: spec.overrides, host: spec.host, gpus: spec.gpus, code,
    datasets: f.datasets.map((d) => ({ path: d.path, hash: d.hash, versionId: d.versionId })),
  };
}

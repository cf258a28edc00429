/**
 * The job directory of one attempt (`<workdir>/jobs/<run>/<attempt>/`): job.env (what run.sh
 * reads: the frozen command, rendered; env values; GPUs), spec.json (the immutable record:
 * env NAMES only), the effective config; then workspace.sh adds run.sh and `work/` — the
 * job's private workspace.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Run } from '../protocol/index.ts';
import type { Job } from '../store/jobs.ts';
import { parseTrainingConfig } from '../track/config/parse.ts';
import { renderConfig } from '../track/config/overrides.ts';
import { ensurePrivateDir } from '../home/paths.ts';
import { renderJobEnv } from './remote/job-env.ts';
import { shellQuote } from './remote/quote.ts';
import { readMarkers } from './remote/markers.ts';
import { projectSpec, type LaunchSpec } from './launch-request.ts';
import type { FrozenSpec } from './freeze.ts';
import type { DispatchContext } from './context.ts';
import { synced } from './caches.ts';
import { runStep } from './host-step.ts';

/** Substitutes `{placeholder}`s with single-quoted values: user data never becomes shell text. */
export function renderCommand(template: string, values: Record<string, string>): string {
  return template.replace(/\{(config|output_dir|run|checkpoint)\}/g, (_m, name: string) => shellQuote(values[name] ?? ''));
}

function effectiveConfig(ctx: DispatchContext, spec: LaunchSpec, outputDir: string): string | null {
  if (!spec.configPath || !spec.effectiveConfigHash) return null;
  const text = ctx.store.blobs.getText(spec.effectiveConfigHash) ?? '';
  const parsed = parseTrainingConfig(text, spec.configPath);
  // The run writes where Keel looks: the config's own output_dir points at the job's outputs.
  if (parsed.data && typeof parsed.data === 'object' && 'output_dir' in (parsed.data)) {
    return renderConfig({ ...(parsed.data as Record<string, unknown>), output_dir: outputDir }, parsed.format);
  }
  return text;
}

/**
 * The values of the frozen env NAMES, read from keel.yaml now (values are secrets: never
 * recorded). A name keel.yaml no longer has is left out, and the run's events say so.
 */
async function envValues(ctx: DispatchContext, run: Run, spec: LaunchSpec, frozen: FrozenSpec): Promise<Record<string, string>> {
  if (frozen.job.envNames.length === 0) return {};
  const keel = await projectSpec(spec.projectRoot).catch(() => null);
  const now = (spec.kind === 'eval' ? keel?.eval?.env : keel?.train?.env) ?? {};
  const out: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of frozen.job.envNames) {
    const value = now[name];
    if (value === undefined) missing.push(name);
    else out[name] = value;
  }
  if (missing.length > 0) {
    ctx.lifecycle.alert(run.id, 'env_missing', 'warning', `keel.yaml no longer sets ${missing.join(', ')} (recorded at launch): the job runs without ${missing.length === 1 ? 'it' : 'them'}`);
  }
  return out;
}

/** Where the job's GPUs are: their UUIDs (leased) and nvidia-smi indices (a fallback for run.sh). */
function gpusOf(ctx: DispatchContext, job: Job): { uuids: string[]; indices: number[] } {
  const inventory = job.hostId ? ctx.store.hosts.byId(job.hostId)?.gpus ?? [] : [];
  const indices = job.gpuIds.map((id) => inventory.find((g) => g.uuid === id || String(g.index) === id)?.index ?? (/^\d+$/.test(id) ? Number(id) : -1));
  return { uuids: job.gpuIds, indices: indices.every((i) => i >= 0) ? indices : [] };
}

/** Everything written into the staging copy of the job dir. */
async function stage(ctx: DispatchContext, run: Run, job: Job, host: string, spec: LaunchSpec, frozen: FrozenSpec, staging: string): Promise<void> {
  const outputDir = `${job.jobDir}/outputs`;
  const workspace = `${job.jobDir}/work`;
  const configFile = spec.configPath ? `${job.jobDir}/config.${spec.configFormat === 'json' ? 'json' : 'yaml'}` : '';
  const values = { config: configFile, output_dir: outputDir, run: run.id, checkpoint: spec.checkpoint ?? '' };
  ensurePrivateDir(join(staging, 'outputs'));
  const config = effectiveConfig(ctx, spec, outputDir);
  if (config !== null) writeFileSync(join(staging, basename(configFile)), config, { mode: 0o600 });
  const gpus = gpusOf(ctx, job);
  const umask = ctx.hosts.loginUmask(host);
  // On a Slurm host, Slurm picks the GPUs and sets CUDA_VISIBLE_DEVICES: run.sh leases none.
  const slurm = ctx.hosts.get(host).backend === 'slurm';
  writeFileSync(join(staging, 'job.env'), renderJobEnv({
    runId: run.id, command: renderCommand(frozen.job.command, values), gpus: slurm ? null : gpus.uuids, outputDir, config: configFile, checkpoint: values.checkpoint,
    keelRoot: await ctx.hosts.workdir(host), codeDir: workspace, env: await envValues(ctx, run, spec, frozen),
    heartbeatSeconds: ctx.heartbeatSeconds, killGraceSeconds: ctx.killGraceSeconds,
    ...(gpus.indices.length > 0 ? { gpuIndices: gpus.indices } : {}),
    ...(ctx.gpuLockDir !== null ? { gpuLockDir: ctx.gpuLockDir } : {}),
    ...(frozen.job.setup !== null ? { setupCommand: frozen.job.setup } : {}),
    ...(umask !== null ? { userUmask: umask } : {}),
  }), { mode: 0o600 });
  // spec.json is the immutable record: env NAMES only, never values.
  writeFileSync(join(staging, 'spec.json'), JSON.stringify({
    runId: run.id, attempt: job.attempt, kind: spec.kind, command: frozen.job.command, setup: frozen.job.setup, envNames: frozen.job.envNames,
    config: spec.configPath, overrides: spec.overrides, gpus: gpus.indices.map(String), gpuUuids: gpus.uuids, workspace,
    code: { commit: frozen.code.commit, patchHash: frozen.code.patchHash, snapshot: frozen.code.snapshotHash },
    datasets: frozen.datasets.map((d) => ({ path: d.path, hash: d.hash })), checkpoint: spec.checkpoint, frozenAt: frozen.frozenAt,
  }, null, 2), { mode: 0o600 });
}

/**
 * Writes the job directory in a private staging folder under KEEL_HOME (0700, files 0600:
 * job.env holds the job's env values), copies it to the host, and removes it — also when
 * the copy fails, so no secret is left behind in staging.
 */
export async function writeJobDir(ctx: DispatchContext, run: Run, job: Job, host: string, spec: LaunchSpec, frozen: FrozenSpec): Promise<void> {
  const staging = join(ctx.keelHome, 'staging', job.id);
  rmSync(staging, { recursive: true, force: true });
  try {
    await stage(ctx, run, job, host, spec, frozen, staging);
    synced(ctx, run, job, host, 'job', await ctx.hosts.connection(host).push(staging, job.jobDir));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Builds the job's private workspace from the code snapshot and the data caches, and puts run.sh in place (workspace.sh). */
export async function buildWorkspace(ctx: DispatchContext, host: string, job: Job, codeDir: string, links: readonly { kind: string; path: string; dir: string }[]): Promise<void> {
  const args = [job.jobDir, codeDir, ...links.flatMap((l) => [l.kind, l.path, l.dir])];
  const r = await runStep(ctx, host, 'workspace.sh', args, { timeoutMs: ctx.timeouts.workspaceMs, what: 'building the workspace' });
  const { markers, complete } = readMarkers(r.stdout);
  const error = markers.find((m) => m.key === 'ERROR')?.rest;
  if (!complete || error !== undefined || !markers.some((m) => m.key === 'WORKSPACE')) {
    throw new Error(`cannot build the workspace in ${job.jobDir} on ${host}: ${error ?? (r.stderr.trim() || `exit ${r.code}`)}`);
  }
}

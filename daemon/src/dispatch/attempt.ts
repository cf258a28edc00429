/**
 * Starts one attempt of a run on a host, as a chain of idempotent "ensure" steps:
 * snapshot the code → ship it (once per snapshot) → ship the datasets (once per version)
 * → build the workspace (once per code + data) → write the job directory → start it
 * detached with start.sh (which never starts a second copy). A retried step re-checks the
 * host first, so nothing runs twice.
 */
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Run } from '../protocol/index.ts';
import { EdgeTypes } from '../store/index.ts';
import type { Job } from '../store/jobs.ts';
import { parseTrainingConfig } from '../track/config/parse.ts';
import { renderConfig } from '../track/config/overrides.ts';
import { renderJobEnv } from './remote/job-env.ts';
import { shellQuote } from './remote/quote.ts';
import { parseStartOutput } from './remote/markers.ts';
import { projectSpec, type LaunchSpec } from './launch-request.ts';
import type { DispatchContext } from './context.ts';
import { ensurePrivateDir } from '../home/paths.ts';
import { shipCode, shipData, synced } from './ship.ts';

const WORKSPACE_SH = `
set -eu
umask 077
ws=$1; code=$2; shift 2
[ -e "$ws/.keel-ready" ] && exit 0
mkdir -p "$(dirname "$ws")"
exec 9>"$ws.lock"; flock 9
[ -e "$ws/.keel-ready" ] && exit 0
rm -rf "$ws.tmp"; mkdir -p "$ws.tmp"
cp -al "$code/." "$ws.tmp/" 2>/dev/null || cp -a "$code/." "$ws.tmp/"
while [ $# -ge 2 ]; do
  mkdir -p "$(dirname "$ws.tmp/$1")"; rm -rf "$ws.tmp/$1"; ln -s "$2" "$ws.tmp/$1"; shift 2
done
touch "$ws.tmp/.keel-ready"
mv "$ws.tmp" "$ws" 2>/dev/null || { [ -e "$ws/.keel-ready" ] && rm -rf "$ws.tmp"; }
`;

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
 * Writes the job directory in a private staging folder under KEEL_HOME (0700, files 0600:
 * job.env holds the job's env values), copies it to the host, and removes it — also when
 * the copy fails, so no secret is left behind in staging.
 */
async function writeJobDir(ctx: DispatchContext, run: Run, job: Job, host: string, spec: LaunchSpec, workspace: string, dataVersions: string[]): Promise<void> {
  const staging = join(ctx.keelHome, 'staging', job.id);
  rmSync(staging, { recursive: true, force: true });
  try {
    await stageJobDir(ctx, run, job, host, spec, workspace, dataVersions, staging);
    const conn = ctx.hosts.connection(host);
    synced(ctx, run, job, host, 'job', await conn.push(staging, job.jobDir));
    const scripts = await ctx.hosts.scriptsDir(host);
    await conn.exec(['cp', `${scripts}/run.sh`, `${job.jobDir}/run.sh`]);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

async function stageJobDir(ctx: DispatchContext, run: Run, job: Job, host: string, spec: LaunchSpec, workspace: string, dataVersions: string[], staging: string): Promise<void> {
  const keel = await projectSpec(spec.projectRoot);
  const template = spec.kind === 'eval' ? keel.eval : keel.train;
  if (!template) throw new Error(`keel.yaml has no ${spec.kind}.command`);
  const outputDir = `${job.jobDir}/outputs`;
  const configFile = spec.configPath ? `${job.jobDir}/config.${spec.configFormat === 'json' ? 'json' : 'yaml'}` : '';
  const values = { config: configFile, output_dir: outputDir, run: run.id, checkpoint: spec.checkpoint ?? '' };
  ensurePrivateDir(join(staging, 'outputs'));
  const config = effectiveConfig(ctx, spec, outputDir);
  if (config !== null) writeFileSync(join(staging, basename(configFile)), config, { mode: 0o600 });
  writeFileSync(join(staging, 'job.env'), renderJobEnv({
    runId: run.id,
    command: renderCommand(template.command, values),
    gpus: job.gpuIds,
    outputDir,
    config: configFile,
    checkpoint: values.checkpoint,
    keelRoot: await ctx.hosts.workdir(host),
    codeDir: workspace,
    ...(template.setup ? { setupCommand: template.setup } : {}),
    ...(template.env ? { env: template.env } : {}),
    heartbeatSeconds: ctx.heartbeatSeconds,
    killGraceSeconds: ctx.killGraceSeconds,
  }), { mode: 0o600 });
  // spec.json is the immutable record: env NAMES only, never values.
  writeFileSync(join(staging, 'spec.json'), JSON.stringify({
    runId: run.id, attempt: job.attempt, kind: spec.kind, command: template.command, envNames: Object.keys(template.env ?? {}),
    config: spec.configPath, overrides: spec.overrides, gpus: job.gpuIds, workspace, dataVersions, checkpoint: spec.checkpoint,
  }, null, 2), { mode: 0o600 });
}

/**
 * A rerun reuses its parent's workspace (the same code snapshot and dataset versions) when
 * it is still on the host, so it runs exactly what the parent ran even if the working tree
 * or the data changed since.
 */
async function parentWorkspace(ctx: DispatchContext, run: Run, host: string): Promise<{ workspace: string; versions: string[] } | null> {
  const parentId = ctx.store.runs.parentOf(run.id);
  const parentJob = parentId ? ctx.store.jobs.latest(parentId) : undefined;
  if (!parentJob || parentJob.hostId !== ctx.hosts.get(host).id) return null;
  const r = await ctx.hosts.connection(host).exec(['cat', `${parentJob.jobDir}/spec.json`]);
  if (r.code !== 0) return null;
  const spec = JSON.parse(r.stdout) as { workspace?: string; dataVersions?: string[] };
  if (!spec.workspace) return null;
  const ready = await ctx.hosts.connection(host).exec(['test', '-e', `${spec.workspace}/.keel-ready`]);
  return ready.code === 0 ? { workspace: spec.workspace, versions: spec.dataVersions ?? [] } : null;
}

/** Runs the ensure chain for `job` and starts it. Throws on failure (the caller decides: retry or fail). */
export async function startAttempt(ctx: DispatchContext, run: Run, job: Job, host: string): Promise<void> {
  const spec = ctx.launchSpec(run.id);
  ctx.setStatus(run.id, 'syncing');
  let prepared = await parentWorkspace(ctx, run, host);
  if (!prepared) {
    if (ctx.store.runs.parentOf(run.id) && spec.kind === 'train') {
      ctx.alert(run.id, 'rerun_rebuilt', 'info', 'the original workspace is not on this host: the rerun ships the current code and data (see its code version and dataset edges)');
    }
    const codeDir = await shipCode(ctx, run, job, host, spec);
    const { links, versions } = await shipData(ctx, run, job, host, spec);
    const workdir = await ctx.hosts.workdir(host);
    const wsId = createHash('sha256').update(JSON.stringify([codeDir, links])).digest('hex').slice(0, 32);
    const workspace = `${workdir}/work/${wsId}`;
    const ws = await ctx.hosts.connection(host).exec(['bash', '-c', WORKSPACE_SH, 'keel-workspace', workspace, codeDir, ...links.flat()]);
    if (ws.code !== 0) throw new Error(`cannot build the workspace on ${host}: ${ws.stderr.trim()}`);
    prepared = { workspace, versions };
  }
  const { workspace, versions } = prepared;
  for (const v of versions) ctx.store.lineage.addEdge({ kind: 'dataset_version', id: v }, { kind: 'run', id: run.id }, EdgeTypes.UsedData);
  await writeJobDir(ctx, run, job, host, spec, workspace, versions);
  const moved = ctx.takeTransfers(job.id);
  ctx.log.info('job directory ready', { run: run.id, attempt: job.attempt, host, codeBytes: moved.code, dataBytes: moved.data });
  ctx.setStatus(run.id, 'starting');
  ctx.store.jobs.update(job.id, { state: 'starting' });
  const scripts = await ctx.hosts.scriptsDir(host);
  const r = await ctx.hosts.connection(host).exec(['bash', `${scripts}/start.sh`, job.jobDir], { timeoutMs: 60_000 });
  const state = parseStartOutput(r.stdout);
  if (state.state === 'started' || state.state === 'running') {
    ctx.store.jobs.update(job.id, { state: 'running', pid: state.pid, started: true });
    ctx.setStatus(run.id, 'running');
    ctx.log.info('job started', { run: run.id, attempt: job.attempt, host, pid: state.pid });
  } else if (state.state === 'finished') {
    ctx.store.jobs.update(job.id, { state: 'running', started: true }); // the monitor drains and ends it
  } else {
    throw new Error(`start.sh on ${host} said ${state.state}${'reason' in state ? `: ${state.reason}` : ''}${r.stderr ? ` (${r.stderr.trim().slice(0, 300)})` : ''}`);
  }
}

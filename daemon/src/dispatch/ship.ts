/**
 * Shipping a run's code and data to its host, each once: a content-addressed folder counts
 * only when its `.keel-complete` marker exists, so a push cut short is simply pushed again,
 * whichever way the files move (rsync, tar over ssh, or a local copy). Every transfer is
 * logged with how it was made; a fallback from rsync also becomes an event on the run.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Run } from '../protocol/index.ts';
import { EdgeTypes } from '../store/index.ts';
import type { Job } from '../store/jobs.ts';
import { trackDataset } from '../track/datasets/index.ts';
import { snapshotCode } from '../track/code/index.ts';
import type { KeelProject } from '../track/project/keel-yaml.ts';
import { shippedCode, LARGE_SNAPSHOT_BYTES, type ShippedCode } from './shipped-code.ts';
import { projectSpec, type LaunchSpec } from './launch-request.ts';
import type { DispatchContext } from './context.ts';
import type { HostConnection, SyncResult } from './transport/connection.ts';
import { INSTALL_RSYNC } from './transport/tools.ts';

const hex = (hash: string): string => hash.replace(/^\w+:/, '');

/** One transfer per (host, dir) at a time: concurrent launches of the same code wait for the first. */
const inFlight = new Map<string, Promise<boolean>>();

function ensureRemoteDir(ctx: DispatchContext, host: string, dir: string, push: () => Promise<void>): Promise<boolean> {
  const key = `${host}\u0000${dir}`;
  const running = inFlight.get(key);
  if (running) return running.then(() => false);
  const p = ensureRemoteDirNow(ctx, host, dir, push).finally(() => inFlight.delete(key));
  inFlight.set(key, p);
  return p;
}

async function ensureRemoteDirNow(ctx: DispatchContext, host: string, dir: string, push: () => Promise<void>): Promise<boolean> {
  const conn = ctx.hosts.connection(host);
  const probe = await conn.exec(['test', '-e', `${dir}/.keel-complete`]);
  if (probe.code === 0) return false;
  await push();
  await conn.exec(['touch', `${dir}/.keel-complete`]);
  return true;
}

/** Logs how a copy was made and counts its bytes; a copy without rsync is also an event on the run. */
export function synced(ctx: DispatchContext, run: Run, job: Job, host: string, what: 'code' | 'data' | 'job', r: SyncResult): void {
  if (what !== 'job') ctx.recordTransfer(job.id, what, r.bytes);
  ctx.log.info('synced', { run: run.id, host, what, via: r.via, bytes: r.bytes, ...(r.fallback ? { why: r.fallback } : {}) });
  if (r.fallback) {
    ctx.alert(run.id, 'sync_without_rsync', 'info', `${r.fallback}: files were copied to ${host} with tar over ssh (whole files every time, no resume); ${INSTALL_RSYNC}`);
  }
}

/** Ships the project's code (once per snapshot) and returns its folder on the host. */
export async function shipCode(ctx: DispatchContext, run: Run, job: Job, host: string, spec: LaunchSpec): Promise<string> {
  const keel = await projectSpec(spec.projectRoot);
  const snap = await shippedCode(spec.projectRoot, keel, { hasher: ctx.pool, hashCache: ctx.store.fileHashes });
  if (snap.totalBytes > LARGE_SNAPSHOT_BYTES) {
    ctx.alert(run.id, 'large_sync', 'warning', `the code snapshot is ${(snap.totalBytes / 1e6).toFixed(0)} MB; add large files to .keelignore or keel.yaml datasets`);
  }
  if (snap.secrets.length > 0) {
    ctx.alert(run.id, 'secrets_not_shipped', 'info', `not shipped to ${host}, because they look like secrets: ${snap.secrets.slice(0, 10).join(', ')}` +
      `${snap.secrets.length > 10 ? ` and ${snap.secrets.length - 10} more` : ''}. Give the job secret values through keel.yaml train.env ` +
      '(it reads them from its private job.env); to ship a file that holds none, add "!<its path>" under keel.yaml `secrets:`, in quotes (YAML reads a bare ! as a tag).');
  }
  await recordCodeVersion(ctx, run, spec, keel, snap);
  const codeDir = `${await ctx.hosts.workdir(host)}/code/${snap.id}`;
  const conn = ctx.hosts.connection(host);
  await ensureRemoteDir(ctx, host, codeDir, async () => {
    const onDisk = snap.files.map((f) => f.path).filter((p) => !snap.rewritten.has(p));
    synced(ctx, run, job, host, 'code', await conn.pushFiles(spec.projectRoot, onDisk, codeDir));
    if (snap.rewritten.size > 0) synced(ctx, run, job, host, 'code', await pushRewritten(ctx, conn, job, snap, codeDir));
  });
  return codeDir;
}

/** The code version (commit + patch) of a launched run, with what it leaves out on the run's events. */
async function recordCodeVersion(ctx: DispatchContext, run: Run, spec: LaunchSpec, keel: KeelProject, snap: ShippedCode): Promise<void> {
  if (!run.projectId || run.codeVersionId) return;
  const { codeVersion, warning } = await snapshotCode({ store: ctx.store }, { id: run.projectId, root: spec.projectRoot, secrets: keel.secrets ?? [] });
  if (warning) {
    ctx.log.info('code version', { run: run.id, warning });
    ctx.alert(run.id, 'code_version_warning', 'info', `code version: ${warning}`);
  }
  if (!codeVersion) return;
  ctx.store.runLinks.setRunCodeVersion(run.id, codeVersion.id);
  ctx.store.codeVersions.setSnapshotHash(codeVersion.id, snap.hash);
  ctx.store.lineage.addEdge({ kind: 'code_version', id: codeVersion.id }, { kind: 'run', id: run.id }, EdgeTypes.UsedCode);
}

/** Files shipped with other content than on disk (keel.yaml without env values), from a private staging folder. */
async function pushRewritten(ctx: DispatchContext, conn: HostConnection, job: Job, snap: ShippedCode, codeDir: string): Promise<SyncResult> {
  const staging = join(ctx.keelHome, 'staging', `${job.id}-code`);
  rmSync(staging, { recursive: true, force: true });
  try {
    for (const [path, content] of snap.rewritten) {
      mkdirSync(dirname(join(staging, path)), { recursive: true, mode: 0o700 });
      const executable = snap.files.find((f) => f.path === path)?.executable ?? false;
      writeFileSync(join(staging, path), content, { mode: executable ? 0o700 : 0o600 });
    }
    return await conn.pushFiles(staging, [...snap.rewritten.keys()], codeDir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Ships each of the project's datasets (current version) and returns workspace links. */
export async function shipData(ctx: DispatchContext, run: Run, job: Job, host: string, spec: LaunchSpec): Promise<{ links: [string, string][]; versions: string[] }> {
  if (!run.projectId) return { links: [], versions: [] };
  const project = { id: run.projectId, root: spec.projectRoot };
  const workdir = await ctx.hosts.workdir(host);
  const conn = ctx.hosts.connection(host);
  const links: [string, string][] = [];
  const versions: string[] = [];
  for (const dataset of ctx.store.datasets.list({ projectId: run.projectId })) {
    const abs = ctx.store.datasets.absPath(dataset.id);
    if (!abs) continue;
    const tracked = await trackDataset({ store: ctx.store, hasher: ctx.pool, hashCache: ctx.store.fileHashes }, project, abs).catch(() => null);
    const version = tracked?.version;
    if (!version || tracked.retry) continue;
    const dataDir = `${workdir}/data/${hex(version.hash)}`;
    await ensureRemoteDir(ctx, host, dataDir, async () => {
      const r = dataset.kind === 'folder'
        ? await conn.push(abs, dataDir)
        : await conn.pushFiles(join(abs, '..'), [basename(abs)], dataDir);
      synced(ctx, run, job, host, 'data', r);
    });
    links.push([dataset.path, dataset.kind === 'folder' ? dataDir : `${dataDir}/${basename(abs)}`]);
    versions.push(version.id);
  }
  return { links, versions };
}

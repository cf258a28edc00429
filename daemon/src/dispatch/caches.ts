/**
 * The content-addressed caches on a host — `code/<snapshot>` and `data/<version hash>` —
 * are trusted only after a check against the hash they are named by. A cache folder is
 * sealed (cache.sh) once its content was hashed on the host and matched; before every use
 * its seal is checked (stat only), and a folder whose listing changed since — a job wrote
 * into it — is hashed again: still equal, it is resealed; different, it is dropped and
 * synced again, with an event saying so, never trusted. A copy cut short is simply pushed
 * again; what arrives is hashed before it is sealed.
 */
import { basename, dirname } from 'node:path';
import type { Run } from '../protocol/index.ts';
import type { Job } from '../store/jobs.ts';
import { manifestHash } from '../track/hash/index.ts';
import { trackDataset } from '../track/datasets/index.ts';
import { parseCacheCheck, parseCacheHash, parseCacheSeal, type CacheHash, type CacheState } from './remote/answers.ts';
import { identityEntries } from './code-snapshots.ts';
import { runStep } from './host-step.ts';
import type { DispatchContext } from './context.ts';
import type { FrozenDataset } from './freeze.ts';
import type { SyncResult } from './transport/connection.ts';
import { INSTALL_RSYNC } from './transport/tools.ts';

/** What a cache folder must hold: a code snapshot (manifest with +x), a dataset folder (manifest), or one file. */
export interface ExpectedContent {
  kind: 'code' | 'folder' | 'file';
  hash: string;
  /** For messages: "the code snapshot 3fa2…", "dataset data/train.jsonl". */
  what: string;
}

/** A step that failed in a way that another attempt may not: the run is requeued with back-off, not failed. */
export class RetryableError extends Error {
  override name = 'RetryableError';
}

/** One transfer per (host, dir) at a time: concurrent attempts on the same cache wait for the first. */
const inFlight = new Map<string, Promise<void>>();

const short = (hash: string): string => hash.replace(/^\w+:/, '').slice(0, 12);

/** Logs how a copy was made and counts its bytes; a copy without rsync is also an event on the run. */
export function synced(ctx: DispatchContext, run: Run, job: Job, host: string, what: 'code' | 'data' | 'job', r: SyncResult): void {
  if (what !== 'job') ctx.recordTransfer(job.id, what, r.bytes);
  ctx.log.info('synced', { run: run.id, host, what, via: r.via, bytes: r.bytes, ...(r.fallback ? { why: r.fallback } : {}) });
  if (r.fallback) {
    ctx.lifecycle.alert(run.id, 'sync_without_rsync', 'info', `${r.fallback}: files were copied to ${host} with tar over ssh (whole files every time, no resume); ${INSTALL_RSYNC}`);
  }
}

function matches(h: CacheHash, expect: ExpectedContent): boolean {
  if (expect.kind === 'file') return h.files.length === 1 && h.files[0]?.hash === expect.hash;
  if (expect.kind === 'folder') return manifestHash(h.files.map(({ path, size, hash }) => ({ path, size, hash }))) === expect.hash;
  return manifestHash(identityEntries(h.files)) === expect.hash;
}

/** The seals of several cache folders in one round trip (cache.sh check). */
export async function checkCaches(ctx: DispatchContext, host: string, dirs: readonly string[]): Promise<Map<string, CacheState>> {
  const r = await runStep(ctx, host, 'cache.sh', ['check', ...dirs], { timeoutMs: ctx.timeouts.cacheHashMs, what: 'checking the caches' });
  const states = parseCacheCheck(r.stdout);
  if (!states || dirs.some((d) => !states.has(d))) throw new RetryableError(`the check of the caches on ${host} was cut short; it is tried again`);
  return states;
}

/**
 * Makes `dir` on `host` hold exactly `expect`, pushing with `push` when it is absent or was
 * changed. Resolves once the folder is sealed; throws when what arrived does not match.
 * `known`: its seal, as checkCaches just found it.
 */
export function ensureCache(ctx: DispatchContext, run: Run, host: string, dir: string, expect: ExpectedContent, push: () => Promise<void>, known?: CacheState): Promise<void> {
  const key = `${host}\u0000${dir}`;
  const running = inFlight.get(key);
  // A folder being pushed right now is checked again after that push; otherwise what was just seen holds.
  const seen = running ? undefined : known;
  const next = (running ?? Promise.resolve()).catch(() => undefined).then(() => ensureNow(ctx, run, host, dir, expect, push, seen));
  inFlight.set(key, next);
  return next.finally(() => {
    if (inFlight.get(key) === next) inFlight.delete(key);
  });
}

async function ensureNow(ctx: DispatchContext, run: Run, host: string, dir: string, expect: ExpectedContent, push: () => Promise<void>, known?: CacheState): Promise<void> {
  const step = (action: 'hash' | 'seal' | 'drop', extra: string[] = []): ReturnType<typeof runStep> =>
    runStep(ctx, host, 'cache.sh', [action, dir, ...extra], { timeoutMs: ctx.timeouts.cacheHashMs, what: `checking ${expect.what} in ${dir}` });
  const state = known ?? (await checkCaches(ctx, host, [dir])).get(dir);
  if (state === 'ok') return;
  if (state === 'changed') {
    const h = parseCacheHash((await step('hash')).stdout);
    if (h && !h.changedWhileHashing && matches(h, expect) && parseCacheSeal((await step('seal', [h.digest])).stdout)) return;
    ctx.lifecycle.alert(run.id, 'cache_resynced', 'warning', `${expect.what} in ${dir} on ${host} was changed after Keel checked it (a job wrote into it?): ` +
      'it was not trusted, and is synced again from the recorded version');
    ctx.log.warn('cache changed; re-syncing', { run: run.id, host, dir });
    await step('drop');
  }
  await push();
  const h = parseCacheHash((await step('hash')).stdout);
  if (!h || h.missing || !matches(h, expect)) {
    throw new RetryableError(`what arrived in ${dir} on ${host} does not match ${expect.what} (${short(expect.hash)}): it changed while it was copied; the attempt is tried again`);
  }
  if (!parseCacheSeal((await step('seal', [h.digest])).stdout)) throw new RetryableError(`${dir} on ${host} changed while Keel sealed it; the attempt is tried again`);
}

/** Where a dataset version's cache folder is on a host. */
export function dataDir(workdir: string, ds: Pick<FrozenDataset, 'hash'>): string {
  return `${workdir}/data/${ds.hash.replace(/^\w+:/, '')}`;
}

/** A dataset that changed locally since the run was launched: its recorded version cannot be shipped from here. */
export class DatasetChangedError extends Error {
  override name = 'DatasetChangedError';
}

/** Ships each frozen dataset version (once per host) and returns the workspace links. */
export async function ensureData(ctx: DispatchContext, run: Run, job: Job, host: string, datasets: readonly FrozenDataset[], known: ReadonlyMap<string, CacheState> = new Map()): Promise<{ kind: 'file' | 'folder'; path: string; dir: string }[]> {
  const workdir = await ctx.hosts.workdir(host);
  const links: { kind: 'file' | 'folder'; path: string; dir: string }[] = [];
  for (const ds of datasets) {
    const dir = dataDir(workdir, ds);
    await ensureCache(ctx, run, host, dir, { kind: ds.kind, hash: ds.hash, what: `dataset ${ds.path}` }, async () => {
      const { root, files } = await localVersion(ctx, run, host, ds);
      synced(ctx, run, job, host, 'data', await ctx.hosts.connection(host).pushFiles(root, files, dir));
    }, known.get(dir));
    links.push({ kind: ds.kind, path: ds.path, dir });
  }
  return links;
}

/** Where the recorded version of `ds` is on this machine, or a DatasetChangedError when it is not any more. */
async function localVersion(ctx: DispatchContext, run: Run, host: string, ds: FrozenDataset): Promise<{ root: string; files: string[] }> {
  const abs = ctx.store.datasets.absPath(ds.datasetId);
  const project = run.projectId ? ctx.store.projects.get(run.projectId) : undefined;
  const tracked = abs && project ? await trackDataset({ store: ctx.store, hasher: ctx.pool, hashCache: ctx.store.fileHashes }, { id: project.id, root: project.root }, abs).catch(() => null) : null;
  const now = tracked?.version?.hash;
  if (!abs || now !== ds.hash) {
    throw new DatasetChangedError(`dataset ${ds.path} changed since run ${run.name} was launched (recorded ${short(ds.hash)}, now ${now ? short(now) : 'missing'}), ` +
      `and ${host} does not have the recorded version: restore it, or launch again to use the data as it is now`);
  }
  return ds.kind === 'folder'
    ? { root: abs, files: ctx.store.datasets.files(ds.versionId).map((f) => f.path) }
    : { root: dirname(abs), files: [basename(abs)] };
}

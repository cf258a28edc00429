/**
 * Shipping a run's frozen code to its host: the snapshot copied at launch goes to
 * `code/<snapshot>` there (once per host, checked against its hash before it is trusted:
 * caches.ts). When the snapshot is no longer on this machine it is rebuilt from the code
 * version — commit + stored patch — and checked against the manifest recorded at launch;
 * when that cannot be done, the attempt fails and says why.
 */
import type { Run } from '../protocol/index.ts';
import type { Job } from '../store/jobs.ts';
import type { DispatchContext } from './context.ts';
import type { FrozenCode } from './freeze.ts';
import type { Snapshot } from './code-snapshots.ts';
import { ensureCache, synced } from './caches.ts';
import type { CacheState } from './remote/answers.ts';
import { rebuildSnapshot } from './rebuild-code.ts';

/** The run's frozen snapshot on this machine, rebuilt from commit + patch when it is gone. */
export async function localSnapshot(ctx: DispatchContext, run: Run, projectRoot: string, code: FrozenCode): Promise<Snapshot> {
  const here = ctx.snapshots.get(code.snapshotId);
  if (here) return here;
  const rebuilt = await rebuildSnapshot({ store: ctx.store, snapshots: ctx.snapshots, hasher: ctx.pool, hashCache: ctx.store.fileHashes }, {
    projectRoot, commit: code.commit, patchHash: code.patchHash, snapshotId: code.snapshotId, snapshotHash: code.snapshotHash,
  });
  ctx.store.events.add({
    kind: 'code_rebuilt', severity: 'info', runId: run.id,
    message: `the code snapshot ${code.snapshotId.slice(0, 12)} was rebuilt from commit ${code.commit?.slice(0, 10) ?? '(none)'} and the patch recorded at launch, ` +
      `and matches the recorded manifest (${rebuilt.files.length} files)`,
  });
  ctx.log.info('code snapshot rebuilt', { run: run.id, snapshot: code.snapshotId, commit: code.commit });
  return rebuilt;
}

/** Where a code snapshot's cache folder is on a host. */
export function codeDir(workdir: string, code: Pick<FrozenCode, 'snapshotId'>): string {
  return `${workdir}/code/${code.snapshotId}`;
}

/** Makes `code/<snapshot>` on `host` hold the run's frozen code; returns that folder. */
export async function ensureCode(ctx: DispatchContext, run: Run, job: Job, host: string, projectRoot: string, code: FrozenCode, known?: CacheState): Promise<string> {
  const dir = codeDir(await ctx.hosts.workdir(host), code);
  await ensureCache(ctx, run, host, dir, { kind: 'code', hash: code.snapshotHash, what: `the code snapshot ${code.snapshotId.slice(0, 12)}` }, async () => {
    const snapshot = await localSnapshot(ctx, run, projectRoot, code);
    synced(ctx, run, job, host, 'code', await ctx.hosts.connection(host).pushFiles(ctx.snapshots.dir(snapshot.id), snapshot.files.map((f) => f.path), dir));
  }, known);
  return dir;
}

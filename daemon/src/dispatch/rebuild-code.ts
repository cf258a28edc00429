/**
 * Rebuilding a run's frozen code from its code version — the commit plus the stored dirty
 * patch — when the snapshot copied at launch is no longer on this machine (a rerun of an old
 * run, on any host). Nothing touches the user's repository: the commit is read into a
 * temporary index, the patch applied to that index with its new objects in a temporary
 * object folder (the repository's objects borrowed as an alternate), and the result checked
 * out into a temporary folder. The files Keel would ship from there must hash to the
 * snapshot recorded at launch, file for file; if not, or if the commit is gone or the patch
 * was never stored, the rebuild fails and says which.
 */
import { mkdtemp, readFile, realpath, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ErrorCode, RpcError } from '../protocol/index.ts';
import type { Store } from '../store/index.ts';
import { gitLine, openGit } from '../track/code/git.ts';
import { parseProjectFile } from '../track/project/keel-yaml.ts';
import type { FileHasher, HashCache } from '../track/hash/index.ts';
import { shippedCode } from './shipped-code.ts';
import type { CodeSnapshots, Snapshot } from './code-snapshots.ts';

/** What the rebuild needs to know about the frozen code. */
export interface RebuildSource {
  projectRoot: string;
  commit: string | null;
  patchHash: string | null;
  snapshotId: string;
  snapshotHash: string;
}

/** Placeholder text stored instead of a patch over the size limit (track/code/snapshot.ts). */
const NOT_STORED = '# Keel did not store this patch';

function cannot(source: RebuildSource, why: string): RpcError {
  return new RpcError(ErrorCode.InvalidState,
    `the code this run recorded (snapshot ${source.snapshotId.slice(0, 12)}) is no longer on this machine and cannot be rebuilt: ${why}`,
    { snapshot: source.snapshotId });
}

/** Rebuilds snapshot `source.snapshotId` into `snapshots`, or throws an RpcError that says why it cannot. */
export async function rebuildSnapshot(deps: { store: Store; snapshots: CodeSnapshots; hasher: FileHasher; hashCache: HashCache }, source: RebuildSource): Promise<Snapshot> {
  const patch = source.patchHash === null ? Buffer.alloc(0) : deps.store.blobs.get(source.patchHash);
  if (patch === undefined) throw cannot(source, `its patch ${source.patchHash ?? ''} is not in keel.db`);
  if (patch.subarray(0, NOT_STORED.length).toString('utf8') === NOT_STORED) {
    throw cannot(source, 'its uncommitted changes were over the size limit and were never stored; commit them next time');
  }
  const git = openGit(source.projectRoot);
  const top = await gitLine(git, ['rev-parse', '--show-toplevel']).catch(() => '');
  if (top === '') throw cannot(source, `${source.projectRoot} is not in a git repository any more`);
  if (source.commit !== null && (await gitLine(git, ['rev-parse', '--verify', '--quiet', `${source.commit}^{commit}`]).catch(() => '')) === '') {
    throw cannot(source, `commit ${source.commit} is not reachable in ${top} (rebased away or garbage-collected?); fetch it back, or launch again`);
  }
  const tmp = await mkdtemp(join(tmpdir(), 'keel-rebuild-'));
  try {
    const tree = await checkoutWithPatch(top, source.commit, patch, tmp);
    const base = relative(await realpath(top), await realpath(source.projectRoot)).split(sep).join('/');
    const projectDir = base === '' ? tree : join(tree, base);
    const keel = parseProjectFile(await readFile(join(projectDir, 'keel.yaml'), 'utf8').catch(() => ''), 'keel.yaml').project;
    const code = await shippedCode(projectDir, keel, { hasher: deps.hasher, hashCache: deps.hashCache });
    if (code.id !== source.snapshotId) throw cannot(source, differences(deps.snapshots, source.snapshotHash, code));
    return await deps.snapshots.freeze(projectDir, code);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The commit's tree plus the patch, checked out under `tmp/tree` without touching the repository. */
async function checkoutWithPatch(top: string, commit: string | null, patch: Buffer, tmp: string): Promise<string> {
  const plain = openGit(top);
  const common = await gitLine(plain, ['rev-parse', '--git-common-dir']);
  const objects = join(isAbsolute(common) ? common : resolve(top, common), 'objects');
  await mkdir(join(tmp, 'objects'), { recursive: true });
  const git = openGit(top, { env: { GIT_INDEX_FILE: join(tmp, 'index'), GIT_OBJECT_DIRECTORY: join(tmp, 'objects'), GIT_ALTERNATE_OBJECT_DIRECTORIES: objects } });
  await git.raw(commit === null ? ['read-tree', '--empty'] : ['read-tree', commit]);
  if (patch.length > 0) {
    await writeFile(join(tmp, 'patch'), patch);
    await git.raw(['apply', '--cached', '--binary', '--whitespace=nowarn', join(tmp, 'patch')]);
  }
  const tree = join(tmp, 'tree');
  await git.raw(['checkout-index', '--all', '--force', `--prefix=${tree}/`]);
  return tree;
}

/** Which files differ between the recorded snapshot and a rebuild, for the message. */
function differences(snapshots: CodeSnapshots, recordedHash: string, rebuilt: { files: { path: string; size: number; hash: string; executable: boolean }[] }): string {
  const recorded = snapshots.recordedManifest(recordedHash);
  if (!recorded) return 'the rebuilt files differ from those recorded at launch';
  const now = new Map(rebuilt.files.map((f) => [f.executable ? `${f.path} +x` : f.path, `${f.hash.replace(/^\w+:/, '')} ${f.size}`]));
  const paths = [...new Set([...recorded.keys(), ...now.keys()])].filter((p) => recorded.get(p) !== now.get(p)).sort();
  const shown = paths.slice(0, 5).join(', ') + (paths.length > 5 ? ` and ${paths.length - 5} more` : '');
  return `rebuilt from the commit and patch, ${paths.length} file(s) differ from those recorded at launch: ${shown}` +
    ' (an untracked file over the patch size limit, or a file git ignores but Keel shipped)';
}

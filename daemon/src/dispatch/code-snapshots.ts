/**
 * Frozen code: at launch, the files a run ships are copied into `$KEEL_HOME/snapshots/<id>/`
 * (private), named by the hash of their manifest. Every attempt, retry and rerun ships from
 * that copy, so an edit made after the launch never reaches the run. A snapshot nothing
 * active uses any more is removed when it can be rebuilt from its code version (commit +
 * stored patch, rebuild-code.ts); one that cannot be rebuilt is kept.
 *
 * The id is computed from the copy, not from the working tree: a file edited while it was
 * copied makes a snapshot of what was copied, whose id says so.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { hashTree, manifestHash, manifestText, type FileHasher, type HashCache } from '../track/hash/index.ts';
import type { Store } from '../store/index.ts';
import { ensurePrivateDir } from '../home/paths.ts';
import type { ShippedCode } from './shipped-code.ts';

/** One file of a snapshot. */
export interface SnapshotFile {
  path: string;
  size: number;
  hash: string;
  executable: boolean;
}

/** A snapshot on this machine. */
export interface Snapshot {
  /** Hex of `hash`: the folder name here and on hosts (`code/<id>`). */
  id: string;
  /** The manifest hash (executables marked `path +x`), which is also the manifest's blob key. */
  hash: string;
  files: SnapshotFile[];
  bytes: number;
}

/** The manifest entries a snapshot's identity hashes: modes matter to a job (`./run.sh`). */
export function identityEntries(files: readonly SnapshotFile[]): { path: string; size: number; hash: string }[] {
  return files.map((f) => ({ path: f.executable ? `${f.path} +x` : f.path, size: f.size, hash: f.hash }));
}

export interface CodeSnapshotsDeps {
  store: Store;
  hasher: FileHasher;
  hashCache: HashCache;
}

export class CodeSnapshots {
  readonly root: string;
  private readonly deps: CodeSnapshotsDeps;
  private readonly freezing = new Map<string, Promise<Snapshot>>();

  constructor(keelHome: string, deps: CodeSnapshotsDeps) {
    this.root = join(keelHome, 'snapshots');
    this.deps = deps;
  }

  /** The folder holding snapshot `id`'s files. */
  dir(id: string): string {
    return join(this.root, id);
  }

  /** The snapshot, when it is on this machine (its record written last, so a half copy does not count). */
  get(id: string): Snapshot | undefined {
    const meta = join(this.root, `${id}.json`);
    if (!existsSync(meta) || !existsSync(this.dir(id))) return undefined;
    return JSON.parse(readFileSync(meta, 'utf8')) as Snapshot;
  }

  /**
   * Copies `code` (the files `shippedCode` chose under `sourceRoot`) into a snapshot, unless
   * one with its id is here already. Returns the snapshot as copied.
   */
  freeze(sourceRoot: string, code: ShippedCode): Promise<Snapshot> {
    const existing = this.get(code.id);
    if (existing) {
      // Its manifest blob may have been reclaimed with the last run that named it (run-delete.ts): a
      // launch that reuses the snapshot names it again, so it must exist again.
      this.recordManifest(identityEntries(existing.files));
      return Promise.resolve(existing);
    }
    // Launches of the same code at once (a burst of `keel launch`) share one copy: two copies
    // sealed side by side would race for the same folder.
    let pending = this.freezing.get(code.id);
    if (!pending) {
      pending = this.copy(sourceRoot, code).finally(() => this.freezing.delete(code.id));
      this.freezing.set(code.id, pending);
    }
    return pending;
  }

  private async copy(sourceRoot: string, code: ShippedCode): Promise<Snapshot> {
    ensurePrivateDir(this.root);
    const tmp = join(this.root, `.tmp-${randomBytes(6).toString('hex')}`);
    try {
      for (const file of code.files) {
        const dest = join(tmp, file.path);
        await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
        const shipped = code.rewritten.get(file.path);
        if (shipped) await writeFile(dest, shipped);
        else await copyFile(join(sourceRoot, file.path), dest, constants.COPYFILE_FICLONE);
        await chmod(dest, file.executable ? 0o700 : 0o600);
      }
      return await this.seal(tmp);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /**
   * Stores the manifest text by its hash (= the snapshot hash): a rebuild is checked against
   * it, file by file, long after the copy is gone.
   */
  private recordManifest(entries: ReturnType<typeof identityEntries>): void {
    this.deps.store.blobs.put(manifestText(entries));
  }

  /** Hashes the copy in `tmp`, moves it to its id's folder and writes its record. */
  private async seal(tmp: string): Promise<Snapshot> {
    const tree = await hashTree(tmp, { pool: this.deps.hasher, cache: this.deps.hashCache, what: 'code snapshot' });
    if (tree.skipped.length > 0) throw new Error(`cannot snapshot the code: ${tree.skipped[0]?.path ?? ''} ${tree.skipped[0]?.reason ?? ''}`);
    const files: SnapshotFile[] = [];
    for (const f of tree.files) files.push({ ...f, executable: ((await stat(join(tmp, f.path))).mode & 0o100) !== 0 });
    const entries = identityEntries(files);
    const hash = manifestHash(entries);
    this.recordManifest(entries);
    const snapshot: Snapshot = { id: hash.replace(/^\w+:/, ''), hash, files, bytes: tree.size };
    if (!this.get(snapshot.id)) {
      await rm(this.dir(snapshot.id), { recursive: true, force: true });
      await rename(tmp, this.dir(snapshot.id));
      await writeFile(join(this.root, `${snapshot.id}.json`), JSON.stringify(snapshot), { mode: 0o600 });
    }
    return snapshot;
  }

  /** Removes snapshot `id` from this machine (record first, so a half removal never counts as present). */
  async remove(id: string): Promise<void> {
    await rm(join(this.root, `${id}.json`), { force: true });
    await rm(this.dir(id), { recursive: true, force: true });
  }

  /** The recorded manifest of snapshot `hash` (path → file), from the blob its freeze stored. */
  recordedManifest(hash: string): Map<string, string> | undefined {
    const text = this.deps.store.blobs.getText(hash);
    if (text === undefined) return undefined;
    const out = new Map<string, string>();
    for (const line of text.split('\n')) {
      const m = /^([0-9a-f]{64}) {2}(\d+) {2}(.*)$/.exec(line);
      if (m?.[3] !== undefined) out.set(m[3], `${m[1] ?? ''} ${m[2] ?? ''}`);
    }
    return out;
  }
}

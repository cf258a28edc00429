/**
 * Code versions: a git commit plus the dirty patch on top of it, content-addressed. The same
 * commit with the same uncommitted changes is always the same code version, so an unchanged
 * tree launched twice maps to one row. The patch bytes live in `blobs`.
 */
import type { CodeVersion } from '../protocol/index.ts';
import type { BlobStore } from './blobs.ts';
import type { Db } from './db.ts';
import { newId } from './ids.ts';

/** A snapshot to record. */
export interface NewCodeVersion {
  projectId: string | null;
  /** Null for a repository with no commits yet. */
  commit: string | null;
  /** Null when HEAD is detached. */
  branch: string | null;
  /** Fetch URL without credentials. */
  remote: string | null;
  dirty: boolean;
  /** The patch that turns the commit into the working tree; null or empty for a clean tree. */
  patch: Buffer | null;
}

interface CodeVersionRow {
  id: string;
  project_id: string | null;
  commit_sha: string | null;
  branch: string | null;
  remote: string | null;
  dirty: number;
  patch_hash: string | null;
  snapshot_hash: string | null;
  created_at: number;
}

function toCodeVersion(r: CodeVersionRow): CodeVersion {
  return {
    id: r.id,
    projectId: r.project_id ?? '',
    commit: r.commit_sha,
    branch: r.branch,
    remote: r.remote,
    dirty: r.dirty === 1,
    patchHash: r.patch_hash,
    createdAt: r.created_at,
  };
}

export class CodeVersionStore {
  private readonly db: Db;
  private readonly blobs: BlobStore;
  private readonly stmts;

  constructor(db: Db, blobs: BlobStore) {
    this.db = db;
    this.blobs = blobs;
    this.stmts = {
      // `IS`, not `=`: a clean tree has a NULL patch hash (and an unborn repo a NULL commit), and
      // SQLite's UNIQUE treats NULLs as distinct, so the lookup is what keeps rows unique.
      find: db.prepare('SELECT * FROM code_versions WHERE project_id IS ? AND commit_sha IS ? AND patch_hash IS ? ORDER BY created_at LIMIT 1'),
      insert: db.prepare(
        `INSERT INTO code_versions (id, project_id, commit_sha, branch, remote, dirty, patch_hash, created_at)
         VALUES (@id, @projectId, @commit, @branch, @remote, @dirty, @patchHash, @now)`,
      ),
      get: db.prepare('SELECT * FROM code_versions WHERE id = ?'),
      setSnapshot: db.prepare('UPDATE code_versions SET snapshot_hash = ? WHERE id = ?'),
    };
  }

  /**
   * Records a code version unless one with the same project, commit and patch exists (then it
   * is returned unchanged: branch and remote are those first seen). One transaction.
   */
  record(input: NewCodeVersion): { codeVersion: CodeVersion; created: boolean } {
    return this.db.transaction(() => {
      const patchHash = input.patch && input.patch.length > 0 ? this.blobs.put(input.patch) : null;
      const existing = this.stmts.find.get(input.projectId, input.commit, patchHash) as CodeVersionRow | undefined;
      if (existing) return { codeVersion: toCodeVersion(existing), created: false };
      const id = newId('code');
      this.stmts.insert.run({
        id, projectId: input.projectId, commit: input.commit, branch: input.branch, remote: input.remote,
        dirty: input.dirty ? 1 : 0, patchHash, now: Date.now(),
      });
      return { codeVersion: this.get(id) as CodeVersion, created: true };
    })();
  }

  get(id: string): CodeVersion | undefined {
    const row = this.stmts.get.get(id) as CodeVersionRow | undefined;
    return row ? toCodeVersion(row) : undefined;
  }

  /** Code versions of a project, newest first. */
  list(projectId: string, limit = 1000): CodeVersion[] {
    const rows = this.db
      .prepare('SELECT * FROM code_versions WHERE project_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?')
      .all(projectId, limit) as CodeVersionRow[];
    return rows.map(toCodeVersion);
  }

  /** The dirty patch bytes (a `git apply` patch), or undefined for a clean version. */
  patch(id: string): Buffer | undefined {
    const row = this.stmts.get.get(id) as CodeVersionRow | undefined;
    return row?.patch_hash ? this.blobs.get(row.patch_hash) : undefined;
  }

  /** Hash of the synced code tarball, once dispatch has built it. */
  snapshotHash(id: string): string | null {
    const row = this.stmts.get.get(id) as CodeVersionRow | undefined;
    return row?.snapshot_hash ?? null;
  }

  setSnapshotHash(id: string, hash: string): void {
    this.stmts.setSnapshot.run(hash, id);
  }
}

/**
 * Datasets and their versions. A dataset is a file or folder path; a version is one content
 * state of it, named by its content hash, with the folder's manifest in `dataset_files`.
 *
 * Which version is "latest": the one that most recently became the dataset's content. The
 * schema has one time per version, so `created_at` means "became current at": it is set when
 * the version is first recorded and moved forward when the dataset changes back to that
 * content (the old version row, its id and its lineage are reused, never duplicated). Within
 * one dataset the times are kept strictly increasing, so ordering by them is unambiguous even
 * for changes within one millisecond.
 */
import { dirname, parse, relative, sep } from 'node:path';
import type { Dataset, DatasetVersion } from '../protocol/index.ts';
import type { Db } from './db.ts';
import { newId } from './ids.ts';

/** What identifies a dataset: where it is, and whether it is one file or a folder. */
export interface DatasetInput {
  projectId: string | null;
  /** Relative to the project root, `/`-separated (absolute when the data lives outside it). */
  path: string;
  absPath: string;
  kind: 'file' | 'folder';
}

/** One file of a version's manifest. */
export interface DatasetFile {
  /** Relative to the dataset folder, `/`-separated (a file dataset: its own name). */
  path: string;
  size: number;
  hash: string;
}

/** A content state to record. */
export interface NewDatasetVersion {
  hash: string;
  sizeBytes: number;
  fileCount: number;
  profile: unknown;
  files: readonly DatasetFile[];
}

/** What `addVersion` did. */
export interface AddedVersion {
  version: DatasetVersion;
  /** A new version row was written. */
  created: boolean;
  /** An older version became the latest again (the content changed back). */
  reactivated: boolean;
}

/** A file found in a dataset version. */
export interface DatasetFileMatch {
  dataset: Dataset;
  version: DatasetVersion;
  file: DatasetFile;
}

interface DatasetRow {
  id: string;
  project_id: string | null;
  path: string;
  kind: 'file' | 'folder';
  created_at: number;
  latest_version_id: string | null;
  versions: number;
}

interface VersionRow {
  id: string;
  dataset_id: string;
  hash: string;
  size_bytes: number;
  file_count: number;
  profile_json: string | null;
  created_at: number;
}

const selectDataset = `SELECT d.id, d.project_id, d.path, d.kind, d.created_at,
    (SELECT v.id FROM dataset_versions v WHERE v.dataset_id = d.id ORDER BY v.created_at DESC, v.rowid DESC LIMIT 1) AS latest_version_id,
    (SELECT count(*) FROM dataset_versions v WHERE v.dataset_id = d.id) AS versions
  FROM datasets d`;
const versionOrder = 'ORDER BY created_at DESC, rowid DESC';

function toDataset(r: DatasetRow): Dataset {
  return {
    id: r.id,
    // The column is nullable (a deleted project leaves its datasets); the wire type is not.
    projectId: r.project_id ?? '',
    path: r.path,
    kind: r.kind,
    latestVersionId: r.latest_version_id,
    versions: r.versions,
    createdAt: r.created_at,
  };
}

function toVersion(r: VersionRow): DatasetVersion {
  return {
    id: r.id,
    datasetId: r.dataset_id,
    hash: r.hash,
    sizeBytes: r.size_bytes,
    fileCount: r.file_count,
    profile: r.profile_json === null ? null : (JSON.parse(r.profile_json) as unknown),
    createdAt: r.created_at,
  };
}

/** The path and every folder above it, nearest first. */
function selfAndAncestors(absPath: string): string[] {
  const out = [absPath];
  const root = parse(absPath).root;
  for (let p = absPath; p !== root && dirname(p) !== p; ) {
    p = dirname(p);
    out.push(p);
  }
  return out;
}

export class DatasetStore {
  private readonly db: Db;
  private readonly stmts;

  constructor(db: Db) {
    this.db = db;
    this.stmts = {
      ensure: db.prepare(
        `INSERT INTO datasets (id, project_id, path, abs_path, kind, created_at) VALUES (@id, @projectId, @path, @absPath, @kind, @now)
         ON CONFLICT (abs_path) DO UPDATE SET project_id = coalesce(excluded.project_id, project_id), path = excluded.path, kind = excluded.kind`,
      ),
      get: db.prepare(`${selectDataset} WHERE d.id = ?`),
      byAbsPath: db.prepare(`${selectDataset} WHERE d.abs_path = ?`),
      version: db.prepare('SELECT * FROM dataset_versions WHERE id = ?'),
      versions: db.prepare(`SELECT * FROM dataset_versions WHERE dataset_id = ? ${versionOrder}`),
      latest: db.prepare(`SELECT * FROM dataset_versions WHERE dataset_id = ? ${versionOrder} LIMIT 1`),
      byHashIn: db.prepare('SELECT * FROM dataset_versions WHERE dataset_id = ? AND hash = ?'),
      byHash: db.prepare(`SELECT * FROM dataset_versions WHERE hash = ? ${versionOrder}`),
      insertVersion: db.prepare(
        `INSERT INTO dataset_versions (id, dataset_id, hash, size_bytes, file_count, profile_json, created_at)
         VALUES (@id, @datasetId, @hash, @sizeBytes, @fileCount, @profileJson, @at)`,
      ),
      touchVersion: db.prepare('UPDATE dataset_versions SET created_at = ? WHERE id = ?'),
      insertFile: db.prepare('INSERT OR IGNORE INTO dataset_files (version_id, path, size_bytes, hash) VALUES (?, ?, ?, ?)'),
      files: db.prepare('SELECT path, size_bytes AS size, hash FROM dataset_files WHERE version_id = ? ORDER BY path'),
      fileIn: db.prepare('SELECT path, size_bytes AS size, hash FROM dataset_files WHERE version_id = ? AND path = ?'),
      filesByHash: db.prepare(
        `SELECT f.version_id, f.path, f.size_bytes AS size, f.hash FROM dataset_files f
           JOIN dataset_versions v ON v.id = f.version_id WHERE f.hash = ? ORDER BY v.created_at DESC, v.rowid DESC, f.path`,
      ),
    };
  }

  /** Registers a dataset path (or updates its project, relative path and kind); returns it. */
  ensure(input: DatasetInput): Dataset {
    this.stmts.ensure.run({ id: newId('ds'), now: Date.now(), ...input });
    return this.byAbsPath(input.absPath) as Dataset;
  }

  get(id: string): Dataset | undefined {
    const row = this.stmts.get.get(id) as DatasetRow | undefined;
    return row ? toDataset(row) : undefined;
  }

  byAbsPath(absPath: string): Dataset | undefined {
    const row = this.stmts.byAbsPath.get(absPath) as DatasetRow | undefined;
    return row ? toDataset(row) : undefined;
  }

  /** Datasets with their latest version id and version count, by path. */
  list(filter: { projectId?: string } = {}): Dataset[] {
    const rows = filter.projectId === undefined
      ? this.db.prepare(`${selectDataset} ORDER BY d.path`).all()
      : this.db.prepare(`${selectDataset} WHERE d.project_id = ? ORDER BY d.path`).all(filter.projectId);
    return (rows as DatasetRow[]).map(toDataset);
  }

  version(id: string): DatasetVersion | undefined {
    const row = this.stmts.version.get(id) as VersionRow | undefined;
    return row ? toVersion(row) : undefined;
  }

  /** Versions of a dataset, latest first. */
  versions(datasetId: string): DatasetVersion[] {
    return (this.stmts.versions.all(datasetId) as VersionRow[]).map(toVersion);
  }

  latestVersion(datasetId: string): DatasetVersion | undefined {
    const row = this.stmts.latest.get(datasetId) as VersionRow | undefined;
    return row ? toVersion(row) : undefined;
  }

  /** Every version (of any dataset) with this content hash, latest first. */
  versionsByHash(hash: string): DatasetVersion[] {
    return (this.stmts.byHash.all(hash) as VersionRow[]).map(toVersion);
  }

  /** The version of one dataset with this content hash. */
  versionByHash(datasetId: string, hash: string): DatasetVersion | undefined {
    const row = this.stmts.byHashIn.get(datasetId, hash) as VersionRow | undefined;
    return row ? toVersion(row) : undefined;
  }

  /**
   * Records a content state of a dataset. Nothing is written when it equals the latest
   * version; an older version with this hash becomes the latest again; otherwise a new
   * version and its manifest are written. One transaction.
   */
  addVersion(datasetId: string, input: NewDatasetVersion): AddedVersion {
    return this.db.transaction((): AddedVersion => {
      const latest = this.latestVersion(datasetId);
      if (latest?.hash === input.hash) return { version: latest, created: false, reactivated: false };
      const at = latest ? Math.max(Date.now(), latest.createdAt + 1) : Date.now();
      const old = this.versionByHash(datasetId, input.hash);
      if (old) {
        this.stmts.touchVersion.run(at, old.id);
        return { version: { ...old, createdAt: at }, created: false, reactivated: true };
      }
      const id = newId('dsv');
      const profileJson = input.profile === undefined || input.profile === null ? null : JSON.stringify(input.profile);
      this.stmts.insertVersion.run({ id, datasetId, hash: input.hash, sizeBytes: input.sizeBytes, fileCount: input.fileCount, profileJson, at });
      for (const f of input.files) this.stmts.insertFile.run(id, f.path, f.size, f.hash);
      return { version: this.version(id) as DatasetVersion, created: true, reactivated: false };
    })();
  }

  /** The manifest of a version, by path. */
  files(versionId: string): DatasetFile[] {
    return this.stmts.files.all(versionId) as DatasetFile[];
  }

  /**
   * The tracked dataset that is `absPath` or the nearest folder dataset above it, with the
   * path of `absPath` inside it (as manifests write it).
   */
  findContaining(absPath: string): { dataset: Dataset; relPath: string } | undefined {
    for (const candidate of selfAndAncestors(absPath)) {
      const dataset = this.byAbsPath(candidate);
      if (!dataset) continue;
      if (candidate === absPath) return { dataset, relPath: dataset.kind === 'file' ? parse(absPath).base : '' };
      return { dataset, relPath: relative(candidate, absPath).split(sep).join('/') };
    }
    return undefined;
  }

  /** Versions (latest first) of the dataset containing `absPath` whose manifest lists that file. */
  versionsWithFile(absPath: string): DatasetFileMatch[] {
    const found = this.findContaining(absPath);
    if (!found || found.relPath === '') return [];
    const matches: DatasetFileMatch[] = [];
    for (const version of this.versions(found.dataset.id)) {
      const file = this.stmts.fileIn.get(version.id, found.relPath) as DatasetFile | undefined;
      if (file) matches.push({ dataset: found.dataset, version, file });
    }
    return matches;
  }

  /** Every dataset version (latest first) holding a file with this content hash, wherever it was. */
  versionsWithFileHash(hash: string): DatasetFileMatch[] {
    const rows = this.stmts.filesByHash.all(hash) as (DatasetFile & { version_id: string })[];
    return rows.flatMap((r) => {
      const version = this.version(r.version_id);
      const dataset = version && this.get(version.datasetId);
      return version && dataset ? [{ dataset, version, file: { path: r.path, size: r.size, hash: r.hash } }] : [];
    });
  }

  /** Absolute path of a dataset (the wire type carries the project-relative one). */
  absPath(datasetId: string): string | undefined {
    const value: unknown = this.db.prepare('SELECT abs_path FROM datasets WHERE id = ?').pluck().get(datasetId);
    return typeof value === 'string' ? value : undefined;
  }
}


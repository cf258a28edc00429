/**
 * Model records: the models runs start from that are not checkpoints of a Keel run (base
 * models), as lineage nodes of kind `model`. One record per model whatever the spelling:
 * every place it was seen (a relative path resolved against the project, an absolute path, a
 * copy in a job's workspace) is a row of `model_locations`; a local folder is recognised
 * again by the hash of its weight files when it moves or is copied; a hub id is one record per
 * (id, revision).
 */
import type { ModelRecord } from '../protocol/index.ts';
import type { Db } from './db.ts';
import { newId } from './ids.ts';

/** A model seen somewhere. */
export interface ModelSighting {
  kind: ModelRecord['kind'];
  /** Real path (local), hub id (hub) or the path as written (path). */
  ref: string;
  /** Where it was seen, as Keel resolved it (a real path, a hub id as written). */
  location: string;
  revision?: string;
  /** Manifest hash of a local model's weight files. */
  hash?: string | null;
}

interface ModelRow {
  id: string;
  kind: ModelRecord['kind'];
  ref: string;
  revision: string;
  hash: string | null;
  created_at: number;
}

export class BaseModelStore {
  private readonly db: Db;
  private readonly stmts;

  constructor(db: Db) {
    this.db = db;
    this.stmts = {
      get: db.prepare('SELECT * FROM models WHERE id = ?'),
      atLocation: db.prepare('SELECT m.* FROM model_locations l JOIN models m ON m.id = l.model_id WHERE l.location = ?'),
      byHash: db.prepare("SELECT * FROM models WHERE hash = ? AND kind = 'local' ORDER BY created_at LIMIT 1"),
      byRef: db.prepare('SELECT * FROM models WHERE kind = ? AND ref = ? AND revision = ?'),
      insert: db.prepare('INSERT INTO models (id, kind, ref, revision, hash, created_at) VALUES (@id, @kind, @ref, @revision, @hash, @created_at)'),
      setHash: db.prepare('UPDATE models SET hash = ? WHERE id = ? AND hash IS NULL'),
      addLocation: db.prepare('INSERT INTO model_locations (location, model_id, seen_at) VALUES (?, ?, ?) ON CONFLICT (location) DO UPDATE SET seen_at = excluded.seen_at'),
      locations: db.prepare('SELECT location FROM model_locations WHERE model_id = ? ORDER BY seen_at, location').pluck(),
    };
  }

  /**
   * The record of a model seen at `s.location`: the one already seen there, else (local) the
   * one with the same weights hash — the same model moved or copied — else the one with the
   * same kind, ref and revision; otherwise a new record. The location is remembered.
   */
  ensure(s: ModelSighting): ModelRecord {
    return this.db.transaction(() => {
      const revision = s.revision ?? '';
      const hash = s.hash ?? null;
      let row = this.stmts.atLocation.get(s.location) as ModelRow | undefined;
      // A folder seen before whose weights changed is another model now.
      if (row !== undefined && hash !== null && row.hash !== null && row.hash !== hash) row = undefined;
      row ??= hash === null ? undefined : (this.stmts.byHash.get(hash) as ModelRow | undefined);
      row ??= this.stmts.byRef.get(s.kind, s.ref, revision) as ModelRow | undefined;
      if (row === undefined) {
        row = { id: newId('mdl'), kind: s.kind, ref: s.ref, revision, hash, created_at: Date.now() };
        this.stmts.insert.run(row);
      } else if (hash !== null && row.hash === null) {
        this.stmts.setHash.run(hash, row.id);
      }
      this.stmts.addLocation.run(s.location, row.id, Date.now());
      return this.get(row.id) as ModelRecord;
    })();
  }

  get(id: string): ModelRecord | undefined {
    const row = this.stmts.get.get(id) as ModelRow | undefined;
    return row ? this.toRecord(row) : undefined;
  }

  /** The model seen at `location` (a path or a hub id as written), if any. */
  byLocation(location: string): ModelRecord | undefined {
    const row = this.stmts.atLocation.get(location) as ModelRow | undefined;
    return row ? this.toRecord(row) : undefined;
  }

  /** A local model with these weights, if one is known. */
  byHash(hash: string): ModelRecord | undefined {
    const row = this.stmts.byHash.get(hash) as ModelRow | undefined;
    return row ? this.toRecord(row) : undefined;
  }

  /** Every model record, oldest first. */
  list(): ModelRecord[] {
    return (this.db.prepare('SELECT * FROM models ORDER BY created_at, id').all() as ModelRow[]).map((r) => this.toRecord(r));
  }

  private toRecord(r: ModelRow): ModelRecord {
    return { id: r.id, kind: r.kind, ref: r.ref, revision: r.revision, hash: r.hash, locations: this.stmts.locations.all(r.id) as string[], createdAt: r.created_at };
  }
}

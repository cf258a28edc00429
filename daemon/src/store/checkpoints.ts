/**
 * Checkpoints: saved model states, unique by `location` (an absolute local path, `host:path`
 * for one that stays on a GPU host, or — for an external base model — the reference as written,
 * e.g. a hub id `meta-llama/Llama-3.2-1B`). `hash` is the manifest hash of the folder.
 */
import type { Checkpoint } from '../protocol/index.ts';
import type { Db } from './db.ts';
import { newId } from './ids.ts';

/** What a checkpoint row holds; `location` and `kind` are required, the rest keep their value when omitted. */
export interface CheckpointInput {
  location: string;
  kind: Checkpoint['kind'];
  runId?: string | null;
  step?: number | null;
  hostId?: string | null;
  hash?: string | null;
  sizeBytes?: number | null;
  /** The base model as a checkpoint location or reference (hub id, path on another machine). */
  baseModel?: string | null;
  /** The folder's manifest (files, sizes, hashes); stored as JSON. */
  manifest?: unknown;
}

/**
 * The lineage edge type run → checkpoint that marks the run's best checkpoint (Trainer's
 * `best_model_checkpoint`). At most one per run; {@link CheckpointStore.setBest} replaces it.
 */
export const BEST_CHECKPOINT_EDGE = 'best_checkpoint';

interface CheckpointRow {
  id: string;
  run_id: string | null;
  step: number | null;
  location: string;
  host_id: string | null;
  hash: string | null;
  size_bytes: number | null;
  kind: Checkpoint['kind'];
  base_model: string | null;
  manifest_json: string | null;
  created_at: number;
}

function toCheckpoint(r: CheckpointRow): Checkpoint {
  return {
    id: r.id,
    runId: r.run_id,
    step: r.step,
    location: r.location,
    hash: r.hash,
    sizeBytes: r.size_bytes,
    kind: r.kind,
    baseModel: r.base_model,
    createdAt: r.created_at,
  };
}

/** Columns an upsert compares to tell whether anything changed. */
const compared = ['run_id', 'step', 'host_id', 'hash', 'size_bytes', 'kind', 'base_model', 'manifest_json'] as const;

export class CheckpointStore {
  private readonly db: Db;
  private readonly stmts;

  constructor(db: Db) {
    this.db = db;
    this.stmts = {
      byId: db.prepare('SELECT * FROM checkpoints WHERE id = ?'),
      byLocation: db.prepare('SELECT * FROM checkpoints WHERE location = ?'),
      insert: db.prepare(`INSERT INTO checkpoints (id, run_id, step, location, host_id, hash, size_bytes, kind, base_model, manifest_json, created_at)
        VALUES (@id, @run_id, @step, @location, @host_id, @hash, @size_bytes, @kind, @base_model, @manifest_json, @created_at)`),
      update: db.prepare(`UPDATE checkpoints SET run_id = @run_id, step = @step, host_id = @host_id, hash = @hash, size_bytes = @size_bytes,
        kind = @kind, base_model = @base_model, manifest_json = @manifest_json WHERE id = @id`),
    };
  }

  /**
   * Inserts the checkpoint at `input.location`, or updates the one already there (fields left
   * undefined keep their stored value). `changed` is true when a row was added or a column differs.
   */
  upsert(input: CheckpointInput): { checkpoint: Checkpoint; created: boolean; changed: boolean } {
    return this.db.transaction(() => {
      const existing = this.stmts.byLocation.get(input.location) as CheckpointRow | undefined;
      const next: CheckpointRow = {
        id: existing?.id ?? newId('ckpt'),
        location: input.location,
        run_id: pick(input.runId, existing?.run_id),
        step: pick(input.step === undefined || input.step === null ? input.step : Math.trunc(input.step), existing?.step),
        host_id: pick(input.hostId, existing?.host_id),
        hash: pick(input.hash, existing?.hash),
        size_bytes: pick(input.sizeBytes, existing?.size_bytes),
        kind: input.kind,
        base_model: pick(input.baseModel, existing?.base_model),
        manifest_json: input.manifest === undefined ? (existing?.manifest_json ?? null) : JSON.stringify(input.manifest),
        created_at: existing?.created_at ?? Date.now(),
      };
      if (!existing) {
        this.stmts.insert.run(next);
        return { checkpoint: toCheckpoint(next), created: true, changed: true };
      }
      const changed = compared.some((c) => existing[c] !== next[c]);
      if (changed) this.stmts.update.run(next);
      return { checkpoint: toCheckpoint(next), created: false, changed };
    })();
  }

  /**
   * Registers an external base model (a hub id, or a path on another machine) as a lineage
   * node: a checkpoint with kind 'unknown', no run, and `location` = `ref` as written.
   * Returns the checkpoint already at that location when there is one (whatever its kind).
   */
  ensureReference(ref: string): Checkpoint {
    const existing = this.byLocation(ref);
    if (existing) return existing;
    return this.upsert({ location: ref, kind: 'unknown', runId: null }).checkpoint;
  }

  get(id: string): Checkpoint | undefined {
    const row = this.stmts.byId.get(id) as CheckpointRow | undefined;
    return row ? toCheckpoint(row) : undefined;
  }

  /** By id, unique id prefix, or exact location. */
  find(ref: string): Checkpoint | undefined {
    const exact = this.get(ref) ?? this.byLocation(ref);
    if (exact) return exact;
    const rows = this.db
      .prepare(`SELECT * FROM checkpoints WHERE id LIKE ? ESCAPE '\\' LIMIT 2`)
      .all(`${ref.replace(/[\\%_]/g, '\\$&')}%`) as CheckpointRow[];
    return rows.length === 1 ? toCheckpoint(rows[0] as CheckpointRow) : undefined;
  }

  byLocation(location: string): Checkpoint | undefined {
    const row = this.stmts.byLocation.get(location) as CheckpointRow | undefined;
    return row ? toCheckpoint(row) : undefined;
  }

  /** The checkpoints a run produced, by step (unknown steps last). */
  byRun(runId: string): Checkpoint[] {
    const rows = this.db
      .prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step IS NULL, step, location')
      .all(runId) as CheckpointRow[];
    return rows.map(toCheckpoint);
  }

  /** Checkpoints with this manifest hash (the same weights saved in several places). */
  byHash(hash: string): Checkpoint[] {
    return (this.db.prepare('SELECT * FROM checkpoints WHERE hash = ? ORDER BY created_at').all(hash) as CheckpointRow[]).map(toCheckpoint);
  }

  /**
   * Checkpoints whose location's last path segment is `segment` (`…/run1/checkpoint-200` for
   * `checkpoint-200`): the candidates when matching a path written on another machine.
   */
  byLastSegment(segment: string): Checkpoint[] {
    const escaped = segment.replace(/[\\%_]/g, '\\$&');
    const rows = this.db
      .prepare(`SELECT * FROM checkpoints WHERE location = ? OR location LIKE ? ESCAPE '\\' OR location LIKE ? ESCAPE '\\' ORDER BY created_at`)
      .all(segment, `%/${escaped}`, `%\\\\${escaped}`) as CheckpointRow[];
    return rows.map(toCheckpoint);
  }

  /** The stored manifest of a checkpoint (parsed JSON), or undefined. */
  manifest(id: string): unknown {
    const row = this.stmts.byId.get(id) as CheckpointRow | undefined;
    return row?.manifest_json ? (JSON.parse(row.manifest_json) as unknown) : undefined;
  }

  /** Marks `checkpointId` as the run's best checkpoint (null clears it). Returns true when it changed. */
  setBest(runId: string, checkpointId: string | null): boolean {
    return this.db.transaction(() => {
      const current = this.bestOf(runId);
      if ((current?.id ?? null) === checkpointId) return false;
      this.db
        .prepare("DELETE FROM lineage_edges WHERE from_kind = 'run' AND from_id = ? AND to_kind = 'checkpoint' AND type = ?")
        .run(runId, BEST_CHECKPOINT_EDGE);
      if (checkpointId !== null) {
        this.db
          .prepare("INSERT INTO lineage_edges (from_kind, from_id, to_kind, to_id, type, created_at) VALUES ('run', ?, 'checkpoint', ?, ?, ?)")
          .run(runId, checkpointId, BEST_CHECKPOINT_EDGE, Date.now());
      }
      return true;
    })();
  }

  /** The run's best checkpoint, if one is marked. */
  bestOf(runId: string): Checkpoint | undefined {
    const row = this.db
      .prepare(`SELECT checkpoints.* FROM lineage_edges JOIN checkpoints ON checkpoints.id = lineage_edges.to_id
        WHERE lineage_edges.from_kind = 'run' AND lineage_edges.from_id = ? AND lineage_edges.to_kind = 'checkpoint' AND lineage_edges.type = ?`)
      .get(runId, BEST_CHECKPOINT_EDGE) as CheckpointRow | undefined;
    return row ? toCheckpoint(row) : undefined;
  }

  /** The run's best checkpoint (by its trainer's own metric), else its latest by step. */
  bestOrLatest(runId: string): Checkpoint | undefined {
    return this.bestOf(runId) ?? [...this.byRun(runId)].sort((a, b) => (b.step ?? -1) - (a.step ?? -1))[0];
  }
}

/** The new value when given (null included), else the stored one. */
function pick<T>(value: T | null | undefined, stored: T | null | undefined): T | null {
  return value === undefined ? (stored ?? null) : value;
}

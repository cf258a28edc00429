/**
 * Checkpoints: saved model states of runs, unique by `location` (an absolute local path, or
 * `host:path` for one that stays on a GPU host). `hash` is the manifest hash of the folder,
 * `weights_hash` that of its weight files only. Base models are not checkpoints: they are
 * model records (base-models.ts).
 *
 * A checkpoint seen gone from disk keeps its record with `deleted_at` (history: lineage,
 * hovers) and is never offered again: {@link CheckpointStore.byRun} and
 * {@link CheckpointStore.bestOrLatest} list present ones only. The output folder's final
 * model with the weights of a `checkpoint-N` is that checkpoint's second location
 * (checkpoint-twins.ts).
 */
import type { Checkpoint, CheckpointLocation } from '../protocol/index.ts';
import { foldTwins, weightsHashOf } from './checkpoint-twins.ts';
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
  /** The run's final model (the output folder itself). */
  final?: boolean;
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
  deleted_at: number | null;
  weights_hash: string | null;
  final: number;
}

interface LocationRow {
  location: string;
  checkpoint_id: string;
  role: 'final';
  deleted_at: number | null;
}

/** A checkpoint's base-model edge: the model or checkpoint it was trained from. */
interface BaseRow {
  from_kind: 'model' | 'checkpoint';
  from_id: string;
}

/** Columns an upsert compares to tell whether anything changed. */
const compared = ['run_id', 'step', 'host_id', 'hash', 'size_bytes', 'kind', 'base_model', 'manifest_json', 'deleted_at', 'weights_hash', 'final'] as const;

/** Present: the checkpoint's own folder is there, or one of its other locations is. */
const PRESENT = '(c.deleted_at IS NULL OR EXISTS (SELECT 1 FROM checkpoint_locations l WHERE l.checkpoint_id = c.id AND l.deleted_at IS NULL))';

export class CheckpointStore {
  private readonly db: Db;
  private readonly stmts;

  constructor(db: Db) {
    this.db = db;
    this.stmts = {
      byId: db.prepare('SELECT * FROM checkpoints WHERE id = ?'),
      byLocation: db.prepare('SELECT * FROM checkpoints WHERE location = ?'),
      alias: db.prepare('SELECT * FROM checkpoint_locations WHERE location = ?'),
      locations: db.prepare('SELECT * FROM checkpoint_locations WHERE checkpoint_id = ? ORDER BY location'),
      base: db.prepare(`SELECT from_kind, from_id FROM lineage_edges WHERE to_kind = 'checkpoint' AND to_id = ? AND type = 'base_model'
        AND from_kind IN ('model', 'checkpoint') ORDER BY id LIMIT 1`),
      insert: db.prepare(`INSERT INTO checkpoints (id, run_id, step, location, host_id, hash, size_bytes, kind, base_model, manifest_json, created_at, deleted_at, weights_hash, final)
        VALUES (@id, @run_id, @step, @location, @host_id, @hash, @size_bytes, @kind, @base_model, @manifest_json, @created_at, @deleted_at, @weights_hash, @final)`),
      update: db.prepare(`UPDATE checkpoints SET run_id = @run_id, step = @step, host_id = @host_id, hash = @hash, size_bytes = @size_bytes,
        kind = @kind, base_model = @base_model, manifest_json = @manifest_json, deleted_at = @deleted_at, weights_hash = @weights_hash, final = @final WHERE id = @id`),
      dropAlias: db.prepare('DELETE FROM checkpoint_locations WHERE location = ?'),
      aliasPresence: db.prepare('UPDATE checkpoint_locations SET deleted_at = ? WHERE location = ?'),
    };
  }

  /**
   * Inserts the checkpoint at `input.location`, or updates the one already there (fields left
   * undefined keep their stored value). A checkpoint registered is present (`deleted_at`
   * cleared). `changed` is true when a row was added or a column differs. When the output
   * folder's final model turns out to hold a `checkpoint-N`'s weights, the two become one
   * record (the returned checkpoint is then `checkpoint-N`).
   */
  upsert(input: CheckpointInput): { checkpoint: Checkpoint; created: boolean; changed: boolean } {
    return this.db.transaction(() => {
      const alias = this.stmts.alias.get(input.location) as LocationRow | undefined;
      if (alias !== undefined) {
        const owner = this.get(alias.checkpoint_id);
        const weights = input.manifest === undefined ? undefined : weightsHashOf(input.manifest);
        const ownerRow = this.stmts.byId.get(alias.checkpoint_id) as CheckpointRow | undefined;
        if (owner !== undefined && (weights === undefined || weights === ownerRow?.weights_hash)) {
          const revived = alias.deleted_at !== null;
          if (revived) this.stmts.aliasPresence.run(null, input.location);
          return { checkpoint: this.get(owner.id) as Checkpoint, created: false, changed: revived };
        }
        // The folder now holds other weights: it is a checkpoint of its own again.
        this.stmts.dropAlias.run(input.location);
      }
      const existing = this.stmts.byLocation.get(input.location) as CheckpointRow | undefined;
      const next = nextRow(input, existing);
      if (!existing) this.stmts.insert.run(next);
      const changed = !existing || compared.some((c) => existing[c] !== next[c]);
      if (existing && changed) this.stmts.update.run(next);
      const id = next.weights_hash === null || !changed ? next.id : foldTwins(this.db, next.id);
      return { checkpoint: this.get(id) as Checkpoint, created: !existing && id === next.id, changed };
    })();
  }

  get(id: string): Checkpoint | undefined {
    const row = this.stmts.byId.get(id) as CheckpointRow | undefined;
    return row ? this.toCheckpoint(row) : undefined;
  }

  /**
   * The checkpoints of `ids` that exist, by id, in three queries however many (`get` takes
   * three each: the row, its other locations, its base-model edge).
   */
  getMany(ids: readonly string[]): Map<string, Checkpoint> {
    const out = new Map<string, Checkpoint>();
    if (ids.length === 0) return out;
    const json = JSON.stringify(ids);
    const rows = this.db.prepare('SELECT * FROM checkpoints WHERE id IN (SELECT value FROM json_each(?))').all(json) as CheckpointRow[];
    const locations = Map.groupBy(this.db.prepare('SELECT * FROM checkpoint_locations WHERE checkpoint_id IN (SELECT value FROM json_each(?)) ORDER BY location').all(json) as LocationRow[], (l) => l.checkpoint_id);
    // Each one's base-model edges by edge id: the first is the one stmts.base takes.
    const bases = Map.groupBy(this.db.prepare(`SELECT to_id, from_kind, from_id FROM lineage_edges WHERE to_kind = 'checkpoint' AND to_id IN (SELECT value FROM json_each(?))
        AND type = 'base_model' AND from_kind IN ('model', 'checkpoint') ORDER BY id`).all(json) as (BaseRow & { to_id: string })[], (b) => b.to_id);
    for (const r of rows) out.set(r.id, this.toCheckpoint(r, locations.get(r.id) ?? [], bases.get(r.id)?.[0] ?? null));
    return out;
  }

  /** By id, unique id prefix, or exact location. */
  find(ref: string): Checkpoint | undefined {
    const exact = this.get(ref) ?? this.byLocation(ref);
    if (exact) return exact;
    const rows = this.db
      .prepare(`SELECT * FROM checkpoints WHERE id LIKE ? ESCAPE '\\' LIMIT 2`)
      .all(`${ref.replace(/[\\%_]/g, '\\$&')}%`) as CheckpointRow[];
    return rows.length === 1 ? this.toCheckpoint(rows[0] as CheckpointRow) : undefined;
  }

  /** The checkpoint saved at `location`: its own folder, or another location of its model (the output folder's final copy). */
  byLocation(location: string): Checkpoint | undefined {
    const row = this.stmts.byLocation.get(location) as CheckpointRow | undefined;
    if (row) return this.toCheckpoint(row);
    const alias = this.stmts.alias.get(location) as LocationRow | undefined;
    return alias ? this.get(alias.checkpoint_id) : undefined;
  }

  /** The present checkpoints a run produced, by step (unknown steps last): what may be offered for eval, pull, tag. */
  byRun(runId: string): Checkpoint[] {
    const rows = this.db
      .prepare(`SELECT * FROM checkpoints c WHERE c.run_id = ? AND ${PRESENT} ORDER BY c.step IS NULL, c.step, c.location`)
      .all(runId) as CheckpointRow[];
    return rows.map((r) => this.toCheckpoint(r));
  }

  /** Every checkpoint a run produced, deleted ones included (their history), by step. */
  byRunAll(runId: string): Checkpoint[] {
    const rows = this.db
      .prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step IS NULL, step, location')
      .all(runId) as CheckpointRow[];
    return rows.map((r) => this.toCheckpoint(r));
  }

  /** Checkpoints with this manifest hash (the same weights saved in several places). */
  byHash(hash: string): Checkpoint[] {
    return (this.db.prepare('SELECT * FROM checkpoints WHERE hash = ? ORDER BY created_at').all(hash) as CheckpointRow[]).map((r) => this.toCheckpoint(r));
  }

  /**
   * Checkpoints whose location (or another location of theirs) has `segment` as its last path
   * segment (`…/run1/checkpoint-200` for `checkpoint-200`): the candidates when matching a path
   * written on another machine. Each is returned with the location that matched.
   */
  byLastSegment(segment: string): (Checkpoint & { matched: string })[] {
    const escaped = segment.replace(/[\\%_]/g, '\\$&');
    const args = [segment, `%/${escaped}`, `%\\\\${escaped}`];
    const own = this.db
      .prepare(`SELECT * FROM checkpoints WHERE location = ? OR location LIKE ? ESCAPE '\\' OR location LIKE ? ESCAPE '\\' ORDER BY created_at`)
      .all(...args) as CheckpointRow[];
    const other = this.db
      .prepare(`SELECT * FROM checkpoint_locations WHERE location = ? OR location LIKE ? ESCAPE '\\' OR location LIKE ? ESCAPE '\\' ORDER BY created_at`)
      .all(...args) as LocationRow[];
    return [
      ...own.map((r) => ({ ...this.toCheckpoint(r), matched: r.location })),
      ...other.flatMap((l) => {
        const c = this.get(l.checkpoint_id);
        return c ? [{ ...c, matched: l.location }] : [];
      }),
    ];
  }

  /** The stored manifest of a checkpoint (parsed JSON), or undefined. */
  manifest(id: string): unknown {
    const row = this.stmts.byId.get(id) as CheckpointRow | undefined;
    return row?.manifest_json ? (JSON.parse(row.manifest_json) as unknown) : undefined;
  }

  /**
   * Every location of the run's checkpoints (their own folders and other locations) with
   * whether it was seen gone: what a look at the disk checks again.
   */
  locationsOfRun(runId: string): { location: string; deletedAt: number | null }[] {
    return this.db.prepare(`SELECT location, deleted_at AS deletedAt FROM checkpoints WHERE run_id = @runId
      UNION ALL SELECT l.location, l.deleted_at FROM checkpoint_locations l JOIN checkpoints c ON c.id = l.checkpoint_id WHERE c.run_id = @runId`)
      .all({ runId }) as { location: string; deletedAt: number | null }[];
  }

  /**
   * Records what a look at the disk found at a checkpoint location: gone (deleted now, unless
   * already marked) or there (present again). Returns true when the record changed.
   */
  setPresence(location: string, present: boolean, now = Date.now()): boolean {
    const when = present ? null : now;
    const own = this.db
      .prepare(`UPDATE checkpoints SET deleted_at = ? WHERE location = ? AND ${present ? 'deleted_at IS NOT NULL' : 'deleted_at IS NULL'}`)
      .run(when, location).changes;
    const other = this.db
      .prepare(`UPDATE checkpoint_locations SET deleted_at = ? WHERE location = ? AND ${present ? 'deleted_at IS NOT NULL' : 'deleted_at IS NULL'}`)
      .run(when, location).changes;
    return own + other > 0;
  }

  /** A row as a Checkpoint; its other locations and base-model edge (null: none) are read unless given (getMany reads them for many at once). */
  private toCheckpoint(
    r: CheckpointRow,
    locationRows = this.stmts.locations.all(r.id) as LocationRow[],
    base = (this.stmts.base.get(r.id) as BaseRow | undefined) ?? null,
  ): Checkpoint {
    const locations: CheckpointLocation[] = locationRows.map((l) => ({ location: l.location, role: l.role, deletedAt: l.deleted_at }));
    const liveElsewhere = locations.some((l) => l.deletedAt === null);
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
      deletedAt: liveElsewhere ? null : r.deleted_at,
      final: r.final === 1,
      ...(locations.length > 0 ? { locations } : {}),
      base: base ? { kind: base.from_kind, id: base.from_id } : null,
    };
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
    return row ? this.toCheckpoint(row) : undefined;
  }

  /**
   * What an automatic eval, `keel pull` and "best" pick: the run's best checkpoint (by its
   * trainer's own metric) when it is still on disk, else its latest present one by step
   * (a `checkpoint-N` before the output folder's own final copy at the same step).
   */
  bestOrLatest(runId: string): Checkpoint | undefined {
    const best = this.bestOf(runId);
    if (best !== undefined && best.deletedAt == null) return best;
    const byStep = (a: Checkpoint, b: Checkpoint): number => (b.step ?? -1) - (a.step ?? -1) || Number(a.final === true) - Number(b.final === true);
    return [...this.byRun(runId)].sort(byStep)[0];
  }
}

/** The row an upsert writes: the input's fields, the stored ones where the input has none. */
function nextRow(input: CheckpointInput, existing: CheckpointRow | undefined): CheckpointRow {
  const manifestJson = input.manifest === undefined ? (existing?.manifest_json ?? null) : JSON.stringify(input.manifest);
  return {
    id: existing?.id ?? newId('ckpt'),
    location: input.location,
    run_id: pick(input.runId, existing?.run_id),
    step: pick(input.step === undefined || input.step === null ? input.step : Math.trunc(input.step), existing?.step),
    host_id: pick(input.hostId, existing?.host_id),
    hash: pick(input.hash, existing?.hash),
    size_bytes: pick(input.sizeBytes, existing?.size_bytes),
    kind: input.kind,
    base_model: pick(input.baseModel, existing?.base_model),
    manifest_json: manifestJson,
    created_at: existing?.created_at ?? Date.now(),
    deleted_at: null,
    weights_hash: input.manifest === undefined ? (existing?.weights_hash ?? null) : weightsHashOf(input.manifest),
    final: input.final === undefined ? (existing?.final ?? 0) : input.final ? 1 : 0,
  };
}

/** The new value when given (null included), else the stored one. */
function pick<T>(value: T | null | undefined, stored: T | null | undefined): T | null {
  return value === undefined ? (stored ?? null) : value;
}

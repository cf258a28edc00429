/**
 * Model aliases (`prod`, `candidate`, …): a name that points at a checkpoint, per project,
 * with every (re)tag kept in history — re-tagging an earlier checkpoint is how a user rolls back.
 */
import type { Db } from './db.ts';

export interface ModelAlias {
  alias: string;
  projectId: string | null;
  checkpointId: string;
  updatedAt: number;
}

export interface AliasChange {
  alias: string;
  projectId: string | null;
  checkpointId: string;
  previousCheckpointId: string | null;
  at: number;
  note: string | null;
}

interface AliasRow { alias: string; project_id: string | null; checkpoint_id: string; updated_at: number }
interface HistoryRow { alias: string; project_id: string | null; checkpoint_id: string; previous_checkpoint_id: string | null; at: number; note: string | null }

export class ModelStore {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /** Points `alias` at a checkpoint and records the change. Tagging the same checkpoint again is a no-op. */
  tag(projectId: string | null, alias: string, checkpointId: string, note: string | null = null): { changed: boolean; previousCheckpointId: string | null } {
    return this.db.transaction(() => {
      const current = this.get(projectId, alias);
      if (current?.checkpointId === checkpointId) return { changed: false, previousCheckpointId: checkpointId };
      const now = Date.now();
      this.db.prepare('DELETE FROM model_aliases WHERE alias = @alias AND project_id IS @projectId').run({ alias, projectId });
      this.db
        .prepare('INSERT INTO model_aliases (project_id, alias, checkpoint_id, updated_at) VALUES (@projectId, @alias, @checkpointId, @now)')
        .run({ projectId, alias, checkpointId, now });
      this.db
        .prepare('INSERT INTO alias_history (project_id, alias, checkpoint_id, previous_checkpoint_id, at, note) VALUES (@projectId, @alias, @checkpointId, @previous, @now, @note)')
        .run({ projectId, alias, checkpointId, previous: current?.checkpointId ?? null, now, note });
      return { changed: true, previousCheckpointId: current?.checkpointId ?? null };
    })();
  }

  get(projectId: string | null, alias: string): ModelAlias | undefined {
    const row = this.db.prepare('SELECT * FROM model_aliases WHERE alias = @alias AND project_id IS @projectId').get({ alias, projectId }) as AliasRow | undefined;
    return row ? { alias: row.alias, projectId: row.project_id, checkpointId: row.checkpoint_id, updatedAt: row.updated_at } : undefined;
  }

  list(projectId?: string | null): ModelAlias[] {
    const rows = (projectId === undefined
      ? this.db.prepare('SELECT * FROM model_aliases ORDER BY alias').all()
      : this.db.prepare('SELECT * FROM model_aliases WHERE project_id IS ? ORDER BY alias').all(projectId)) as AliasRow[];
    return rows.map((r) => ({ alias: r.alias, projectId: r.project_id, checkpointId: r.checkpoint_id, updatedAt: r.updated_at }));
  }

  /** Aliases currently pointing at a checkpoint. */
  aliasesOf(checkpointId: string): string[] {
    return this.db.prepare('SELECT alias FROM model_aliases WHERE checkpoint_id = ? ORDER BY alias').pluck().all(checkpointId) as string[];
  }

  /** {@link aliasesOf} for many checkpoints in one query (those with none are left out). */
  aliasesOfMany(checkpointIds: readonly string[]): Map<string, string[]> {
    if (checkpointIds.length === 0) return new Map();
    const rows = this.db.prepare('SELECT checkpoint_id, alias FROM model_aliases WHERE checkpoint_id IN (SELECT value FROM json_each(?)) ORDER BY alias')
      .all(JSON.stringify(checkpointIds)) as { checkpoint_id: string; alias: string }[];
    return new Map([...Map.groupBy(rows, (r) => r.checkpoint_id)].map(([id, group]) => [id, group.map((r) => r.alias)]));
  }

  history(projectId: string | null, alias?: string): AliasChange[] {
    const rows = (alias === undefined
      ? this.db.prepare('SELECT * FROM alias_history WHERE project_id IS ? ORDER BY id DESC').all(projectId)
      : this.db.prepare('SELECT * FROM alias_history WHERE project_id IS ? AND alias = ? ORDER BY id DESC').all(projectId, alias)) as HistoryRow[];
    return rows.map((r) => ({ alias: r.alias, projectId: r.project_id, checkpointId: r.checkpoint_id, previousCheckpointId: r.previous_checkpoint_id, at: r.at, note: r.note }));
  }
}

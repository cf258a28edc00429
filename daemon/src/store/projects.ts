/** Projects: a folder with a keel.yaml, registered once and re-read when it changes. */
import type { Project } from '../protocol/index.ts';
import type { Db } from './db.ts';
import { newId } from './ids.ts';

interface ProjectRow {
  id: string;
  name: string;
  root: string;
  config_json: string | null;
  config_errors_json: string;
  created_at: number;
  updated_at: number;
}

function toProject(r: ProjectRow): Project {
  return {
    id: r.id,
    name: r.name,
    root: r.root,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    configErrors: JSON.parse(r.config_errors_json) as string[],
  };
}

export class ProjectStore {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /** Inserts or updates the project at `root`; returns it and whether it was new. */
  upsert(root: string, name: string, config: unknown, configErrors: string[]): { project: Project; created: boolean } {
    const now = Date.now();
    const existing = this.byRoot(root);
    const configJson = config === undefined ? null : JSON.stringify(config);
    if (existing) {
      this.db
        .prepare('UPDATE projects SET name = ?, config_json = ?, config_errors_json = ?, updated_at = ? WHERE id = ?')
        .run(name, configJson, JSON.stringify(configErrors), now, existing.id);
      return { project: this.get(existing.id) as Project, created: false };
    }
    const id = newId('prj');
    this.db
      .prepare('INSERT INTO projects (id, name, root, config_json, config_errors_json, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(id, name, root, configJson, JSON.stringify(configErrors), now, now);
    return { project: this.get(id) as Project, created: true };
  }

  get(id: string): Project | undefined {
    const row = this.db.prepare('SELECT * FROM projects WHERE id = ?').get(id) as ProjectRow | undefined;
    return row ? toProject(row) : undefined;
  }

  byRoot(root: string): Project | undefined {
    const row = this.db.prepare('SELECT * FROM projects WHERE root = ?').get(root) as ProjectRow | undefined;
    return row ? toProject(row) : undefined;
  }

  /** Finds a project by id, root path or (unique) name. */
  find(ref: string): Project | undefined {
    const row = this.db
      .prepare('SELECT * FROM projects WHERE id = @ref OR root = @ref OR name = @ref ORDER BY (id = @ref) DESC, (root = @ref) DESC LIMIT 2')
      .all({ ref }) as ProjectRow[];
    if (row.length === 0) return undefined;
    const first = row[0] as ProjectRow;
    if (row.length > 1 && first.id !== ref && first.root !== ref) return undefined;
    return toProject(first);
  }

  /** The parsed keel.yaml as last stored (undefined when it never parsed). */
  config(id: string): unknown {
    const row = this.db.prepare('SELECT config_json FROM projects WHERE id = ?').get(id) as { config_json: string | null } | undefined;
    return row?.config_json ? (JSON.parse(row.config_json) as unknown) : undefined;
  }

  /** The registered project whose root holds `path` (the innermost one), if any. */
  containing(path: string): Project | undefined {
    let best: Project | undefined;
    for (const p of this.list()) {
      if ((path === p.root || path.startsWith(`${p.root}/`)) && (!best || p.root.length > best.root.length)) best = p;
    }
    return best;
  }

  list(): Project[] {
    return (this.db.prepare('SELECT * FROM projects ORDER BY name, root').all() as ProjectRow[]).map(toProject);
  }

  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM projects WHERE id = ?').run(id).changes > 0;
  }
}

/** Sweeps: a group of runs launched from one grid or random spec, compared as a group. */
import type { Db } from './db.ts';
import { newId } from './ids.ts';

export class SweepStore {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  create(projectId: string | null, name: string, spec: unknown): string {
    const id = newId('sweep');
    this.db.prepare('INSERT INTO sweeps (id, project_id, name, spec_json, created_at) VALUES (?, ?, ?, ?, ?)').run(id, projectId, name, JSON.stringify(spec), Date.now());
    return id;
  }

  runIds(sweepId: string): string[] {
    return this.db.prepare('SELECT id FROM runs WHERE sweep_id = ? ORDER BY created_at').pluck().all(sweepId) as string[];
  }
}

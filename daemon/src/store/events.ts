/** Events and alerts (run failed, NaN loss, host unreachable…), newest first. */
import type { KeelEvent } from '../protocol/index.ts';
import type { Db } from './db.ts';

interface EventRow { id: number; at: number; kind: string; severity: KeelEvent['severity']; run_id: string | null; host_name: string | null; message: string }

export class EventStore {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  add(e: { kind: string; severity: KeelEvent['severity']; runId?: string | null; hostId?: string | null; message: string; data?: unknown }): KeelEvent {
    const at = Date.now();
    const id = Number(this.db
      .prepare('INSERT INTO events (at, kind, severity, run_id, host_id, message, data_json) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(at, e.kind, e.severity, e.runId ?? null, e.hostId ?? null, e.message, e.data === undefined ? null : JSON.stringify(e.data)).lastInsertRowid);
    return this.list({ id })[0] as KeelEvent;
  }

  /** Has this run already raised an alert of this kind? (alerts fire once per run and kind) */
  hasAlert(runId: string, kind: string): boolean {
    return this.db.prepare('SELECT 1 FROM events WHERE run_id = ? AND kind = ? LIMIT 1').get(runId, kind) !== undefined;
  }

  /** The data recorded with a run's events of one kind, oldest first. */
  dataOf(runId: string, kind: string): unknown[] {
    return (this.db.prepare('SELECT data_json FROM events WHERE run_id = ? AND kind = ? AND data_json IS NOT NULL ORDER BY id').pluck().all(runId, kind) as string[]).map((d) => JSON.parse(d) as unknown);
  }

  list(filter: { id?: number; runId?: string; limit?: number } = {}): KeelEvent[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.id !== undefined) { where.push('events.id = ?'); args.push(filter.id); }
    if (filter.runId) { where.push('events.run_id = ?'); args.push(filter.runId); }
    const rows = this.db
      .prepare(`SELECT events.*, hosts.name AS host_name FROM events LEFT JOIN hosts ON hosts.id = events.host_id
                ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY events.id DESC LIMIT ?`)
      .all(...args, filter.limit ?? 200) as EventRow[];
    return rows.map((r) => ({ id: r.id, at: r.at, kind: r.kind, severity: r.severity, runId: r.run_id, hostName: r.host_name, message: r.message }));
  }
}

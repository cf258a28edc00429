/**
 * A run's intents: what was asked of it (launch, cancel, retry, rerun), recorded as a row
 * before anything acts on it. `pending` until it had its effect on the host (`applied`: e.g.
 * cancel.sh answered), `done` once the run reached its end. A daemon that dies between a
 * request and its effect finds the row at start and carries on; nothing lives only in memory.
 */
import type { Db } from './db.ts';

/** What was asked of a run. */
export type IntentKind = 'launch' | 'cancel' | 'retry' | 'rerun';

/** How far an intent got. */
export type IntentState = 'pending' | 'applied' | 'done';

/** One recorded intent. */
export interface RunIntent {
  id: number;
  runId: string;
  kind: IntentKind;
  state: IntentState;
  /** Why, or what came of it (cancel.sh's answer, the retry's reason). */
  detail: string | null;
  createdAt: number;
  updatedAt: number;
}

interface IntentRow {
  id: number; run_id: string; kind: IntentKind; state: IntentState; detail: string | null; created_at: number; updated_at: number;
}

const toIntent = (r: IntentRow): RunIntent => ({
  id: r.id, runId: r.run_id, kind: r.kind, state: r.state, detail: r.detail, createdAt: r.created_at, updatedAt: r.updated_at,
});

export class IntentStore {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /** Records an intent (pending). */
  add(runId: string, kind: IntentKind, detail: string | null = null): RunIntent {
    const now = Date.now();
    const id = Number(this.db
      .prepare('INSERT INTO run_intents (run_id, kind, state, detail, created_at, updated_at) VALUES (?, ?, \'pending\', ?, ?, ?)')
      .run(runId, kind, detail, now, now).lastInsertRowid);
    return this.get(id) as RunIntent;
  }

  get(id: number): RunIntent | undefined {
    const row = this.db.prepare('SELECT * FROM run_intents WHERE id = ?').get(id) as IntentRow | undefined;
    return row ? toIntent(row) : undefined;
  }

  /** The run's newest intent of `kind` that is not done, if any. */
  open(runId: string, kind: IntentKind): RunIntent | undefined {
    const row = this.db
      .prepare("SELECT * FROM run_intents WHERE run_id = ? AND kind = ? AND state != 'done' ORDER BY id DESC LIMIT 1")
      .get(runId, kind) as IntentRow | undefined;
    return row ? toIntent(row) : undefined;
  }

  /** Every intent of the run, oldest first. */
  byRun(runId: string): RunIntent[] {
    return (this.db.prepare('SELECT * FROM run_intents WHERE run_id = ? ORDER BY id').all(runId) as IntentRow[]).map(toIntent);
  }

  /** Open intents of `kind` across runs (the reconciler re-applies pending cancels after a restart). */
  openOfKind(kind: IntentKind): RunIntent[] {
    return (this.db.prepare("SELECT * FROM run_intents WHERE kind = ? AND state != 'done' ORDER BY id").all(kind) as IntentRow[]).map(toIntent);
  }

  /** Moves an intent forward (pending → applied → done; never back) and notes what came of it. */
  advance(id: number, state: Exclude<IntentState, 'pending'>, detail?: string): void {
    const order = { pending: 0, applied: 1, done: 2 } as const;
    const cur = this.get(id);
    if (!cur || order[cur.state] > order[state]) return;
    this.db.prepare('UPDATE run_intents SET state = ?, detail = coalesce(?, detail), updated_at = ? WHERE id = ?').run(state, detail ?? null, Date.now(), id);
  }

  /** The run ended: every intent it still had is done. */
  closeAll(runId: string): void {
    this.db.prepare("UPDATE run_intents SET state = 'done', updated_at = ? WHERE run_id = ? AND state != 'done'").run(Date.now(), runId);
  }
}

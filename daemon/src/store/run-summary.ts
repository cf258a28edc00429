/**
 * Summary values: numbers that describe a run as a whole rather than a curve — the HF
 * Trainer's end-of-training `train_runtime`, `*_per_second`, `total_flos` and average
 * `train_loss`, and the values of `*_results.json`. One row per (run, canonical key); a value
 * another kind of file already gave is merged by precision like a metric point
 * (metric-merge.ts). Shown in tables, never drawn as one-point charts.
 */
import type { SummaryValue } from '../protocol/index.ts';
import type { Db } from './db.ts';
import { DEFAULT_BITS, mergeReading, type Disagreement } from './metric-merge.ts';
import { parseAliases } from './metrics.ts';

/** A summary value to record: `key` canonical, `sourceKey` as the file wrote it. */
export interface SummaryInput {
  key: string;
  value: number;
  /** The step it was logged at (the run's final step), when known. */
  step?: number | null;
  sourceKey?: string;
  bits?: number;
}

interface SummaryRow {
  run_id: string;
  key: string;
  value: number | null;
  step: number | null;
  bits: number | null;
  source: number | null;
  aliases_json: string | null;
}

function toWire(r: SummaryRow): SummaryValue {
  const aliases = parseAliases(r.aliases_json);
  const base = { key: r.key, step: r.step, ...(aliases.length > 0 ? { aliases } : {}) };
  if (r.value === null) return { ...base, value: null, special: 'nan' };
  if (r.value === Infinity) return { ...base, value: null, special: 'inf' };
  if (r.value === -Infinity) return { ...base, value: null, special: '-inf' };
  return { ...base, value: r.value };
}

export class RunSummaryStore {
  private readonly db: Db;
  private readonly stmts;

  constructor(db: Db) {
    this.db = db;
    this.stmts = {
      get: db.prepare('SELECT * FROM run_summary WHERE run_id = ? AND key = ?'),
      insert: db.prepare(`INSERT INTO run_summary (run_id, key, value, step, bits, source, aliases_json, updated_at)
        VALUES (@runId, @key, @value, @step, @bits, @source, @aliases, @now)`),
      update: db.prepare(`UPDATE run_summary SET value = @value, step = @step, bits = @bits, source = @source, aliases_json = @aliases, updated_at = @now
        WHERE run_id = @runId AND key = @key`),
      setAliases: db.prepare('UPDATE run_summary SET aliases_json = @aliases WHERE run_id = @runId AND key = @key'),
      list: db.prepare('SELECT * FROM run_summary WHERE run_id = ? ORDER BY key'),
    };
  }

  /**
   * Upserts summary values read from one kind of file (`source`, MetricSourceCodes) in one
   * transaction. Returns how many values the run now holds from this call (new or replaced).
   */
  record(runId: string, values: readonly SummaryInput[], source: number, onDisagreement?: (d: Disagreement) => void): number {
    let written = 0;
    this.db.transaction(() => {
      const now = Date.now();
      for (const v of values) {
        const row = this.stmts.get.get(runId, v.key) as SummaryRow | undefined;
        const names = new Set(parseAliases(row?.aliases_json ?? null));
        if (v.sourceKey !== undefined && v.sourceKey !== v.key) names.add(v.sourceKey);
        const aliases = names.size > 0 ? JSON.stringify([...names].sort()) : null;
        const args = { runId, key: v.key, value: Number.isNaN(v.value) ? null : v.value, step: v.step ?? null, bits: v.bits ?? DEFAULT_BITS, source, aliases, now };
        if (row === undefined) {
          this.stmts.insert.run(args);
          written++;
          continue;
        }
        const decision = mergeReading(row, { value: v.value, bits: args.bits, source });
        if (decision.disagree) {
          onDisagreement?.({
            key: v.key, step: v.step ?? null, kept: decision.replace ? v.value : (row.value ?? NaN), keptSource: decision.replace ? source : row.source,
            dropped: decision.replace ? (row.value ?? NaN) : v.value, droppedSource: decision.replace ? (row.source ?? 0) : source,
          });
        }
        if (decision.replace) {
          this.stmts.update.run(args);
          written++;
        } else if (aliases !== row.aliases_json) {
          this.stmts.setAliases.run({ runId, key: v.key, aliases });
        }
      }
    })();
    return written;
  }

  /** The run's summary values, by key. */
  list(runId: string): SummaryValue[] {
    return (this.stmts.list.all(runId) as SummaryRow[]).map(toWire);
  }

  /** True when the run has summary value `key`. */
  has(runId: string, key: string): boolean {
    return this.stmts.get.get(runId, key) !== undefined;
  }
}

/**
 * Training configs, content-addressed: one row per distinct resolved config (its hash is the
 * hash of the parsed tree, so formatting, comments and key order do not matter), the raw text
 * in `blobs`, the flattened params in `config_params`, and every path it was seen at in
 * `config_paths`.
 *
 * The raw text kept is the text the config was first seen with: a reformatted copy has the
 * same hash, so it adds a path but not a second text.
 */
import type { ConfigRecord } from '../protocol/index.ts';
import type { ParamValue } from '../track/config/types.ts';
import type { BlobStore } from './blobs.ts';
import type { Db } from './db.ts';
import { newId } from './ids.ts';

/** A parsed config to record, and where it was seen. */
export interface NewConfig {
  /** Content hash of the resolved config tree (track/config's configContentHash). */
  hash: string;
  format: 'yaml' | 'json';
  flavor: string;
  /** The file's text as read. */
  text: string;
  params: Readonly<Record<string, ParamValue>>;
  projectId: string | null;
  absPath: string;
}

interface ConfigRow {
  id: string;
  hash: string;
  format: 'yaml' | 'json';
  flavor: string;
  content_hash: string;
  created_at: number;
}

/**
 * Param values as JSON. JSON has no NaN or infinities (YAML `.nan`, `.inf`), so those are kept
 * as the strings "NaN", "Infinity", "-Infinity" rather than turned into null.
 */
function paramJson(value: ParamValue): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return JSON.stringify(String(value));
  return JSON.stringify(value);
}

export class ConfigStore {
  private readonly db: Db;
  private readonly blobs: BlobStore;
  private readonly stmts;

  constructor(db: Db, blobs: BlobStore) {
    this.db = db;
    this.blobs = blobs;
    this.stmts = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO configs (id, hash, format, flavor, content_hash, created_at)
         VALUES (@id, @hash, @format, @flavor, @contentHash, @now)`,
      ),
      byHash: db.prepare('SELECT * FROM configs WHERE hash = ?'),
      get: db.prepare('SELECT * FROM configs WHERE id = ?'),
      insertParam: db.prepare('INSERT OR IGNORE INTO config_params (config_id, key, value_json) VALUES (?, ?, ?)'),
      params: db.prepare('SELECT key, value_json FROM config_params WHERE config_id = ? ORDER BY key'),
      lastSeenAt: db.prepare('SELECT max(seen_at) FROM config_paths WHERE abs_path = ?').pluck(),
      seen: db.prepare(
        `INSERT INTO config_paths (config_id, project_id, abs_path, seen_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (config_id, abs_path) DO UPDATE SET seen_at = excluded.seen_at, project_id = coalesce(excluded.project_id, project_id)`,
      ),
      paths: db.prepare('SELECT abs_path FROM config_paths WHERE config_id = ? ORDER BY seen_at DESC, abs_path').pluck(),
      atPath: db.prepare('SELECT config_id FROM config_paths WHERE abs_path = ? ORDER BY seen_at DESC LIMIT 1').pluck(),
    };
  }

  /**
   * Records a config seen at `absPath`: stored once by hash (text, row, params), and the path
   * marked as the config's latest place. Running it again adds nothing but a newer seen time.
   */
  record(input: NewConfig): { config: ConfigRecord; created: boolean } {
    return this.db.transaction(() => {
      const contentHash = this.blobs.put(input.text);
      const id = newId('cfg');
      const created = this.stmts.insert.run({ id, hash: input.hash, format: input.format, flavor: input.flavor, contentHash, now: Date.now() }).changes > 0;
      let row = this.stmts.byHash.get(input.hash) as ConfigRow;
      // A newer Keel may judge the flavor differently (a plain Trainer YAML once labelled Axolotl): the latest judgement stands.
      if (!created && row.flavor !== input.flavor) {
        this.db.prepare('UPDATE configs SET flavor = ? WHERE id = ?').run(input.flavor, row.id);
        row = { ...row, flavor: input.flavor };
      }
      if (created) {
        for (const [key, value] of Object.entries(input.params)) this.stmts.insertParam.run(row.id, key, paramJson(value));
      }
      // Strictly later than anything seen at this path, so "the config at this path now" is
      // unambiguous even when a file changes twice within a millisecond.
      const last = this.stmts.lastSeenAt.get(input.absPath);
      const seenAt = typeof last === 'number' ? Math.max(Date.now(), last + 1) : Date.now();
      this.stmts.seen.run(row.id, input.projectId, input.absPath, seenAt);
      return { config: this.toRecord(row), created };
    })();
  }

  get(id: string): ConfigRecord | undefined {
    const row = this.stmts.get.get(id) as ConfigRow | undefined;
    return row ? this.toRecord(row) : undefined;
  }

  byHash(hash: string): ConfigRecord | undefined {
    const row = this.stmts.byHash.get(hash) as ConfigRow | undefined;
    return row ? this.toRecord(row) : undefined;
  }

  /** The config most recently seen at this path (the file's current content, as far as Keel knows). */
  byPath(absPath: string): ConfigRecord | undefined {
    const id: unknown = this.stmts.atPath.get(absPath);
    return typeof id === 'string' ? this.get(id) : undefined;
  }

  /** Flattened params (`optimizer.lr` → 0.0003), by key. */
  params(id: string): Record<string, ParamValue> {
    const out: Record<string, ParamValue> = {};
    for (const r of this.stmts.params.all(id) as { key: string; value_json: string }[]) {
      out[r.key] = JSON.parse(r.value_json) as ParamValue;
    }
    return out;
  }

  /** The raw text the config was first seen with (for diffs and for showing it). */
  content(id: string): string | undefined {
    const row = this.stmts.get.get(id) as ConfigRow | undefined;
    return row ? this.blobs.getText(row.content_hash) : undefined;
  }

  private toRecord(r: ConfigRow): ConfigRecord {
    return {
      id: r.id,
      hash: r.hash,
      format: r.format,
      flavor: r.flavor,
      paths: this.stmts.paths.all(r.id) as string[],
      createdAt: r.created_at,
    };
  }
}

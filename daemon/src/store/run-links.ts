/**
 * Queries that connect a run to what produced it: the configs that write to its output
 * folder, and the run's effective params.
 */
import type { Db } from './db.ts';

export interface ConfigWithOutput {
  configId: string;
  configPath: string;
  outputDir: string;
  seenAt: number;
}

export class RunLinkStore {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /** Every (config, path) of a project whose config sets `output_dir`, newest first. */
  configsWithOutputDir(projectId: string): ConfigWithOutput[] {
    const rows = this.db
      .prepare(`SELECT cp.config_id, cp.abs_path, p.value_json, cp.seen_at FROM config_paths cp
                JOIN config_params p ON p.config_id = cp.config_id AND p.key = 'output_dir'
                WHERE cp.project_id = ? ORDER BY cp.seen_at DESC`)
      .raw()
      .all(projectId) as [string, string, string, number][];
    const out: ConfigWithOutput[] = [];
    for (const [configId, configPath, valueJson, seenAt] of rows) {
      const v = JSON.parse(valueJson) as unknown;
      if (typeof v === 'string' && v.length > 0) out.push({ configId, configPath, outputDir: v, seenAt });
    }
    return out;
  }

  setRunConfig(runId: string, configId: string): void {
    this.db.prepare('UPDATE runs SET config_id = ?, updated_at = ? WHERE id = ? AND config_id IS NULL').run(configId, Date.now(), runId);
  }

  setRunCodeVersion(runId: string, codeVersionId: string): void {
    this.db.prepare('UPDATE runs SET code_version_id = ?, updated_at = ? WHERE id = ? AND code_version_id IS NULL').run(codeVersionId, Date.now(), runId);
  }

  /** Replaces a run's effective params (flattened dotted keys → JSON values). */
  setParams(runId: string, params: Record<string, unknown>): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM run_params WHERE run_id = ?').run(runId);
      const ins = this.db.prepare('INSERT INTO run_params (run_id, key, value_json) VALUES (?, ?, ?)');
      for (const [k, v] of Object.entries(params)) ins.run(runId, k, JSON.stringify(v ?? null));
    })();
  }

  params(runId: string): Record<string, unknown> {
    const rows = this.db.prepare('SELECT key, value_json FROM run_params WHERE run_id = ? ORDER BY key').raw().all(runId) as [string, string][];
    return Object.fromEntries(rows.map(([k, v]) => [k, JSON.parse(v) as unknown]));
  }

  hasParams(runId: string): boolean {
    return this.db.prepare('SELECT 1 FROM run_params WHERE run_id = ? LIMIT 1').get(runId) !== undefined;
  }
}

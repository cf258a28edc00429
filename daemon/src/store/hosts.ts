/** Hosts where runs execute (local, ssh, slurm), with their last check and GPUs. */
import type { Host, SlurmHostDefaults } from '../protocol/index.ts';
import type { Db } from './db.ts';
import { newId } from './ids.ts';

interface HostRow {
  id: string;
  name: string;
  backend: Host['backend'];
  ssh_target: string | null;
  workdir: string;
  cost_per_hour: number | null;
  labels_json: string;
  reachable: number | null;
  check_json: string | null;
  checked_at: number | null;
  slurm_json: string | null;
}

/** A Slurm host's submit defaults (a launch may name another partition). */
export type SlurmDefaults = SlurmHostDefaults;

export interface HostCheckRecord {
  reachable: boolean;
  check: unknown;
  gpus?: { index: number; uuid: string; name: string; memoryTotalMiB: number }[];
}

/** A host as stored: its record, its last check's facts, and (Slurm hosts) its submit defaults. */
export type StoredHost = Host & { id: string; check: unknown; slurm: SlurmDefaults | null };

export class HostStore {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  private toHost(r: HostRow): StoredHost {
    const gpus = this.db.prepare('SELECT idx, uuid, name, memory_total_mib FROM host_gpus WHERE host_id = ? ORDER BY idx').all(r.id) as { idx: number; uuid: string; name: string; memory_total_mib: number }[];
    return {
      id: r.id, name: r.name, backend: r.backend, sshTarget: r.ssh_target, workdir: r.workdir, costPerHour: r.cost_per_hour,
      labels: JSON.parse(r.labels_json) as string[], reachable: r.reachable === null ? null : r.reachable === 1, checkedAt: r.checked_at,
      gpus: gpus.map((g) => ({ index: g.idx, uuid: g.uuid, name: g.name, memoryTotalMiB: g.memory_total_mib })),
      check: r.check_json ? (JSON.parse(r.check_json) as unknown) : null,
      slurm: r.slurm_json ? (JSON.parse(r.slurm_json) as SlurmDefaults) : null,
    };
  }

  add(input: { name: string; backend: Host['backend']; sshTarget: string | null; workdir: string; costPerHour?: number | null; labels?: string[]; slurm?: SlurmDefaults | null }): Host & { id: string } {
    const id = newId('host');
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO hosts (id, name, backend, ssh_target, workdir, cost_per_hour, labels_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(id, input.name, input.backend, input.sshTarget, input.workdir, input.costPerHour ?? null, JSON.stringify(input.labels ?? []), Date.now());
      // Only Slurm hosts touch slurm_json (so the version-1 fixture writer, which adds SSH hosts, runs on a v1 file).
      if (input.slurm) this.db.prepare('UPDATE hosts SET slurm_json = ? WHERE id = ?').run(JSON.stringify(input.slurm), id);
    })();
    return this.get(input.name) as Host & { id: string };
  }

  update(name: string, input: { sshTarget?: string | null; workdir?: string; costPerHour?: number | null; labels?: string[] }): void {
    const h = this.get(name);
    if (!h) return;
    this.db
      .prepare('UPDATE hosts SET ssh_target = ?, workdir = ?, cost_per_hour = ?, labels_json = ? WHERE id = ?')
      .run(input.sshTarget ?? h.sshTarget, input.workdir ?? h.workdir, input.costPerHour === undefined ? h.costPerHour : input.costPerHour, JSON.stringify(input.labels ?? h.labels), h.id);
  }

  get(name: string): StoredHost | undefined {
    const row = this.db.prepare('SELECT * FROM hosts WHERE name = ?').get(name) as HostRow | undefined;
    return row ? this.toHost(row) : undefined;
  }

  byId(id: string): StoredHost | undefined {
    const row = this.db.prepare('SELECT * FROM hosts WHERE id = ?').get(id) as HostRow | undefined;
    return row ? this.toHost(row) : undefined;
  }

  list(): StoredHost[] {
    return (this.db.prepare('SELECT * FROM hosts ORDER BY backend = \'local\' DESC, name').all() as HostRow[]).map((r) => this.toHost(r));
  }

  /** Records a check: reachability, facts, and (when given) the GPU inventory. */
  setCheck(name: string, rec: HostCheckRecord): void {
    const h = this.get(name);
    if (!h) return;
    this.db.transaction(() => {
      this.db.prepare('UPDATE hosts SET reachable = ?, check_json = ?, checked_at = ? WHERE id = ?').run(rec.reachable ? 1 : 0, JSON.stringify(rec.check), Date.now(), h.id);
      if (rec.gpus) {
        this.db.prepare('DELETE FROM host_gpus WHERE host_id = ?').run(h.id);
        const ins = this.db.prepare('INSERT INTO host_gpus (host_id, idx, uuid, name, memory_total_mib) VALUES (?, ?, ?, ?, ?)');
        for (const g of rec.gpus) ins.run(h.id, g.index, g.uuid, g.name, g.memoryTotalMiB);
      }
    })();
  }

  setReachable(name: string, reachable: boolean): void {
    this.db.prepare('UPDATE hosts SET reachable = ? WHERE name = ?').run(reachable ? 1 : 0, name);
  }

  remove(name: string): boolean {
    return this.db.prepare('DELETE FROM hosts WHERE name = ?').run(name).changes > 0;
  }
}

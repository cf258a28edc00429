/**
 * Jobs: one attempt of a run on a host. The host's job directory is the truth about a
 * running job; this table keeps where it is, what it was given, and what was last seen.
 */
import type { RunStatus } from '../protocol/index.ts';
import type { Db } from './db.ts';
import { newId } from './ids.ts';

export type JobState = 'preparing' | 'starting' | 'running' | 'finished' | 'lost' | 'abandoned';

export interface Job {
  id: string;
  runId: string;
  attempt: number;
  backend: 'local' | 'ssh' | 'slurm';
  hostId: string | null;
  jobDir: string;
  gpuIds: string[];
  pid: number | null;
  state: JobState;
  exitCode: number | null;
  lastHeartbeat: number | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  /** The Slurm job id of this attempt (Slurm hosts, once submitted); null otherwise. */
  schedulerJobId: string | null;
}

interface JobRow {
  id: string; run_id: string; attempt: number; backend: Job['backend']; host_id: string | null; remote_dir: string;
  gpu_ids_json: string; pid: number | null; state: JobState; exit_code: number | null; last_heartbeat: number | null;
  created_at: number; started_at: number | null; ended_at: number | null; scheduler_job_id: string | null;
}

const toJob = (r: JobRow): Job => ({
  id: r.id, runId: r.run_id, attempt: r.attempt, backend: r.backend, hostId: r.host_id, jobDir: r.remote_dir,
  gpuIds: JSON.parse(r.gpu_ids_json) as string[], pid: r.pid, state: r.state, exitCode: r.exit_code,
  lastHeartbeat: r.last_heartbeat, createdAt: r.created_at, startedAt: r.started_at, endedAt: r.ended_at,
  schedulerJobId: r.scheduler_job_id ?? null,
});

/** States in which a job holds its GPUs. */
export const ActiveJobStates: readonly JobState[] = ['preparing', 'starting', 'running'];

/** A job's states only move forward: preparing → starting → running → an end (finished, lost, abandoned). */
const JOB_ORDER: Readonly<Record<JobState, number>> = { preparing: 0, starting: 1, running: 2, finished: 3, lost: 3, abandoned: 3 };

/** True when a job may move from `from` to `to`: forward only, and never out of an end. */
export function jobMayMove(from: JobState, to: JobState): boolean {
  if (from === to) return true;
  return JOB_ORDER[from] < 3 && JOB_ORDER[to] > JOB_ORDER[from];
}

export class JobStore {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /** Records the next attempt of a run (attempt numbers start at 1). */
  create(input: { runId: string; backend: Job['backend']; hostId: string; jobDirFor: (attempt: number) => string; gpuIds: string[] }): Job {
    return this.db.transaction(() => {
      const attempt = ((this.db.prepare('SELECT max(attempt) FROM jobs WHERE run_id = ?').pluck().get(input.runId) as number | null) ?? 0) + 1;
      const id = newId('job');
      this.db
        .prepare(`INSERT INTO jobs (id, run_id, attempt, backend, host_id, remote_dir, gpu_ids_json, state, created_at)
                  VALUES (?, ?, ?, ?, ?, ?, ?, 'preparing', ?)`)
        .run(id, input.runId, attempt, input.backend, input.hostId, input.jobDirFor(attempt), JSON.stringify(input.gpuIds), Date.now());
      return this.get(id) as Job;
    })();
  }

  get(id: string): Job | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row ? toJob(row) : undefined;
  }

  /** The run's newest attempt. */
  latest(runId: string): Job | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE run_id = ? ORDER BY attempt DESC LIMIT 1').get(runId) as JobRow | undefined;
    return row ? toJob(row) : undefined;
  }

  byRun(runId: string): Job[] {
    return (this.db.prepare('SELECT * FROM jobs WHERE run_id = ? ORDER BY attempt').all(runId) as JobRow[]).map(toJob);
  }

  /** Jobs that hold (or may hold) resources: preparing, starting, running. */
  active(hostId?: string): Job[] {
    const rows = (hostId
      ? this.db.prepare("SELECT * FROM jobs WHERE state IN ('preparing', 'starting', 'running') AND host_id = ? ORDER BY created_at").all(hostId)
      : this.db.prepare("SELECT * FROM jobs WHERE state IN ('preparing', 'starting', 'running') ORDER BY created_at").all()) as JobRow[];
    return rows.map(toJob);
  }

  /**
   * Every run of a sweep, in launch order, with its latest attempt and whether a cancel is open:
   * one query, so a sweep of hundreds of runs costs one look (slurm-array.ts's barrier).
   */
  latestOfSweep(sweepId: string): { runId: string; runStatus: RunStatus; cancelOpen: boolean; job: Job | undefined }[] {
    const rows = this.db.prepare(`
      SELECT r.id AS r_id, r.status AS r_status,
             EXISTS (SELECT 1 FROM run_intents i WHERE i.run_id = r.id AND i.kind = 'cancel' AND i.state != 'done') AS r_cancel, j.*
      FROM runs r LEFT JOIN jobs j ON j.run_id = r.id AND j.attempt = (SELECT max(attempt) FROM jobs WHERE run_id = r.id)
      WHERE r.sweep_id = ? ORDER BY r.created_at, r.rowid`).all(sweepId) as (JobRow & { r_id: string; r_status: RunStatus; r_cancel: number })[];
    return rows.map((r) => ({ runId: r.r_id, runStatus: r.r_status, cancelOpen: r.r_cancel === 1, job: r.id ? toJob(r) : undefined }));
  }

  /** Records the Slurm job id of an attempt (sbatch's answer, or found by the job's name). */
  setSchedulerJobId(id: string, schedulerJobId: string): void {
    this.db.prepare('UPDATE jobs SET scheduler_job_id = ? WHERE id = ?').run(schedulerJobId, id);
  }

  /** GPU ids leased on a host by active jobs. */
  gpusInUse(hostId: string): Set<string> {
    return new Set(this.active(hostId).flatMap((j) => j.gpuIds));
  }

  /**
   * Records what was seen of a job. A state change must move forward (jobMayMove): an
   * abandoned or finished attempt never becomes starting or running again. Returns false,
   * changing nothing, when the job is gone or the state change is refused.
   */
  update(id: string, patch: { state?: JobState; pid?: number | null; exitCode?: number | null; lastHeartbeat?: number | null; started?: boolean; ended?: boolean }): boolean {
    return this.db.transaction(() => this.updateNow(id, patch))();
  }

  private updateNow(id: string, patch: Parameters<JobStore['update']>[1]): boolean {
    const j = this.get(id);
    if (!j) return false;
    if (patch.state !== undefined && !jobMayMove(j.state, patch.state)) return false;
    const now = Date.now();
    this.db
      .prepare('UPDATE jobs SET state = ?, pid = ?, exit_code = ?, last_heartbeat = ?, started_at = ?, ended_at = ? WHERE id = ?')
      .run(
        patch.state ?? j.state, patch.pid === undefined ? j.pid : patch.pid, patch.exitCode === undefined ? j.exitCode : patch.exitCode,
        patch.lastHeartbeat === undefined ? j.lastHeartbeat : patch.lastHeartbeat,
        patch.started ? j.startedAt ?? now : j.startedAt, patch.ended ? j.endedAt ?? now : j.endedAt, id,
      );
    return true;
  }
}

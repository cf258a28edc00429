/**
 * The schema change of the run-lifecycle work, kept apart from migrations.ts so that it stays
 * self-contained (it reads and writes only what it adds, plus `jobs`/`host_gpus` as version 1
 * made them) and can be ordered before or after another migration appended at the same time.
 */
import type { Db } from './db.ts';
import type { Migration } from './migrate.ts';

/**
 * A run's intents (launch, cancel, retry, rerun), each recorded as a row before it acts, so a
 * daemon that dies between the request and its effect finds it again (see runs/lifecycle.ts).
 */
const RUN_INTENTS = `
CREATE TABLE run_intents (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('launch', 'cancel', 'retry', 'rerun')),
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'applied', 'done')),
  detail TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX run_intents_by_run ON run_intents(run_id, kind, state);
`;

/**
 * GPU leases move from nvidia-smi indices to UUIDs (an index is not stable across boots and
 * means another GPU under CUDA's default order): active jobs' GPU ids are rewritten through
 * their host's inventory, so placement keeps excluding the GPUs they hold. An index the
 * inventory does not know stays as it is.
 */
function gpuIdsToUuids(db: Db): void {
  const jobs = db.prepare("SELECT id, host_id, gpu_ids_json FROM jobs WHERE state IN ('preparing', 'starting', 'running')").all() as { id: string; host_id: string | null; gpu_ids_json: string }[];
  const uuidOf = db.prepare('SELECT uuid FROM host_gpus WHERE host_id = ? AND idx = ?').pluck();
  const update = db.prepare('UPDATE jobs SET gpu_ids_json = ? WHERE id = ?');
  for (const job of jobs) {
    const ids = JSON.parse(job.gpu_ids_json) as string[];
    const mapped = ids.map((id) => {
      const uuid = /^\d+$/.test(id) ? (uuidOf.get(job.host_id, Number(id)) as string | undefined) : undefined;
      return uuid !== undefined && uuid !== '' ? uuid : id;
    });
    update.run(JSON.stringify(mapped), job.id);
  }
}

/**
 * Intents recorded before they act (`run_intents`); `runs.timed_out_since` (a step on the
 * host outran its time-out: a condition beside the status, like `unreachable_since`);
 * `runs.not_before` and `runs.busy_retries` (placement back-off after a GPU was found busy);
 * and active jobs' GPU ids as UUIDs.
 */
export const runLifecycleMigration: Migration = {
  title: 'run intents recorded before they act; "timed out" and placement back-off beside a run\'s status; GPU leases by UUID',
  steps: [
    RUN_INTENTS,
    'ALTER TABLE runs ADD COLUMN timed_out_since INTEGER',
    'ALTER TABLE runs ADD COLUMN not_before INTEGER',
    'ALTER TABLE runs ADD COLUMN busy_retries INTEGER NOT NULL DEFAULT 0',
    gpuIdsToUuids,
  ],
};

/**
 * Schema migrations, in order, versioned with `PRAGMA user_version` (migration N brings a
 * file to version N). migrate.ts applies every pending one in a single transaction after a
 * backup. Never edit a shipped migration: add the next one. A change ALTER TABLE cannot make
 * (a CHECK, a column type) is a `rebuildTable` step. The schema is explained table by table
 * in SCHEMA.md beside this file.
 */
import type { Migration } from './migrate.ts';
import { fidelityMigration } from './migration-fidelity.ts';
import { rebuildTable } from './table-rebuild.ts';
import { runLifecycleMigration } from './migration-run-lifecycle.ts';
import { scaleMigration } from './migration-scale.ts';
import { slurmMigration } from './migration-slurm.ts';

/** Version 1: the whole domain. */
const V1_SCHEMA = `
CREATE TABLE projects (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  root TEXT NOT NULL UNIQUE,
  config_json TEXT,
  config_errors_json TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE blobs (
  hash TEXT PRIMARY KEY,
  size_bytes INTEGER NOT NULL,
  content BLOB NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE file_hashes (
  dev TEXT NOT NULL,
  ino TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  mtime_ns TEXT NOT NULL,
  hash TEXT NOT NULL,
  path TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (dev, ino)
);
CREATE INDEX file_hashes_by_hash ON file_hashes(hash);

CREATE TABLE datasets (
  id TEXT PRIMARY KEY,
  project_id TEXT REFERENCES projects(id) ON DELETE SET NULL,
  path TEXT NOT NULL,
  abs_path TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('file', 'folder')),
  created_at INTEGER NOT NULL,
  UNIQUE (abs_path)
);

CREATE TABLE dataset_versions (
  id TEXT PRIMARY KEY,
  dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  hash TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  file_count INTEGER NOT NULL,
  profile_json TEXT,
  created_at INTEGER NOT NULL,
  UNIQUE (dataset_id, hash)
);
CREATE INDEX dataset_versions_by_hash ON dataset_versions(hash);

CREATE TABLE dataset_files (
  version_id TEXT NOT NULL REFERENCES dataset_versions(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (version_id, path)
) WITHOUT ROWID;
CREATE INDEX dataset_files_by_hash ON dataset_files(hash);

CREATE TABLE configs (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  format TEXT NOT NULL CHECK (format IN ('yaml', 'json')),
  flavor TEXT NOT NULL,
  content_hash TEXT NOT NULL REFERENCES blobs(hash),
  created_at INTEGER NOT NULL
);

CREATE TABLE config_paths (
  config_id TEXT NOT NULL REFERENCES configs(id) ON DELETE CASCADE,
  project_id TEXT REFERENCES projects(id) ON DELETE SET NULL,
  abs_path TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (config_id, abs_path)
);
CREATE INDEX config_paths_by_path ON config_paths(abs_path);

CREATE TABLE config_params (
  config_id TEXT NOT NULL REFERENCES configs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value_json TEXT NOT NULL,
  PRIMARY KEY (config_id, key)
) WITHOUT ROWID;

CREATE TABLE code_versions (
  id TEXT PRIMARY KEY,
  project_id TEXT REFERENCES projects(id) ON DELETE SET NULL,
  commit_sha TEXT,
  branch TEXT,
  remote TEXT,
  dirty INTEGER NOT NULL DEFAULT 0,
  patch_hash TEXT REFERENCES blobs(hash),
  snapshot_hash TEXT,
  created_at INTEGER NOT NULL,
  UNIQUE (project_id, commit_sha, patch_hash)
);

CREATE TABLE hosts (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  backend TEXT NOT NULL CHECK (backend IN ('local', 'ssh', 'slurm')),
  ssh_target TEXT,
  workdir TEXT NOT NULL,
  cost_per_hour REAL,
  labels_json TEXT NOT NULL DEFAULT '[]',
  reachable INTEGER,
  check_json TEXT,
  checked_at INTEGER,
  created_at INTEGER NOT NULL
);

CREATE TABLE host_gpus (
  host_id TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  uuid TEXT NOT NULL,
  name TEXT NOT NULL,
  memory_total_mib INTEGER NOT NULL,
  PRIMARY KEY (host_id, idx)
);

CREATE TABLE sweeps (
  id TEXT PRIMARY KEY,
  project_id TEXT REFERENCES projects(id) ON DELETE SET NULL,
  name TEXT NOT NULL,
  spec_json TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  project_id TEXT REFERENCES projects(id) ON DELETE SET NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued','syncing','starting','running','succeeded','failed','cancelled','lost')),
  status_reason TEXT,
  exit_code INTEGER,
  unreachable_since INTEGER,
  source TEXT NOT NULL CHECK (source IN ('launch', 'import', 'watch')),
  kind TEXT NOT NULL DEFAULT 'train' CHECK (kind IN ('train', 'eval')),
  config_id TEXT REFERENCES configs(id),
  effective_config_hash TEXT REFERENCES blobs(hash),
  code_version_id TEXT REFERENCES code_versions(id),
  host_id TEXT REFERENCES hosts(id) ON DELETE SET NULL,
  sweep_id TEXT REFERENCES sweeps(id) ON DELETE SET NULL,
  parent_run_id TEXT REFERENCES runs(id) ON DELETE SET NULL,
  output_dir TEXT,
  priority INTEGER NOT NULL DEFAULT 0,
  gpus INTEGER NOT NULL DEFAULT 0,
  max_retries INTEGER NOT NULL DEFAULT 0,
  launch_json TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  ended_at INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE INDEX runs_by_status ON runs(status, priority DESC, created_at);
CREATE INDEX runs_by_project ON runs(project_id, created_at);
CREATE UNIQUE INDEX runs_by_output_dir ON runs(output_dir) WHERE output_dir IS NOT NULL;

CREATE TABLE run_params (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value_json TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

CREATE TABLE metric_series (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  points INTEGER NOT NULL DEFAULT 0,
  first_step INTEGER,
  last_step INTEGER,
  last_value REAL,
  min_value REAL,
  max_value REAL,
  updated_at INTEGER NOT NULL,
  UNIQUE (run_id, key)
);

-- NaN is stored as NULL (SQLite turns NaN into NULL); +-Inf are stored as REAL infinities.
CREATE TABLE metrics (
  series_id INTEGER NOT NULL REFERENCES metric_series(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  value REAL,
  wall_time REAL,
  PRIMARY KEY (series_id, step)
) WITHOUT ROWID;

CREATE TABLE checkpoints (
  id TEXT PRIMARY KEY,
  run_id TEXT REFERENCES runs(id) ON DELETE SET NULL,
  step INTEGER,
  location TEXT NOT NULL UNIQUE,
  host_id TEXT REFERENCES hosts(id) ON DELETE SET NULL,
  hash TEXT,
  size_bytes INTEGER,
  kind TEXT NOT NULL CHECK (kind IN ('full', 'adapter', 'unknown')),
  base_model TEXT,
  manifest_json TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX checkpoints_by_run ON checkpoints(run_id, step);
CREATE INDEX checkpoints_by_hash ON checkpoints(hash);

CREATE TABLE evals (
  id TEXT PRIMARY KEY,
  subject_kind TEXT NOT NULL CHECK (subject_kind IN ('checkpoint', 'run', 'model')),
  subject_id TEXT,
  subject_ref TEXT,
  eval_run_id TEXT REFERENCES runs(id) ON DELETE SET NULL,
  source_path TEXT NOT NULL,
  task TEXT NOT NULL,
  metric TEXT NOT NULL,
  filter TEXT NOT NULL DEFAULT 'none',
  value REAL,
  stderr REAL,
  n_shot INTEGER,
  higher_is_better INTEGER,
  is_group INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  UNIQUE (source_path, task, metric, filter)
);
CREATE INDEX evals_by_subject ON evals(subject_kind, subject_id);

CREATE TABLE lineage_edges (
  id INTEGER PRIMARY KEY,
  from_kind TEXT NOT NULL,
  from_id TEXT NOT NULL,
  to_kind TEXT NOT NULL,
  to_id TEXT NOT NULL,
  type TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (from_kind, from_id, to_kind, to_id, type)
);
CREATE INDEX lineage_to ON lineage_edges(to_kind, to_id);

CREATE TABLE model_aliases (
  project_id TEXT,
  alias TEXT NOT NULL,
  checkpoint_id TEXT NOT NULL REFERENCES checkpoints(id),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (alias, project_id)
);

CREATE TABLE alias_history (
  id INTEGER PRIMARY KEY,
  project_id TEXT,
  alias TEXT NOT NULL,
  checkpoint_id TEXT NOT NULL,
  previous_checkpoint_id TEXT,
  at INTEGER NOT NULL,
  note TEXT
);

CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL,
  backend TEXT NOT NULL CHECK (backend IN ('local', 'ssh', 'slurm')),
  host_id TEXT REFERENCES hosts(id) ON DELETE SET NULL,
  remote_dir TEXT NOT NULL,
  gpu_ids_json TEXT NOT NULL DEFAULT '[]',
  pid INTEGER,
  pgid INTEGER,
  boot_id TEXT,
  proc_starttime TEXT,
  state TEXT NOT NULL,
  exit_code INTEGER,
  last_heartbeat INTEGER,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  ended_at INTEGER,
  UNIQUE (run_id, attempt)
);

-- Read positions in files that only grow: byte offsets and line counts, per owner.
CREATE TABLE cursors (
  owner TEXT NOT NULL,
  file TEXT NOT NULL,
  byte_offset INTEGER NOT NULL DEFAULT 0,
  line_count INTEGER NOT NULL DEFAULT 0,
  state_json TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (owner, file)
) WITHOUT ROWID;

CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'error')),
  run_id TEXT REFERENCES runs(id) ON DELETE CASCADE,
  host_id TEXT REFERENCES hosts(id) ON DELETE SET NULL,
  message TEXT NOT NULL,
  data_json TEXT,
  acknowledged INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX events_by_run ON events(run_id, at);

CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

/** `runs` as of version 2: `incomplete` joins the statuses (only the CHECK changes). */
const runsV2 = (name: string): string => `
CREATE TABLE ${name} (
  id TEXT PRIMARY KEY,
  project_id TEXT REFERENCES projects(id) ON DELETE SET NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued','syncing','starting','running','incomplete','succeeded','failed','cancelled','lost')),
  status_reason TEXT,
  exit_code INTEGER,
  unreachable_since INTEGER,
  source TEXT NOT NULL CHECK (source IN ('launch', 'import', 'watch')),
  kind TEXT NOT NULL DEFAULT 'train' CHECK (kind IN ('train', 'eval')),
  config_id TEXT REFERENCES configs(id),
  effective_config_hash TEXT REFERENCES blobs(hash),
  code_version_id TEXT REFERENCES code_versions(id),
  host_id TEXT REFERENCES hosts(id) ON DELETE SET NULL,
  sweep_id TEXT REFERENCES sweeps(id) ON DELETE SET NULL,
  parent_run_id TEXT REFERENCES runs(id) ON DELETE SET NULL,
  output_dir TEXT,
  priority INTEGER NOT NULL DEFAULT 0,
  gpus INTEGER NOT NULL DEFAULT 0,
  max_retries INTEGER NOT NULL DEFAULT 0,
  launch_json TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  ended_at INTEGER,
  updated_at INTEGER NOT NULL
)`;

/** Output folders of deleted runs, so the watcher does not bring them back (see RunStore.delete). */
const DELETED_OUTPUTS = `
CREATE TABLE deleted_outputs (
  path TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  run_name TEXT NOT NULL,
  deleted_at INTEGER NOT NULL
) WITHOUT ROWID;
`;

export const migrations: readonly Migration[] = [
  { title: 'the whole domain', steps: [V1_SCHEMA] },
  {
    title: 'run status "incomplete"; tombstones for deleted runs\' output folders',
    steps: [(db) => rebuildTable(db, { table: 'runs', create: runsV2 }), DELETED_OUTPUTS],
  },
  fidelityMigration,
  runLifecycleMigration,
  scaleMigration,
  slurmMigration,
];

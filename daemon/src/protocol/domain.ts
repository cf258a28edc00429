/**
 * The records Keel keeps, as they travel over the wire. The store's schema
 * (daemon/src/store/SCHEMA.md) holds the same things; these are the shapes clients see.
 * Times are milliseconds since the Unix epoch. Hashes are `<algo>:<hex>`.
 */

/**
 * Where a run is in its life. Terminal: succeeded, failed, cancelled, lost. `incomplete`
 * (not terminal): ingestion stopped before the run's record was complete — an import the
 * daemon did not finish, say; the status reason says why, and ingesting again resumes it.
 */
export const RunStatuses = ['queued', 'syncing', 'starting', 'running', 'incomplete', 'succeeded', 'failed', 'cancelled', 'lost'] as const;
export type RunStatus = (typeof RunStatuses)[number];
export const TerminalRunStatuses: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled', 'lost'];

/** Allowed status changes. `unreachable` is not a status: it is a condition beside one. */
export const RunTransitions: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  queued: ['syncing', 'starting', 'running', 'cancelled', 'failed', 'lost'],
  syncing: ['starting', 'queued', 'failed', 'cancelled', 'lost'],
  starting: ['running', 'succeeded', 'failed', 'cancelled', 'lost', 'queued'],
  // running → queued: an infrastructure failure (lost, GPU taken) with a retry left.
  running: ['succeeded', 'failed', 'cancelled', 'lost', 'queued', 'incomplete'],
  // A run may also be created incomplete (an import that has just begun).
  incomplete: ['running', 'succeeded', 'failed', 'cancelled', 'lost'],
  succeeded: [],
  failed: [],
  cancelled: [],
  lost: [],
};

export function isTerminal(status: RunStatus): boolean {
  return TerminalRunStatuses.includes(status);
}

export interface DaemonStatus {
  pid: number;
  version: string;
  protocolVersion: number;
  home: string;
  db: string;
  socket: string;
  uptimeMs: number;
  startedAt: number;
  node: string;
  napi: string;
  execPath: string;
  clients: number;
  /** Requests taken since the daemon started, by method (`daemon/status` included); absent from older daemons. */
  requests?: Record<string, number>;
}

export interface Project {
  id: string;
  name: string;
  root: string;
  createdAt: number;
  updatedAt: number;
  /** Problems found in keel.yaml at the last read (empty when it is valid). */
  configErrors: string[];
}

export interface Dataset {
  id: string;
  projectId: string;
  /** Path relative to the project root (POSIX separators). */
  path: string;
  kind: 'file' | 'folder';
  latestVersionId: string | null;
  versions: number;
  createdAt: number;
}

export interface DatasetVersion {
  id: string;
  datasetId: string;
  hash: string;
  sizeBytes: number;
  fileCount: number;
  profile: unknown;
  createdAt: number;
}

export interface ConfigRecord {
  id: string;
  hash: string;
  format: 'yaml' | 'json';
  flavor: string;
  paths: string[];
  createdAt: number;
}

export interface CodeVersion {
  id: string;
  projectId: string;
  commit: string | null;
  branch: string | null;
  remote: string | null;
  dirty: boolean;
  patchHash: string | null;
  createdAt: number;
}

export interface Run {
  id: string;
  projectId: string | null;
  name: string;
  status: RunStatus;
  statusReason: string | null;
  exitCode: number | null;
  /** Set while the run's host cannot be reached (ms since epoch of the first failure). */
  unreachableSince: number | null;
  /**
   * Set while a step on the run's host (building its workspace, hashing a cache, syncing its
   * outputs) has outrun its time-out: the host answers, the step was too slow. Not a status;
   * absent from older daemons.
   */
  timedOutSince?: number | null;
  source: 'launch' | 'import' | 'watch';
  configId: string | null;
  codeVersionId: string | null;
  hostName: string | null;
  sweepId: string | null;
  outputDir: string | null;
  priority: number;
  gpus: number;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  updatedAt: number;
}

/** What `runs/delete` removed, by kind of record. Files on disk (checkpoints, logs, output folders) are untouched. */
export interface RunRemovalCounts {
  metricSeries: number;
  metricPoints: number;
  params: number;
  events: number;
  jobs: number;
  /** Read positions in the run's files and its jobs' logs. */
  cursors: number;
  /** Checkpoint records (the files stay where they are). */
  checkpoints: number;
  lineageEdges: number;
  /** Eval rows whose subject was the run or one of its checkpoints. */
  evals: number;
  /** Runs that named this one as their parent (they stay, without a parent). */
  childrenUnlinked: number;
  /** Stored texts only this run used (its effective config, its code snapshot's manifest); absent from older daemons. */
  blobs?: number;
}

/** One metric value. `value` is null for NaN on the wire (JSON has no NaN); see `special`. */
export interface MetricPoint {
  step: number;
  value: number | null;
  special?: 'nan' | 'inf' | '-inf';
  wallTime: number | null;
}

export interface Checkpoint {
  id: string;
  runId: string | null;
  step: number | null;
  /** A local absolute path, or `host:path` for one that stays on a GPU host. */
  location: string;
  hash: string | null;
  sizeBytes: number | null;
  kind: 'full' | 'adapter' | 'unknown';
  /** The model it was trained from: a checkpoint location or a reference (hub id, foreign path). */
  baseModel: string | null;
  createdAt: number;
  /**
   * When Keel saw it gone from disk (a `save_total_limit` rotation, a user's `rm`), in ms; null
   * while it is there. A deleted checkpoint stays in lineage as history and is never offered
   * for eval, pull, tag or "best". Absent from daemons before protocol additions of 2026-12.
   */
  deletedAt?: number | null;
  /**
   * True for the run's final model (what `trainer.save_model(output_dir)` wrote in the output
   * folder). When its weights are those of a `checkpoint-N`, that checkpoint carries the flag
   * and the output folder is one of its `locations`.
   */
  final?: boolean;
  /** Other places the same model is saved (the output folder's final copy), each with its own deletion time. */
  locations?: CheckpointLocation[];
  /** The base model record (kind `model`) or checkpoint (kind `checkpoint`) it was trained from, when known. */
  base?: { kind: 'model' | 'checkpoint'; id: string } | null;
}

/** A second location of a checkpoint's model. */
export interface CheckpointLocation {
  location: string;
  /** `final`: the run's final model, saved in its output folder. */
  role: 'final';
  deletedAt: number | null;
}

/**
 * A model that is not a checkpoint of a Keel run — a base model — as one record whatever the
 * spelling: a local folder (real path, recognised again by the hash of its weights when it
 * moves), a hub id (`meta-llama/Llama-3.1-8B`, with the revision when known), or a path on
 * another machine as written.
 */
export interface ModelRecord {
  id: string;
  kind: 'local' | 'hub' | 'path';
  /** The real path (local), the hub id (hub), or the path as written (path). */
  ref: string;
  /** Hub revision (commit, branch or tag) when known; '' when not. */
  revision: string;
  /** Manifest hash of a local model's weight files; null when not hashed. */
  hash: string | null;
  /** Every place this model was seen at (local paths, spellings of the same hub id). */
  locations: string[];
  createdAt: number;
}

/**
 * A value that describes a run as a whole, not a curve: the HF Trainer's end-of-training
 * summary (`train/train_runtime`, `train/train_samples_per_second`, `train/total_flos`,
 * `train/train_loss` …) and the values of `*_results.json`. `key` is canonical (see
 * daemon/src/track/formats/metric-names.ts); `aliases` are the names files used.
 */
export interface SummaryValue {
  key: string;
  /** null for NaN/±Inf (see `special`). */
  value: number | null;
  special?: 'nan' | 'inf' | '-inf';
  /** The step it was logged at, when known. */
  step: number | null;
  aliases?: string[];
}

export interface EvalResult {
  id: string;
  subjectKind: 'checkpoint' | 'run' | 'model';
  subjectId: string | null;
  /** What the eval named as its model (`pretrained=` / `peft=`), kept when it matched no checkpoint or run. */
  subjectRef: string | null;
  /** The results file's lineage node (kind `eval`): every row of one file shares it. */
  groupId: string;
  /** A group aggregate (lm-eval `groups`) rather than a single task. */
  isGroup: boolean;
  task: string;
  metric: string;
  filter: string;
  value: number | null;
  /** null means unknown (lm-eval writes "N/A"). */
  stderr: number | null;
  nShot: number | null;
  higherIsBetter: boolean | null;
  sourcePath: string | null;
  createdAt: number;
  /** The Keel run that wrote the results file, when one did. */
  evalRunId?: string | null;
  /**
   * True when that run failed (or was cancelled or lost): the results exist but the eval job
   * did not end well, so they may be partial. Shown wherever the result is.
   */
  evalJobFailed?: boolean;
}

export const RecordKinds = ['project', 'dataset', 'dataset_version', 'config', 'code_version', 'run', 'checkpoint', 'eval', 'model', 'host', 'sweep'] as const;
export type RecordKind = (typeof RecordKinds)[number];

/** A typed edge: `from` produced, fed or described `to`. */
export interface LineageEdge {
  fromKind: RecordKind;
  fromId: string;
  toKind: RecordKind;
  toId: string;
  type: string;
}

export interface Host {
  name: string;
  backend: 'local' | 'ssh' | 'slurm';
  sshTarget: string | null;
  workdir: string;
  costPerHour: number | null;
  labels: string[];
  reachable: boolean | null;
  checkedAt: number | null;
  gpus: { index: number; uuid: string; name: string; memoryTotalMiB: number }[];
  /** Slurm hosts: their submit defaults (absent from older daemons; null on other hosts). */
  slurm?: SlurmHostDefaults | null;
}

/** A Slurm host's submit defaults (`keel hosts add NAME --slurm --ssh LOGIN --partition P --account A --qos Q`). */
export interface SlurmHostDefaults {
  partition: string | null;
  account: string | null;
  qos: string | null;
}

/** What `keel hosts check` found on a Slurm login node. */
export interface SlurmCheckFacts {
  /** `sinfo --version`, e.g. "slurm 22.05.8". */
  version: string;
  /** Partitions with their GRES (`gpu:4`), availability, node count, state and time limit; `default` marks the default partition. */
  partitions: { name: string; default: boolean; gres: string; avail: string; nodes: number; state: string; timeLimit: string }[];
  nodes: { name: string; state: string; gres: string; partition: string }[];
  /** Whether sacct works (slurmdbd present); without it Keel reads final states from squeue and the job's exit_code file. */
  sacct: { ok: boolean; error: string | null };
  /** This user's jobs (running and pending) at the check. */
  queue: { id: string; name: string; state: string; reason: string; time: string }[];
}

export interface KeelEvent {
  id: number;
  at: number;
  kind: string;
  severity: 'info' | 'warning' | 'error';
  runId: string | null;
  hostName: string | null;
  message: string;
}

/** A run in a list: the run plus what a table needs at a glance. */
export interface RunSummary extends Run {
  /** Last value of the run's loss (`loss`, else `train_loss`, else the first key with "loss"). */
  lastLoss: number | null;
  lastStep: number | null;
  alerts: number;
  /** The step `lastLoss` was logged at (its own series' last step), which may lag `lastStep`. Absent from older daemons. */
  lastLossStep?: number | null;
  /** `eval` for the eval job Keel runs on a train run's checkpoint; absent from older daemons (read it as `train`). */
  kind?: 'train' | 'eval';
  /** The run this one evaluates (an eval run) or re-runs; absent from older daemons. */
  parentRunId?: string | null;
  /** The `--set` overrides of a launched run, as given (`learning_rate=0.01`); [] for other runs. Absent from older daemons. */
  overrides?: string[];
}

export interface SeriesInfo {
  /** The canonical key (one series per quantity: `train/loss`, whatever file it came from). */
  key: string;
  /** Other names files used for it (`loss` in trainer_state.json). */
  aliases?: string[];
  /** Steps at which two files disagreed beyond float32 rounding (the higher-precision value was kept). */
  disagreements?: number;
  points: number;
  firstStep: number | null;
  lastStep: number | null;
  lastValue: number | null;
  min: number | null;
  max: number | null;
}

export interface RunDetail {
  run: Run;
  params: Record<string, unknown>;
  /** At most 500 of the run's series: losses first, then eval metrics, then the rest, each by key (`metrics/list` pages through all). */
  metrics: SeriesInfo[];
  /** How many series the run has in all (absent from daemons that always sent every series). */
  metricsTotal?: number;
  /** Every checkpoint the run wrote, including deleted ones (`deletedAt` set) as history. */
  checkpoints: Checkpoint[];
  evals: EvalResult[];
  /** End-of-run summary values (never drawn as charts). Absent from older daemons. */
  summary?: SummaryValue[];
  config: ConfigRecord | null;
  codeVersion: CodeVersion | null;
  datasets: DatasetVersion[];
  /**
   * What the run was launched with (launched runs; null for watched and imported ones), as the
   * daemon recorded it: its fields grow over versions, so clients show the fields they find.
   * Absent from older daemons.
   */
  launch?: Record<string, unknown> | null;
  /** GPU time and cost of the run's attempts (null before any attempt started). Absent from older daemons. */
  usage?: RunUsage | null;
}

/**
 * What a run's attempts used: wall time × GPUs of each attempt that started (from when Keel saw
 * it run until it ended, or now), summed; `cost` is GPU-hours × each attempt's host
 * `--cost-per-hour`, null when no host of its attempts has one.
 */
export interface RunUsage {
  attempts: number;
  seconds: number;
  gpuHours: number;
  cost: number | null;
  /** Attempts whose time and GPUs are Slurm's accounting (`sacct` ElapsedRaw × AllocTRES gres/gpu), not Keel's clock. Absent from older daemons. */
  slurmAccounted?: number;
}

/** One thing `runs/preflight` found wrong with a launch, or worth a look before it. */
export interface PreflightProblem {
  /** What was checked: the project, the config file, the paths it names, the overrides, the host, its GPUs. */
  check: 'project' | 'config' | 'paths' | 'overrides' | 'host' | 'gpus';
  /** `error`: the launch would fail or do the wrong thing; `warning`: it may. */
  severity: 'error' | 'warning';
  /** Names the file, key or host, and what to do. */
  message: string;
  /** The config key, override or path the problem is about. */
  subject?: string;
  /** Close matches for a mistyped key or host name. */
  suggestions?: string[];
}

/** What `runs/preflight` found. */
export interface PreflightResult {
  /** No errors: every check passed or only warned. */
  ok: boolean;
  problems: PreflightProblem[];
  /** Checks that passed, in words ("config parses (hf)", "host gpu1 reachable: 2 of 4 GPUs free"). */
  passed: string[];
  /** The name the run gets when launched without one (null when the project is unknown). */
  defaultName: string | null;
}

/** How runs differ: params, metric summaries and the eval table. */
export interface RunComparison {
  runs: Run[];
  /**
   * Params that differ and those that are equal (`equal` counts all of them), each listed up
   * to 2,000 by key; `differTotal` is set when more than 2,000 differ.
   */
  params: { differ: { key: string; values: Record<string, unknown> }[]; equal: number; equalParams: Record<string, unknown>; differTotal?: number };
  /** How many distinct metric keys the runs have in all; `metrics` holds at most 500 (losses and eval metrics first). Absent from older daemons. */
  metricsTotal?: number;
  metrics: {
    key: string;
    /** 'min' when lower is better (loss, perplexity, error rates), 'max' otherwise. */
    goal: 'min' | 'max';
    perRun: Record<string, { last: number | null; min: number | null; max: number | null; best: number | null; bestStep: number | null; lastStep: number | null; points: number } | null>;
  }[];
  evals: {
    task: string;
    metric: string;
    filter: string;
    higherIsBetter: boolean | null;
    perRun: Record<string, {
      value: number | null;
      stderr: number | null;
      /** The checkpoint (or run, or model) id that was evaluated. */
      subject: string | null;
      /** What was evaluated, for people: `checkpoint-60 (step 60)`. */
      subjectLabel?: string | null;
      /** The eval job that wrote this result failed (see EvalResult.evalJobFailed). */
      evalJobFailed?: boolean;
      /** The eval job that wrote this result, when Keel launched one (its status says whether it finished). */
      evalRun?: EvalJobRef | null;
    } | null>;
    /** The leader: the best value among results whose eval job did not fail (whether its lead is beyond the noise is in `verdicts`). */
    bestRunId: string | null;
    /** Each run's standing in the row by the stderr rule of eval-verdicts.ts (absent from older daemons). */
    verdicts?: Record<string, EvalVerdict>;
  }[];
  /**
   * End-of-run summary values by canonical key, one cell per run (null when a run has none).
   * Shown as a table; these keys are never in `metrics`. Absent from older daemons.
   */
  summary?: { key: string; perRun: Record<string, SummaryValue | null> }[];
  /** Each run's GPU time and cost (null: no attempt started). Absent from older daemons. */
  usage?: Record<string, RunUsage | null>;
}

/**
 * The eval job (a run of kind eval) that wrote a result, when Keel ran one: a result whose
 * job did not succeed may be partial, so the compare panel flags it. Absent from older daemons.
 */
/** A result's standing in its eval row: best (beyond the noise), tie (within it), ahead (no stderr to tell), or none. */
export type EvalVerdict = 'best' | 'tie' | 'ahead' | null;

export interface EvalJobRef {
  id: string;
  name: string;
  status: RunStatus;
}

/** One record in a lineage graph, described for people. */
export interface LineageNode {
  kind: RecordKind;
  id: string;
  /** Short human label: a path, a run name, `task/metric`, a commit. */
  label: string;
  /** Kind-specific facts (hash, size, status, host, value…). */
  details: Record<string, string | number | boolean | null>;
}

export interface LineageGraph {
  root: LineageNode;
  ancestors: (LineageNode & { depth: number })[];
  descendants: (LineageNode & { depth: number })[];
  edges: LineageEdge[];
  truncated: boolean;
}

export interface ModelAliasInfo {
  alias: string;
  projectId: string | null;
  checkpoint: Checkpoint | null;
  updatedAt: number;
  history: { checkpointId: string; previousCheckpointId: string | null; at: number; note: string | null }[];
}

/** A host with what a picker needs: GPU use and reachability. */
export interface HostInfo extends Host {
  gpusFree: number;
  gpusTotal: number;
  runningRuns: number;
  /** Slurm hosts: this user's queue at the host's last check (absent from older daemons and other hosts). */
  slurmQueue?: SlurmCheckFacts['queue'];
  /**
   * Slurm hosts: the partitions at the host's last check (what the launch wizard offers).
   * Absent from daemons that do not send it; clients then ask `hosts/check`.
   */
  slurmPartitions?: SlurmCheckFacts['partitions'];
}

/** A command as frozen at launch: the template from keel.yaml (placeholders still in it), its setup, and env NAMES (values are read at each start). */
export interface FrozenCommandView {
  command: string;
  setup: string | null;
  envNames: string[];
}

/** What a launched run executes, decided once at launch; attempts, retries and reruns use exactly this (`runs/spec`). */
export interface LaunchSpecView {
  frozenAt: number;
  job: FrozenCommandView;
  /** The eval run after a successful train run, or null. */
  eval: FrozenCommandView | null;
  configPath: string | null;
  /** The effective config text's hash (after overrides); `runs/config` gives the text. */
  effectiveConfigHash: string | null;
  overrides: string[];
  host: string | null;
  gpus: number;
  code: { commit: string | null; patchHash: string | null; snapshotHash: string; files: number; bytes: number; rebuildable: boolean };
  datasets: { path: string; hash: string; versionId: string }[];
}

/** What `hosts/check` found. */
export interface HostCheckFacts {
  os: string;
  python: string | null;
  freeDiskBytes: number | null;
  bootId: string | null;
  /** null: no nvidia-smi — a CPU-only host. */
  gpus: { index: number; uuid: string; name: string; memoryTotalMiB: number; memoryUsedMiB: number; utilizationPct: number }[] | null;
  nvidiaSmiError: string | null;
  rsync: boolean;
  flock: boolean;
  /** Slurm hosts only. */
  slurm?: SlurmCheckFacts;
}

/**
 * The wire contract: every method, declared once as `area/verb → {params, result}`.
 * The params validator is the single source of the params type; the result type is
 * declared beside it. Client and server helpers are typed from this map.
 */
import { RunStatuses } from './domain.ts';
import type {
  LaunchSpecView,
  Checkpoint, DaemonStatus, HostCheckFacts, HostInfo, KeelEvent, Run, Dataset, DatasetVersion, EvalResult, LineageGraph, LineageNode, MetricPoint, ModelAliasInfo, ModelRecord,
  PreflightResult, Project, RunComparison, RunDetail, RunRemovalCounts, RunStatus, RunSummary, SeriesInfo,
} from './domain.ts';
import { v, type Infer, type Validator } from './validate.ts';

/** Bumped on any incompatible change to a method, a notification or a record shape. */
/** Runs one comparison (and one compare panel) holds at most. */
export const MAX_COMPARED_RUNS = 100;

export const PROTOCOL_VERSION = 1;

/** Frames larger than this are refused (the socket closes with 1009). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/**
 * Close code of a connection the daemon cut off because the client stopped reading: its
 * unread queue passed the hard budget, or stayed over the soft budget too long. The close
 * reason says which; reconnecting and re-reading from the client's cursors is safe.
 */
export const CLOSE_SLOW_CLIENT = 4008;

/** Notification topics a client can subscribe to. */
export const Topics = ['runs', 'metrics', 'logs', 'progress', 'alerts', 'hosts', 'projects', 'models'] as const;
export type Topic = (typeof Topics)[number];

const projectRef = v.string({ minLength: 1, maxLength: 4096 });

const launchShape = {
  config: v.string({ minLength: 1, maxLength: 4096 }),
  cwd: v.optional(v.string({ maxLength: 4096 })),
  host: v.optional(v.string({ minLength: 1, maxLength: 64 })),
  local: v.optional(v.boolean()),
  gpus: v.optional(v.number({ integer: true, min: 0, max: 64 })),
  set: v.optional(v.array(v.string({ minLength: 2, maxLength: 2000 }), { maxItems: 200 })),
  name: v.optional(v.string({ minLength: 1, maxLength: 200 })),
  retries: v.optional(v.number({ integer: true, min: 0, max: 20 })),
  priority: v.optional(v.number({ integer: true, min: -100, max: 100 })),
  /** Slurm hosts: sbatch --time (MM, HH:MM:SS, D-HH:MM…), --partition, --cpus-per-task, --mem (checked again by the daemon). */
  time: v.optional(v.string({ minLength: 1, maxLength: 20 })),
  partition: v.optional(v.string({ minLength: 1, maxLength: 500 })),
  cpus: v.optional(v.number({ integer: true, min: 1, max: 4096 })),
  mem: v.optional(v.string({ minLength: 1, maxLength: 20 })),
};

/** Params validators, one per method. */
export const paramsOf = {
  /** Client → daemon, first message on every connection. */
  initialize: v.object({
    protocolVersion: v.number({ integer: true }),
    client: v.object({ name: v.string({ maxLength: 200 }), version: v.string({ maxLength: 200 }) }),
  }),
  /** Client → daemon: who is running, where its state lives. */
  'daemon/status': v.object({}),
  /** Client → daemon: finish in-flight work, close, remove the socket. */
  'daemon/shutdown': v.object({}),
  /** Client → daemon: start receiving notifications on these topics (optionally for some runs only). */
  'subscriptions/add': v.object({
    topics: v.array(v.literal(...Topics), { maxItems: Topics.length }),
    runIds: v.optional(v.array(v.string({ maxLength: 200 }), { maxItems: 1000 })),
  }),
  /** Client → daemon: stop receiving notifications on these topics. */
  'subscriptions/remove': v.object({ topics: v.array(v.literal(...Topics), { maxItems: Topics.length }) }),
  /** Client → daemon: register (or re-read) the project whose root folder holds keel.yaml. */
  'projects/register': v.object({ root: v.string({ minLength: 1, maxLength: 4096 }) }),
  /** Client → daemon: `keel init` for editors: write a commented keel.yaml in `root` unless one exists, then register it. */
  'projects/init': v.object({ root: v.string({ minLength: 1, maxLength: 4096 }), name: v.optional(v.string({ minLength: 1, maxLength: 200 })) }),
  /** Client → daemon: all registered projects. */
  'projects/list': v.object({}),
  /** Client → daemon: one project by id, name or root path. */
  'projects/get': v.object({ project: projectRef }),
  /** Client → daemon: forget a project (its runs and history stay). */
  'projects/remove': v.object({ project: projectRef }),
  /** Client → daemon: datasets (optionally of one project) with their latest version. */
  'datasets/list': v.object({ project: v.optional(projectRef) }),
  /** Client → daemon: one dataset by path (absolute, or relative to `cwd`) or id, with its versions and profiles. */
  'datasets/show': v.object({ ref: v.string({ minLength: 1, maxLength: 4096 }), cwd: v.optional(v.string({ maxLength: 4096 })) }),
  /** Client → daemon: runs, newest first. */
  'runs/list': v.object({
    project: v.optional(projectRef),
    statuses: v.optional(v.array(v.literal(...RunStatuses), { maxItems: RunStatuses.length })),
    /** Only runs whose config was read from this file (absolute path; any version of it). */
    config: v.optional(v.string({ minLength: 1, maxLength: 4096 })),
    limit: v.optional(v.number({ integer: true, min: 1, max: 10_000 })),
    /** The next page: `nextCursor` of the previous answer (pages are in a stable order, newest first). */
    cursor: v.optional(v.string({ minLength: 1, maxLength: 300 })),
  }),
  /** Client → daemon: one run (id, id prefix or name) with params, metric summaries, checkpoints and evals. */
  'runs/get': v.object({ run: v.string({ minLength: 1, maxLength: 200 }) }),
  /** Client → daemon: compare runs: params that differ, metric summaries, the eval table. */
  'runs/compare': v.object({ runs: v.array(v.string({ minLength: 1, maxLength: 200 }), { maxItems: MAX_COMPARED_RUNS }) }),
  /** Client → daemon: ingest a folder a training tool wrote (trainer_state.json, event files, checkpoints…) as a run. */
  'runs/import': v.object({ dir: v.string({ minLength: 1, maxLength: 4096 }), project: v.optional(projectRef), name: v.optional(v.string({ maxLength: 200 })) }),
  /** Client → daemon: one metric series, downsampled (min/max per bucket) to at most `maxPoints`. */
  'metrics/get': v.object({
    run: v.string({ minLength: 1, maxLength: 200 }),
    key: v.string({ minLength: 1, maxLength: 500 }),
    maxPoints: v.optional(v.number({ integer: true, min: 2, max: 1_000_000 })),
    fromStep: v.optional(v.number({ integer: true })),
    toStep: v.optional(v.number({ integer: true })),
  }),
  /** Client → daemon: a page of a run's metric series summaries by key, optionally only keys starting with `prefix` (runs/get shows at most 500). */
  'metrics/list': v.object({
    run: v.string({ minLength: 1, maxLength: 200 }),
    prefix: v.optional(v.string({ minLength: 1, maxLength: 500 })),
    offset: v.optional(v.number({ integer: true, min: 0 })),
    limit: v.optional(v.number({ integer: true, min: 1, max: 5_000 })),
  }),
  /** Client → daemon: eval results, optionally for one task or one subject. */
  'evals/list': v.object({ project: v.optional(projectRef), task: v.optional(v.string({ maxLength: 500 })), run: v.optional(v.string({ maxLength: 200 })) }),
  /** Client → daemon: a record (path, `host:path`, or id) with its ancestors, descendants and edges. */
  'lineage/get': v.object({
    ref: v.string({ minLength: 1, maxLength: 4096 }),
    cwd: v.optional(v.string({ maxLength: 4096 })),
    depth: v.optional(v.number({ integer: true, min: 0, max: 50 })),
  }),
  /** Client → daemon: which record (if any) a path or id names — cheap, for hovers. */
  'lineage/resolve': v.object({ ref: v.string({ minLength: 1, maxLength: 4096 }), cwd: v.optional(v.string({ maxLength: 4096 })) }),
  /** Client → daemon: point an alias (`prod`, `candidate`) at a checkpoint; history is kept (rollback = tag again). */
  'models/tag': v.object({
    checkpoint: v.string({ minLength: 1, maxLength: 4096 }),
    alias: v.string({ minLength: 1, maxLength: 100, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/ }),
    cwd: v.optional(v.string({ maxLength: 4096 })),
    note: v.optional(v.string({ maxLength: 1000 })),
  }),
  /** Client → daemon: aliases, their checkpoints and history. */
  'models/list': v.object({ project: v.optional(projectRef) }),
  /**
   * Client → daemon: add an SSH host (an alias from ~/.ssh/config, or user@host[:port]); with
   * `slurm`, a Slurm cluster reached through that login node (sbatch there; job dirs under
   * `workdir`, which must be on the shared filesystem).
   */
  'hosts/add': v.object({
    name: v.string({ minLength: 1, maxLength: 64 }),
    ssh: v.string({ minLength: 1, maxLength: 500 }),
    slurm: v.optional(v.object({
      partition: v.optional(v.string({ minLength: 1, maxLength: 500 })),
      account: v.optional(v.string({ minLength: 1, maxLength: 64 })),
      qos: v.optional(v.string({ minLength: 1, maxLength: 64 })),
    })),
    workdir: v.optional(v.string({ minLength: 1, maxLength: 1000 })),
    costPerHour: v.optional(v.number({ min: 0 })),
    labels: v.optional(v.array(v.string({ maxLength: 100 }), { maxItems: 50 })),
  }),
  /** Client → daemon: hosts with GPU use (free/total) and reachability. */
  'hosts/list': v.object({}),
  /** Client → daemon: connect to a host and report OS, Python, disk and GPUs. */
  'hosts/check': v.object({ name: v.string({ minLength: 1, maxLength: 64 }) }),
  /** Client → daemon: forget a host. */
  'hosts/remove': v.object({ name: v.string({ minLength: 1, maxLength: 64 }) }),
  /** Client → daemon: launch a fine-tune; returns as soon as the run is recorded. */
  'runs/launch': v.object(launchShape),
  /** Client → daemon: one run per grid point (or random sample), queued across hosts, as one sweep. */
  'runs/sweep': v.object({
    ...launchShape,
    grid: v.optional(v.array(v.string({ minLength: 3, maxLength: 2000 }), { maxItems: 20 })),
    random: v.optional(v.number({ integer: true, min: 1, max: 1000 })),
    range: v.optional(v.array(v.string({ minLength: 3, maxLength: 500 }), { maxItems: 20 })),
    seed: v.optional(v.number({ integer: true })),
    /** Slurm hosts: the sweep is one job array; at most this many of its tasks run at once (`%M`). */
    maxParallel: v.optional(v.number({ integer: true, min: 1, max: 1000 })),
  }),
  /** Client → daemon: stop a run (TERM to its process group, KILL after the grace period). */
  'runs/cancel': v.object({ run: v.string({ minLength: 1, maxLength: 200 }) }),
  /** Client → daemon: cancel every run of a sweep that has not ended (on a Slurm host, one scancel of its job array). */
  'runs/cancelSweep': v.object({ sweep: v.string({ minLength: 1, maxLength: 200 }) }),
  /**
   * Client → daemon: run again exactly what the run recorded at launch — its command, code
   * snapshot (rebuilt from commit + patch when needed), dataset versions and config —
   * optionally on another host (`host`, or `local`).
   */
  'runs/rerun': v.object({ run: v.string({ minLength: 1, maxLength: 200 }), host: v.optional(v.string({ minLength: 1, maxLength: 64 })), local: v.optional(v.boolean()) }),
  /**
   * Client → daemon: delete a run's record and all that hangs off it (metrics, params, events,
   * jobs, checkpoint records, evals of them, lineage); files on disk stay. Refused while the
   * run is active unless `force` (which cancels it first), and while an alias points at one
   * of its checkpoints.
   */
  'runs/delete': v.object({ run: v.string({ minLength: 1, maxLength: 200 }), force: v.optional(v.boolean()) }),
  /** Client → daemon: a run's log from a byte offset (follow with the `logs` topic). */
  'runs/logs': v.object({
    run: v.string({ minLength: 1, maxLength: 200 }),
    offset: v.optional(v.number({ integer: true, min: 0 })),
    maxBytes: v.optional(v.number({ integer: true, min: 1, max: 16 * 1024 * 1024 })),
  }),
  /** Client → daemon: copy a run's checkpoint to this machine (rsync --partial: resumable). */
  'runs/pull': v.object({
    run: v.string({ minLength: 1, maxLength: 200 }),
    step: v.optional(v.number({ integer: true, min: 0 })),
    dest: v.optional(v.string({ minLength: 1, maxLength: 4096 })),
    cwd: v.optional(v.string({ minLength: 1, maxLength: 4096 })),
  }),
  /** Client → daemon: a run's effective config text (after overrides), for diffs. */
  'runs/config': v.object({ run: v.string({ minLength: 1, maxLength: 200 }) }),
  /**
   * Client → daemon: check a launch without making it — the project and its train command, the
   * config parses, the local paths it names exist (or are hub ids), the overrides name existing
   * keys with values of the right type, the host exists, answers and has the GPUs.
   */
  'runs/preflight': v.object(launchShape),
  /** Client → daemon: give a run another name (unique; `runs` subscribers hear of it). */
  'runs/rename': v.object({ run: v.string({ minLength: 1, maxLength: 200 }), name: v.string({ minLength: 1, maxLength: 200 }) }),
  /** Client → daemon: the last lines of a run's log and the line that most likely says why it failed. */
  'runs/logTail': v.object({ run: v.string({ minLength: 1, maxLength: 200 }), lines: v.optional(v.number({ integer: true, min: 1, max: 500 })) }),
  /** Client → daemon: what a launched run executes, as frozen at launch (null for imported and watched runs). */
  'runs/spec': v.object({ run: v.string({ minLength: 1, maxLength: 200 }) }),
  /** Client → daemon: recent events and alerts. */
  'events/list': v.object({ run: v.optional(v.string({ maxLength: 200 })), limit: v.optional(v.number({ integer: true, min: 1, max: 1000 })) }),
} satisfies Record<string, Validator<unknown>>;

/** A problem in keel.yaml, positioned for an editor diagnostic (1-based line and column). */
export interface ProjectDiagnostic {
  message: string;
  path: string;
  line: number;
  column: number;
  severity: 'error' | 'warning';
}

export interface InitializeResult {
  protocolVersion: number;
  daemon: { version: string; pid: number };
}

/** Result types, one per method. */
export interface ResultOf {
  initialize: InitializeResult;
  'daemon/status': DaemonStatus;
  'daemon/shutdown': { ok: true };
  'subscriptions/add': { topics: Topic[] };
  'subscriptions/remove': { topics: Topic[] };
  'projects/register': { project: Project; created: boolean; warnings: string[]; diagnostics: ProjectDiagnostic[] };
  'projects/init': ResultOf['projects/register'] & { file: string; wroteProjectFile: boolean };
  'projects/list': { projects: Project[] };
  'projects/get': { project: Project };
  'projects/remove': { ok: true };
  'datasets/list': { datasets: Dataset[] };
  'datasets/show': { dataset: Dataset; versions: DatasetVersion[] };
  /** `nextCursor`: pass it as `cursor` for the next page; null on the last page (absent from older daemons). */
  'runs/list': { runs: RunSummary[]; nextCursor?: string | null };
  'runs/get': RunDetail;
  'runs/compare': RunComparison;
  'runs/import': { runId: string; created: boolean; points: number; checkpoints: number; evals: number; issues: string[] };
  'metrics/get': { runId: string; key: string; points: MetricPoint[]; total: number; downsampled: boolean };
  'metrics/list': { runId: string; total: number; offset: number; series: SeriesInfo[] };
  'evals/list': { evals: EvalResult[] };
  'lineage/get': LineageGraph;
  'lineage/resolve': { node: LineageNode | null };
  'models/tag': { alias: string; checkpoint: Checkpoint; changed: boolean; previous: Checkpoint | null };
  /** `baseModels`: the model records (base models) Keel knows, for `keel models`; absent from older daemons. */
  'models/list': { models: ModelAliasInfo[]; baseModels?: ModelRecord[] };
  'hosts/add': { host: HostInfo };
  'hosts/list': { hosts: HostInfo[] };
  'hosts/check': { host: HostInfo; facts: HostCheckFacts | null; error: string | null };
  'hosts/remove': { ok: true };
  'runs/launch': { run: Run };
  'runs/sweep': { sweepId: string; runs: Run[] };
  'runs/cancel': { run: Run };
  /** `slurmArray`: the Slurm job array scancelled, if the sweep had one. */
  'runs/cancelSweep': { runs: Run[]; slurmArray: string | null };
  'runs/rerun': { run: Run };
  /** `untrackedOutput`: the run's output folder, still on disk, that Keel no longer tracks (until `keel import` of it). */
  'runs/delete': { run: Run; removed: RunRemovalCounts; untrackedOutput: string | null };
  'runs/logs': { runId: string; text: string; offset: number; size: number; done: boolean };
  'runs/pull': { path: string; bytes: number; checkpoint: Checkpoint };
  'events/list': { events: KeelEvent[] };
  'runs/config': { runId: string; text: string | null; format: 'yaml' | 'json' | null; path: string | null };
  'runs/preflight': PreflightResult;
  'runs/rename': { run: Run };
  /** `complete`: the log will not grow (the run ended and its log was read to the end). */
  'runs/logTail': { runId: string; lines: string[]; errorLine: string | null; complete: boolean };
  'runs/spec': { runId: string; spec: LaunchSpecView | null };
}

export type Method = keyof typeof paramsOf & keyof ResultOf;
export type ParamsOf<M extends Method> = Infer<(typeof paramsOf)[M]>;

/** Notifications the daemon pushes, by topic: `{method: 'notify/<topic>', params}`. */
export interface NotificationOf {
  /** A run changed; `deleted: true` when it was deleted (`status` is its last one): views drop it. */
  runs: {
    runId: string; status: RunStatus; unreachableSince: number | null; statusReason: string | null; deleted?: true;
    /** See Run.timedOutSince (absent from older daemons). */
    timedOutSince?: number | null;
    /**
     * The run's row as `runs/list` gives it now (status, summary, loss, step, alerts): views
     * apply it instead of asking again. Absent when deleted, and from older daemons.
     */
    run?: RunSummary;
  };
  metrics: { runId: string; key: string; points: { step: number; value: number | null; special?: 'nan' | 'inf' | '-inf'; wallTime?: number | null }[] };
  logs: { runId: string; lines: string[]; offset: number };
  progress: { task: string; id: string; done: number; total: number | null; unit: 'bytes' | 'files' | 'items'; message?: string; finished?: boolean };
  alerts: { id: number; kind: string; severity: 'info' | 'warning' | 'error'; runId: string | null; message: string };
  hosts: { name: string; reachable: boolean | null };
  projects: { projectId: string; change: 'registered' | 'updated' | 'removed' };
  /** A model alias now points at `checkpointId` (`keel tag`, a promote or a roll back from any client). */
  models: { alias: string; checkpointId: string; projectId: string | null };
}

/** Topics whose notifications the daemon drops (never queues) for a client that is not reading. */
export type DroppableTopic = Extract<Topic, 'logs' | 'metrics' | 'progress'>;

/**
 * Daemon → client, method `notify/resync`, sent to every client regardless of its
 * subscriptions: while the client was not reading, notifications on these topics were
 * dropped. Re-read from your own cursor (runs/logs `offset`, metrics/get `fromStep`) for the
 * runs named (`runIds` is empty for `progress`, which has no run).
 */
export interface ResyncNotification {
  dropped: { topic: DroppableTopic; runIds: string[] }[];
}

/** The method name of the resync notification. */
export const RESYNC_METHOD = 'notify/resync';

export function isMethod(name: string): name is Method {
  return Object.prototype.hasOwnProperty.call(paramsOf, name);
}

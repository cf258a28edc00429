/** What the dispatch steps share: the store, hosts, hashing, the run lifecycle, and their time-outs. */
import type { Logger } from '../log/logger.ts';
import type { Store } from '../store/index.ts';
import type { HashPool } from '../track/hash/index.ts';
import type { RunLifecycle } from '../runs/lifecycle.ts';
import type { HostRegistry } from './hosts.ts';
import type { CodeSnapshots } from './code-snapshots.ts';

/**
 * How long each long step on a host may take before it is "timed out" (a condition of its
 * own, never "unreachable"). Each runs in its own task, so one slow step holds up nothing else.
 */
export interface StepTimeouts {
  /** Building a job's private workspace (a copy of the code snapshot). */
  workspaceMs: number;
  /** Hashing a cache folder on the host to check it before it is trusted. */
  cacheHashMs: number;
  /** One sync of a running job's outputs back to this machine (and their ingest). */
  outputSyncMs: number;
  /** Hashing a job's new checkpoints on the host. */
  checkpointHashMs: number;
}

/** The defaults; each can be set with KEEL_<NAME>_SECONDS (see daemon.ts). */
export const DEFAULT_TIMEOUTS: StepTimeouts = {
  workspaceMs: 30 * 60_000,
  cacheHashMs: 6 * 3_600_000,
  outputSyncMs: 30 * 60_000,
  checkpointHashMs: 3 * 3_600_000,
};

/** Placement back-off after a GPU was found held: first delay, doubling, up to the cap. */
export interface BackoffSettings {
  firstMs: number;
  maxMs: number;
}

export interface DispatchContext {
  store: Store;
  log: Logger;
  pool: HashPool;
  hosts: HostRegistry;
  keelHome: string;
  /** The one owner of run status changes, notifications and alerts. */
  lifecycle: RunLifecycle;
  /** Frozen code snapshots on this machine. */
  snapshots: CodeSnapshots;
  heartbeatSeconds: number;
  killGraceSeconds: number;
  timeouts: StepTimeouts;
  backoff: BackoffSettings;
  /** The machine-wide GPU lock folder on hosts; null: run.sh's default (/tmp/keel-gpu-locks). */
  gpuLockDir: string | null;
  recordTransfer(jobId: string, what: 'code' | 'data', bytes: number): void;
  /** Bytes shipped for a job (0 when everything was already on the host), forgotten once read. */
  takeTransfers(jobId: string): { code: number; data: number };
}

/** What the dispatch steps share: the store, hosts, hashing, and how they report. */
import type { RunStatus } from '../protocol/index.ts';
import type { Logger } from '../log/logger.ts';
import type { Store } from '../store/index.ts';
import type { HashPool } from '../track/hash/index.ts';
import type { HostRegistry } from './hosts.ts';
import type { LaunchSpec } from './launch-request.ts';

export interface DispatchContext {
  store: Store;
  log: Logger;
  pool: HashPool;
  hosts: HostRegistry;
  keelHome: string;
  heartbeatSeconds: number;
  killGraceSeconds: number;
  launchSpec(runId: string): LaunchSpec;
  /** Moves a run's status (legal transitions only) and tells subscribers. */
  setStatus(runId: string, status: RunStatus, detail?: { reason?: string | null; exitCode?: number | null }): void;
  /** Records an alert once per run and kind, and tells subscribers. */
  alert(runId: string, kind: string, severity: 'info' | 'warning' | 'error', message: string): void;
  recordTransfer(jobId: string, what: 'code' | 'data', bytes: number): void;
  /** Bytes shipped for a job (0 when everything was already on the host), forgotten once read. */
  takeTransfers(jobId: string): { code: number; data: number };
}

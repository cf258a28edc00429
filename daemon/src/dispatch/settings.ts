/**
 * Dispatch settings from the daemon's environment (tests shorten them; users rarely need to):
 *   KEEL_POLL_MS                         how often active jobs are probed
 *   KEEL_UNREACHABLE_GRACE_SECONDS       unreachable this long → a run with retries is retried elsewhere
 *   KEEL_JOB_HEARTBEAT_SECONDS / KEEL_JOB_KILL_GRACE_SECONDS   run.sh's heartbeat and TERM→KILL grace
 *   KEEL_WORKSPACE_TIMEOUT_SECONDS, KEEL_CACHE_HASH_TIMEOUT_SECONDS, KEEL_OUTPUT_SYNC_TIMEOUT_SECONDS,
 *   KEEL_CHECKPOINT_HASH_TIMEOUT_SECONDS  each long step's time-out (then "timed out", not "unreachable")
 *   KEEL_PLACEMENT_BACKOFF_SECONDS / KEEL_PLACEMENT_BACKOFF_MAX_SECONDS   back-off after a GPU was found held
 *   KEEL_GPU_LOCK_DIR                    the machine-wide GPU lock folder on hosts (default /tmp/keel-gpu-locks)
 *   KEEL_SSH_CONFIG                      an ssh config file instead of ~/.ssh/config
 */
import type { DispatcherDeps } from './dispatcher.ts';
import type { StepTimeouts } from './context.ts';

type EnvSettings = Pick<DispatcherDeps, 'sshConfig' | 'pollMs' | 'unreachableGraceMs' | 'heartbeatSeconds' | 'killGraceSeconds' | 'timeouts' | 'backoff' | 'gpuLockDir'>;

/** The dispatch settings `env` sets (those it leaves out take their defaults). */
export function dispatchSettings(env: NodeJS.ProcessEnv = process.env): EnvSettings {
  const num = (name: string, scale = 1): number | undefined => {
    const v = env[name] ? Number(env[name]) : NaN;
    return Number.isFinite(v) && v > 0 ? v * scale : undefined;
  };
  const timeouts: Partial<StepTimeouts> = {};
  const set = <K extends keyof StepTimeouts>(key: K, name: string): void => {
    const v = num(name, 1000);
    if (v !== undefined) timeouts[key] = v;
  };
  set('workspaceMs', 'KEEL_WORKSPACE_TIMEOUT_SECONDS');
  set('cacheHashMs', 'KEEL_CACHE_HASH_TIMEOUT_SECONDS');
  set('outputSyncMs', 'KEEL_OUTPUT_SYNC_TIMEOUT_SECONDS');
  set('checkpointHashMs', 'KEEL_CHECKPOINT_HASH_TIMEOUT_SECONDS');
  const first = num('KEEL_PLACEMENT_BACKOFF_SECONDS', 1000);
  const max = num('KEEL_PLACEMENT_BACKOFF_MAX_SECONDS', 1000);
  const out: EnvSettings = { timeouts, backoff: { ...(first !== undefined ? { firstMs: first } : {}), ...(max !== undefined ? { maxMs: max } : {}) } };
  if (env.KEEL_SSH_CONFIG) out.sshConfig = env.KEEL_SSH_CONFIG;
  if (env.KEEL_GPU_LOCK_DIR?.startsWith('/')) out.gpuLockDir = env.KEEL_GPU_LOCK_DIR;
  const poll = num('KEEL_POLL_MS');
  if (poll !== undefined) out.pollMs = poll;
  const grace = num('KEEL_UNREACHABLE_GRACE_SECONDS', 1000);
  if (grace !== undefined) out.unreachableGraceMs = grace;
  const heartbeat = num('KEEL_JOB_HEARTBEAT_SECONDS');
  if (heartbeat !== undefined) out.heartbeatSeconds = heartbeat;
  const kill = num('KEEL_JOB_KILL_GRACE_SECONDS');
  if (kill !== undefined) out.killGraceSeconds = kill;
  return out;
}

/**
 * What every Slurm suite starts from: a TestHome whose daemon knows the test cluster as Slurm
 * host `slurm` (its shared dir as work dir, its partition as default), a probe project with the
 * suite's configs, and the helpers the suites share (launch, wait with the logs on a time-out,
 * job dirs, the run list, and the end: integrity check, cleanup, cluster down).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TestHome } from './keel-home.ts';
import { writeProbeProject } from './probe-project.ts';
import type { SlurmCluster } from './slurm-cluster.ts';

const ACTIVE = ['queued', 'syncing', 'starting', 'running'];

export interface SlurmSuite<R extends { id: string; status: string }> {
  h: TestHome;
  root: string;
  /** Brings the cluster up, writes the project (`configs`; `beforeInit` may add to it), `keel init`, `keel hosts add slurm`. */
  setUp: (configs: Record<string, Record<string, unknown>>, beforeInit?: () => void) => Promise<void>;
  /** `keel launch ARGS --host slurm`: the run's id. */
  launch: (args: string[]) => string;
  /** `keel wait`; on a time-out the daemon's and Slurm's log tails go to stderr. */
  wait: (id: string, timeoutSeconds?: number) => R;
  jobDir: (id: string, attempt?: number) => string;
  runs: () => R[];
  /** The database is intact; the home and the cluster are gone. */
  tearDown: () => Promise<void>;
}

export function slurmSuite<R extends { id: string; status: string }>(cluster: SlurmCluster, prefix: string): SlurmSuite<R> {
  const h = new TestHome(prefix, { KEEL_POLL_MS: '300', KEEL_JOB_HEARTBEAT_SECONDS: '1', KEEL_JOB_KILL_GRACE_SECONDS: '2', KEEL_LOG_LEVEL: 'debug' });
  const root = join(h.dir, 'proj');
  return {
    h, root,
    setUp: async (configs, beforeInit) => {
      await cluster.start();
      h.extraEnv.KEEL_SSH_CONFIG = cluster.env.SSH_CONFIG;
      writeProbeProject(root, configs);
      beforeInit?.();
      h.keelJson(['init', root]);
      h.keelJson(['hosts', 'add', 'slurm', '--slurm', '--ssh', cluster.env.SSH_ALIAS, '--workdir', join(cluster.env.SHARED_DIR, 'keel'), '--partition', cluster.env.PARTITION]);
    },
    launch: (args) => h.keelJson<{ run: R }>(['launch', ...args, '--host', 'slurm'], { cwd: root }).run.id,
    wait: (id, timeout = 180) => {
      const r = h.keel(['wait', id, '--timeout', String(timeout), '--json'], { timeoutMs: (timeout + 30) * 1000 });
      const run = (JSON.parse(r.stdout) as { run: R }).run;
      if (ACTIVE.includes(run.status)) process.stderr.write(`run ${id} still ${run.status} after ${timeout} s; the daemon's log ends:\n${h.daemonLogTail(150)}\n${cluster.logTail()}\n`);
      return run;
    },
    jobDir: (id, attempt = 1) => join(cluster.env.SHARED_DIR, 'keel', 'jobs', id, String(attempt)),
    runs: () => h.keelJson<{ runs: R[] }>(['runs']).runs,
    tearDown: async () => {
      try {
        assert.equal(h.integrity(), 'ok');
        h.cleanup();
      } finally {
        await cluster.stop();
      }
    },
  };
}

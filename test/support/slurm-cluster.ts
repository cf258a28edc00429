/**
 * A real one-node Slurm 22.05 cluster for tests (test/support/slurm/slurm-up.sh: munged,
 * MariaDB + slurmdbd unless `noDbd`, slurmctld, slurmd with 4 fake GRES GPUs, and a private
 * sshd for the non-root user `slurmtest`), brought up under a temp SLURM_BASE of its own and
 * torn down (`slurm-down.sh --purge`) afterwards. Root is needed (a user, /run/sshd, the
 * daemons), and the Debian packages `.ci/run` installs: without either the suite FAILS,
 * saying what is missing — it is never skipped.
 *
 * Bring-ups are serialized machine-wide (flock on /tmp/keel-slurm-up.lock: useradd and the
 * shared /run/sshd must not race). Two clusters must not *run* jobs at once either — their
 * job ids both start at 1 and proctrack/cgroup keys its freezer cgroups by job id — so the
 * test runner gives files with "slurm" in their name a pass of their own, one at a time.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const SCRIPTS = resolve(import.meta.dirname, 'slurm');
const LOCK = '/tmp/keel-slurm-up.lock';

/** Programs the cluster needs, by the Debian package that brings them (see .ci/run). */
const NEEDED: Record<string, string> = {
  munged: 'munge', slurmctld: 'slurmctld', slurmd: 'slurmd', sbatch: 'slurm-client', sshd: 'openssh-server', flock: 'util-linux',
};
const NEEDED_DBD: Record<string, string> = { slurmdbd: 'slurmdbd', mariadbd: 'mariadb-server' };

function onPath(program: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin'];
  return dirs.some((d) => d !== '' && existsSync(join(d, program)));
}

/** Why this machine cannot run the cluster, or null when it can. */
export function slurmUnavailable(noDbd = false): string | null {
  if (process.getuid?.() !== 0) return 'the Slurm suites need root (they add a user, start munged/slurmctld/slurmd and an sshd); run them as root, as .ci/run does';
  const need = { ...NEEDED, ...(noDbd ? {} : NEEDED_DBD) };
  const missing = Object.entries(need).filter(([program]) => !onPath(program)).map(([, pkg]) => pkg);
  if (missing.length > 0) return `Slurm packages missing: apt-get install ${[...new Set(missing)].join(' ')} (.ci/run installs them: munge slurm-wlm slurmdbd mariadb-server)`;
  return null;
}

export interface ClusterEnv {
  SLURM_CONF: string;
  SSH_PORT: string;
  SSH_USER: string;
  SSH_CONFIG: string;
  SSH_ALIAS: string;
  SHARED_DIR: string;
  PARTITION: string;
  NODE: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', rej);
    child.once('exit', (code) => {
      clearTimeout(timer);
      res({ code, out });
    });
  });
}

export class SlurmCluster {
  readonly noDbd: boolean;
  private readonly prefix: string;
  private dir: string | null = null;
  private envFile: ClusterEnv | null = null;

  constructor(opts: { noDbd?: boolean; prefix?: string } = {}) {
    this.noDbd = opts.noDbd ?? false;
    this.prefix = opts.prefix ?? 'keel-slurm-';
  }

  /** SLURM_BASE: a temp dir made by start() (so a suite filtered out leaves nothing behind). */
  get base(): string {
    if (this.dir === null) throw new Error('the Slurm cluster was not started');
    return this.dir;
  }

  /** Brings the cluster up (about 6 s; fails with the reason when this machine cannot). */
  async start(): Promise<void> {
    const why = slurmUnavailable(this.noDbd);
    if (why) throw new Error(why);
    this.dir = mkdtempSync(join('/tmp', this.prefix));
    const env = { ...process.env, SLURM_BASE: this.base, NO_DBD: this.noDbd ? '1' : '0', PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` };
    const r = await run('flock', ['-w', '600', LOCK, 'bash', join(SCRIPTS, 'slurm-up.sh')], env, 660_000);
    if (r.code !== 0) throw new Error(`slurm-up.sh failed (exit ${r.code}):\n${r.out}\n${this.logTail()}`);
    this.envFile = parseEnv(readFileSync(join(this.base, 'cluster.env'), 'utf8'));
  }

  get env(): ClusterEnv {
    if (!this.envFile) throw new Error('the Slurm cluster is not up');
    return this.envFile;
  }

  /** A Slurm client command run here as root against this cluster (squeue, sacct, scontrol…). */
  slurm(program: string, args: string[]): string {
    return execFileSync(program, args, { env: { ...process.env, SLURM_CONF: this.env.SLURM_CONF }, encoding: 'utf8', timeout: 30_000 });
  }

  /** Every job of the cluster with this name, from squeue (all states, kept MinJobAge) and sacct. */
  jobIdsNamed(name: string): string[] {
    const live = this.slurm('squeue', ['-h', '-t', 'all', '-n', name, '-o', '%i']).split('\n').filter(Boolean);
    const acct = this.noDbd ? [] : this.slurm('sacct', ['-X', '-n', '-P', '-S', 'now-1days', '--name', name, '-o', 'JobID']).split('\n').filter(Boolean);
    return [...new Set([...live, ...acct].map((s) => s.trim()))];
  }

  /** The slurmctld/slurmd logs' tails, for a failure message. */
  logTail(lines = 40): string {
    const out: string[] = [];
    for (const f of ['slurmctld.log', 'slurmd.log', 'slurmdbd.log']) {
      try {
        out.push(`--- ${f}\n${readFileSync(join(this.base, 'log', f), 'utf8').split('\n').slice(-lines).join('\n')}`);
      } catch { /* not there */ }
    }
    return out.join('\n');
  }

  /** Cancels every job, stops every daemon slurm-up started (by pid file) and removes the base. */
  async stop(): Promise<void> {
    if (this.dir === null) return;
    if (existsSync(join(this.base, 'run'))) {
      const r = await run('bash', [join(SCRIPTS, 'slurm-down.sh'), '--purge'], { ...process.env, SLURM_BASE: this.base, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` }, 180_000);
      if (r.code !== 0) process.stderr.write(`slurm-down.sh exited ${r.code}:\n${r.out}\n`);
    }
    rmSync(this.base, { recursive: true, force: true });
  }
}

function parseEnv(text: string): ClusterEnv {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) out[m[1] as string] = m[2] as string;
  }
  for (const k of ['SLURM_CONF', 'SSH_CONFIG', 'SSH_ALIAS', 'SHARED_DIR']) if (!out[k]) throw new Error(`cluster.env has no ${k}`);
  return out as unknown as ClusterEnv;
}

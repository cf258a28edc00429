/**
 * The hosts runs go to: the built-in `local` host (this machine, no SSH, work dir under
 * $KEEL_HOME/local), SSH hosts added by the user, and Slurm hosts (a login node reached over
 * SSH, where Keel submits with sbatch: slurm.ts). Holds one connection per host and
 * makes sure each host has the current job scripts.
 */
import { join } from 'node:path';
import { ErrorCode, RpcError } from '../protocol/index.ts';
import type { Store } from '../store/index.ts';
import type { SlurmDefaults, StoredHost } from '../store/hosts.ts';
import type { Logger } from '../log/logger.ts';
import type { HostConnection } from './transport/connection.ts';
import { LocalConnection } from './transport/local.ts';
import { SshConnection } from './transport/ssh.ts';
import { findProgram, INSTALL_RSYNC } from './transport/tools.ts';
import { installScript, jobScriptsVersion } from './remote/scripts.ts';
import { checkHost, type HostFacts } from './host-check.ts';
import { checkSlurm, slurmValueProblem } from './slurm.ts';

export const LOCAL_HOST = 'local';

export type HostRecord = StoredHost;

/** Splits a checkpoint location: `host:/abs/path` (on a host) or a local absolute path (host null). */
export function splitLocation(location: string): { host: string | null; path: string } {
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*):(\/.*)$/.exec(location);
  return m ? { host: m[1] as string, path: m[2] as string } : { host: null, path: location };
}

export interface HostRegistryDeps {
  store: Store;
  log: Logger;
  keelHome: string;
  controlDir: string;
  /** An ssh config file to use instead of ~/.ssh/config (KEEL_SSH_CONFIG). */
  sshConfig?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export class HostRegistry {
  private readonly deps: HostRegistryDeps;
  private readonly connections = new Map<string, HostConnection>();
  /** Hosts (and work dirs) known to have this daemon's script version. */
  private readonly scriptsInstalled = new Set<string>();
  private readonly workdirs = new Map<string, string>();

  constructor(deps: HostRegistryDeps) {
    this.deps = deps;
    if (!deps.store.hosts.get(LOCAL_HOST)) {
      deps.store.hosts.add({ name: LOCAL_HOST, backend: 'local', sshTarget: null, workdir: join(deps.keelHome, 'local') });
    }
  }

  get(name: string): HostRecord {
    const h = this.deps.store.hosts.get(name);
    if (!h) throw new RpcError(ErrorCode.NotFound, `no host "${name}"; \`keel hosts\` lists them, \`keel hosts add NAME --ssh TARGET\` adds one`);
    return h;
  }

  list(): HostRecord[] {
    return this.deps.store.hosts.list();
  }

  add(input: { name: string; sshTarget: string; workdir?: string; costPerHour?: number | null; labels?: string[]; slurm?: Partial<SlurmDefaults> }): HostRecord {
    if (!NAME.test(input.name)) throw new RpcError(ErrorCode.InvalidParams, `host names use letters, digits, ".", "_" and "-" (got "${input.name}")`);
    if (input.name === LOCAL_HOST) throw new RpcError(ErrorCode.Conflict, '"local" is the built-in host for this machine');
    if (/^-|\s/.test(input.sshTarget)) throw new RpcError(ErrorCode.InvalidParams, `"${input.sshTarget}" is not an ssh target (an alias from ~/.ssh/config or user@host[:port])`);
    if (this.deps.store.hosts.get(input.name)) throw new RpcError(ErrorCode.Conflict, `a host named "${input.name}" exists; remove it first or pick another name`);
    const slurm = input.slurm ? slurmDefaults(input.slurm) : null;
    this.deps.store.hosts.add({ name: input.name, backend: slurm ? 'slurm' : 'ssh', sshTarget: input.sshTarget, workdir: input.workdir ?? '~/.keel', costPerHour: input.costPerHour ?? null, labels: input.labels ?? [], slurm });
    const host = this.get(input.name);
    if (!findProgram('rsync')) this.noteMissingRsync(host, 'this machine');
    return host;
  }

  async remove(name: string): Promise<void> {
    if (name === LOCAL_HOST) throw new RpcError(ErrorCode.InvalidParams, 'the local host cannot be removed');
    const conn = this.connections.get(name);
    this.connections.delete(name);
    await conn?.close();
    this.deps.store.hosts.remove(this.get(name).name);
  }

  connection(name: string): HostConnection {
    const existing = this.connections.get(name);
    if (existing) return existing;
    const h = this.get(name);
    const conn = h.backend === 'local'
      ? new LocalConnection(name)
      : new SshConnection(name, { target: h.sshTarget ?? name, controlDir: this.deps.controlDir, ...(this.deps.sshConfig ? { configFile: this.deps.sshConfig } : {}) });
    this.connections.set(name, conn);
    return conn;
  }

  /** The host's work dir as an absolute path on that host. */
  async workdir(name: string): Promise<string> {
    const cached = this.workdirs.get(name);
    if (cached) return cached;
    const abs = await this.connection(name).resolvePath(this.get(name).workdir);
    this.workdirs.set(name, abs);
    return abs;
  }

  /** The host's work dir if it is known without asking the host (resolved once before). */
  knownWorkdir(name: string): string | undefined {
    return this.workdirs.get(name);
  }

  /** `<workdir>/bin/<version>`: where this daemon's job scripts live on the host (installed on first use). */
  async scriptsDir(name: string): Promise<string> {
    const dir = `${await this.workdir(name)}/bin/${jobScriptsVersion()}`;
    if (this.scriptsInstalled.has(name)) return dir;
    const r = await this.connection(name).exec(['bash', '-s', '--', dir], { input: installScript(), timeoutMs: 60_000, what: 'installing the job scripts' });
    if (r.code !== 0) throw new Error(`cannot install Keel's job scripts in ${dir} on ${name}: ${r.stderr.trim() || `exit ${r.code}`}`);
    this.scriptsInstalled.add(name);
    return dir;
  }

  /** The user's login umask on the host, from its last check (null: unknown). */
  loginUmask(name: string): string | null {
    const facts = this.get(name).check as { loginUmask?: unknown } | null;
    return typeof facts?.loginUmask === 'string' && /^[0-7]{3,4}$/.test(facts.loginUmask) ? facts.loginUmask : null;
  }

  /** Runs the host check and records reachability, facts and GPUs. */
  async check(name: string): Promise<{ host: HostRecord; facts: HostFacts | null; error: string | null }> {
    const h = this.get(name);
    try {
      const conn = this.connection(name);
      const scripts = await this.scriptsDir(name);
      const facts: HostFacts = await checkHost(conn, scripts, await this.workdir(name));
      // On a Slurm login node nvidia-smi (if any) describes the login node, not the cluster: Slurm owns the GPUs.
      if (h.backend === 'slurm') Object.assign(facts, { gpus: null, nvidiaSmiError: null, slurm: await checkSlurm(conn, scripts) });
      if (conn instanceof SshConnection) {
        conn.setRemoteRsync(facts.rsync);
        const missing = [...(findProgram('rsync') ? [] : ['this machine']), ...(facts.rsync ? [] : [name])];
        if (missing.length > 0) this.noteMissingRsync(h, missing.join(' and '));
      }
      this.deps.store.hosts.setCheck(name, {
        reachable: true,
        check: facts,
        gpus: (facts.gpus ?? []).map((g) => ({ index: g.index, uuid: g.uuid, name: g.name, memoryTotalMiB: g.memoryTotalMiB })),
      });
      return { host: this.get(name), facts, error: null };
    } catch (err) {
      const message = (err as Error).message;
      this.deps.store.hosts.setCheck(name, { reachable: false, check: { error: message } });
      this.deps.log.warn('host check failed', { host: name, error: message });
      return { host: this.get(name), facts: null, error: message };
    }
  }

  /**
   * Marks a host unreachable after a failed SSH call outside a check (a launch found it
   * gone): placement waits and the pump checks it again later, instead of retrying at once.
   */
  markUnreachable(name: string, error: string): void {
    if (!this.deps.store.hosts.get(name)) return;
    this.deps.store.hosts.setCheck(name, { reachable: false, check: { error } });
  }

  /** rsync is missing where a copy to `host` needs it: Keel falls back to tar; say so, with the fix. */
  private noteMissingRsync(host: HostRecord, where: string): void {
    const message = `rsync is not installed on ${where}: Keel copies code and data to ${host.name} with tar over ssh instead ` +
      `(whole files every time, no resume); ${INSTALL_RSYNC}`;
    this.deps.log.warn('rsync missing', { host: host.name, where });
    this.deps.store.events.add({ kind: 'rsync_missing', severity: 'warning', hostId: host.id, message });
  }

  async close(): Promise<void> {
    await Promise.all([...this.connections.values()].map((c) => c.close()));
    this.connections.clear();
  }
}

/** A Slurm host's submit defaults, each checked (they reach sbatch as arguments). */
function slurmDefaults(input: Partial<SlurmDefaults>): SlurmDefaults {
  for (const field of ['partition', 'account', 'qos'] as const) {
    const value = input[field];
    if (value === undefined || value === null) continue;
    const problem = slurmValueProblem(field, value);
    if (problem) throw new RpcError(ErrorCode.InvalidParams, problem);
  }
  return { partition: input.partition ?? null, account: input.account ?? null, qos: input.qos ?? null };
}

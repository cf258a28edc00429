/**
 * A real OpenSSH server on loopback for tests: its own host key, user key, port, home and
 * work root, a client config with a Host alias and a known_hosts entry (strict checking
 * stays on), and an `nvidia-smi` stand-in that prints the real CSV format for N GPUs.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { binWithout } from './path-without.ts';

export interface SshHostOptions {
  /** Alias used in the client config (`Host <alias>`). */
  alias: string;
  /** Parent folder for this host's keys, config, home and log. */
  dir: string;
  /** GPUs the `nvidia-smi` stand-in declares (0 = no nvidia-smi: a CPU-only host). */
  gpus: number;
  /** Programs this host lacks (e.g. `rsync`): its sessions' PATH is a folder of links to all others. */
  without?: string[];
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A stand-in for `nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits` that prints
 * the real format for `gpus` GPUs — the fields asked for, in the order asked (index, uuid,
 * name, memory.total, memory.used, utilization.gpu). UUIDs are unique per `seed` (real UUIDs
 * are unique per GPU in the world; GPU lock files are keyed by them, machine-wide).
 */
export function nvidiaSmiStandIn(gpus: number, seed = 'aaaa'): string {
  const tag = seed.replace(/[^0-9a-f]/gi, '').padEnd(4, '0').slice(0, 4).toLowerCase();
  const rows = Array.from({ length: gpus }, (_, i) =>
    [i, `GPU-${String(i).padStart(8, '0')}-${tag}-bbbb-cccc-${String(i).padStart(12, '0')}`, 'NVIDIA A100-SXM4-80GB', 81920, i === 0 ? 3 : 0, 0].join('|'));
  return `#!/bin/sh
# Test stand-in for nvidia-smi (no GPU on this machine). Prints the real CSV format.
fields=''
for a in "$@"; do case $a in --query-gpu=*) fields=\${a#--query-gpu=} ;; esac; done
if [ -z "$fields" ]; then echo "NVIDIA-SMI 550.54.15   Driver Version: 550.54.15   CUDA Version: 12.4"; exit 0; fi
printf '%s\n' ${rows.map((r) => `'${r}'`).join(' ')} | awk -F'|' -v want="$fields" '
  BEGIN { n = split("index,uuid,name,memory.total,memory.used,utilization.gpu", names, ","); for (i = 1; i <= n; i++) col[names[i]] = i
          m = split(want, asked, ",") }
  NF > 1 { line = ""; for (i = 1; i <= m; i++) line = line (i > 1 ? ", " : "") $(col[asked[i]]); print line }'
`;
}

export class SshHost {
  readonly alias: string;
  readonly dir: string;
  readonly home: string;
  readonly clientConfig: string;
  port = 0;
  private proc: ChildProcess | null = null;
  private readonly gpus: number;
  private readonly without: string[];

  constructor(opts: SshHostOptions) {
    this.alias = opts.alias;
    this.dir = opts.dir;
    this.gpus = opts.gpus;
    this.without = opts.without ?? [];
    this.home = join(opts.dir, 'home');
    this.clientConfig = join(opts.dir, 'ssh_config');
  }

  private get sshdConfig(): string {
    return join(this.dir, 'sshd_config');
  }

  /** Generates keys and configs (once) and starts sshd on a free loopback port. */
  async start(): Promise<void> {
    mkdirSync(join(this.home, 'bin'), { recursive: true });
    mkdirSync('/run/sshd', { recursive: true });
    const hostKey = join(this.dir, 'host_ed25519');
    const userKey = join(this.dir, 'user_ed25519');
    if (!existsSync(hostKey)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    if (!existsSync(userKey)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', userKey]);
    writeFileSync(join(this.dir, 'authorized_keys'), readFileSync(`${userKey}.pub`));
    chmodSync(join(this.dir, 'authorized_keys'), 0o600);
    if (this.gpus > 0) {
      writeFileSync(join(this.home, 'bin', 'nvidia-smi'), nvidiaSmiStandIn(this.gpus, createHash('sha256').update(this.dir).digest('hex')));
      chmodSync(join(this.home, 'bin', 'nvidia-smi'), 0o755);
    }
    if (this.port === 0) this.port = await freePort();
    const system = '/usr/local/bin:/usr/bin:/bin';
    const path = `${join(this.home, 'bin')}:${this.without.length > 0 ? binWithout(join(this.dir, 'sysbin'), this.without, system) : system}`;
    writeFileSync(this.sshdConfig, [
      `Port ${this.port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`, `PidFile ${join(this.dir, 'sshd.pid')}`,
      'StrictModes no', 'UsePAM no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes', 'MaxSessions 20', 'MaxStartups 50:30:100', `SetEnv PATH=${path} HOME=${this.home} KEEL_TEST_HOST=${this.alias}`,
      'PermitUserEnvironment no', 'LogLevel ERROR', '',
    ].join('\n'));
    const knownHosts = join(this.dir, 'known_hosts');
    writeFileSync(knownHosts, `[127.0.0.1]:${this.port} ${readFileSync(`${hostKey}.pub`, 'utf8').trim()}\n`);
    writeFileSync(this.clientConfig, [
      `Host ${this.alias}`, '  HostName 127.0.0.1', `  Port ${this.port}`, `  User ${process.env.USER ?? 'root'}`,
      `  IdentityFile ${userKey}`, '  IdentitiesOnly yes', `  UserKnownHostsFile ${knownHosts}`, '  StrictHostKeyChecking yes', '',
    ].join('\n'));
    await this.resume();
  }

  /** (Re)starts sshd with the existing config (after `stop()` for an outage). */
  async resume(): Promise<void> {
    this.proc = spawn('/usr/sbin/sshd', ['-D', '-f', this.sshdConfig, '-E', join(this.dir, 'sshd.log')], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      try {
        execFileSync('ssh', ['-F', this.clientConfig, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=2', this.alias, 'true'], { stdio: 'ignore', timeout: 5000 });
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`sshd for ${this.alias} did not come up; see ${join(this.dir, 'sshd.log')}`);
  }

  /** Stops sshd (listener only: existing sessions of the daemon's ControlMaster die with it). */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    // Per-connection sshd children (open sessions, the daemon's ControlMaster) die first, as in a real outage.
    try {
      execFileSync('pkill', ['-KILL', '-P', String(p.pid)], { stdio: 'ignore' });
    } catch {
      /* no open sessions */
    }
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  }

  /** Runs a command on the host through the client config (test assertions only). */
  exec(command: string): string {
    return execFileSync('ssh', ['-F', this.clientConfig, '-o', 'BatchMode=yes', this.alias, command], { encoding: 'utf8', timeout: 30_000 });
  }
}

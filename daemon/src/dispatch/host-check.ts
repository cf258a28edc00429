/**
 * `keel hosts check`: one round trip that reports whether a host answers, its OS, Python,
 * free disk under the work dir, boot id, and GPUs from nvidia-smi (absent = a CPU-only host).
 */
import type { HostConnection } from './transport/connection.ts';
import { parseCheck } from './remote/answers.ts';
import type { SlurmFacts } from './slurm.ts';

export { NVIDIA_SMI_QUERY } from './remote/host-sh.ts';

export interface GpuInfo {
  index: number;
  uuid: string;
  name: string;
  memoryTotalMiB: number;
  memoryUsedMiB: number;
  utilizationPct: number;
}

export interface HostFacts {
  reachable: true;
  os: string;
  python: string | null;
  freeDiskBytes: number | null;
  bootId: string | null;
  /** null when nvidia-smi is missing: a CPU-only host. */
  gpus: GpuInfo[] | null;
  nvidiaSmiError: string | null;
  rsync: boolean;
  flock: boolean;
  /** The user's login umask there (`0022`); a job's command runs with it. null: unknown. */
  loginUmask: string | null;
  /** Slurm hosts: version, partitions with their GRES, node states, whether sacct works, this user's queue. */
  slurm?: SlurmFacts;
}

/** Parses `nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,utilization.gpu --format=csv,noheader,nounits` lines. */
export function parseNvidiaSmi(lines: string[]): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of lines) {
    const parts = line.split(',').map((p) => p.trim());
    if (parts.length < 6) continue;
    const [index, uuid, name, total, used, util] = parts as [string, string, string, string, string, string];
    const num = (s: string): number => (/^\d+(\.\d+)?$/.test(s) ? Number(s) : 0); // "[N/A]" on some boards
    if (!/^\d+$/.test(index)) continue;
    gpus.push({ index: Number(index), uuid, name, memoryTotalMiB: num(total), memoryUsedMiB: num(used), utilizationPct: num(util) });
  }
  return gpus;
}

/**
 * Runs check.sh (from the host's installed scripts) and reads its answer. Throws when the
 * output was cut short (no KEEL_END): a partial answer must not record a host with no GPUs.
 */
export async function checkHost(conn: HostConnection, scriptsDir: string, workdir: string): Promise<HostFacts> {
  const r = await conn.exec(['bash', `${scriptsDir}/check.sh`, workdir], { timeoutMs: 60_000, what: 'the host check' });
  const answer = parseCheck(r.stdout);
  if (answer === null) throw new Error(`the host check on ${conn.hostName} was cut short (exit ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim().slice(0, 300)}` : ''}); nothing was recorded. Run \`keel hosts check ${conn.hostName}\` again`);
  const python = answer.value('PYTHON');
  const disk = answer.value('DISK');
  return {
    reachable: true,
    os: answer.value('OS') ?? 'unknown',
    python: python && python !== 'none' ? python.replace(/^Python /, '') : null,
    freeDiskBytes: disk && /^\d+$/.test(disk) ? Number(disk) * 1024 : null,
    bootId: answer.value('BOOT_ID') || null,
    gpus: answer.has('NO_NVIDIA_SMI') ? null : parseNvidiaSmi(answer.all('GPU')),
    nvidiaSmiError: answer.value('GPU_ERROR'),
    rsync: answer.all('HAS').includes('rsync'),
    flock: answer.all('HAS').includes('flock'),
    loginUmask: await conn.loginUmask(),
  };
}

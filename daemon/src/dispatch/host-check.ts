/**
 * `keel hosts check`: one round trip that reports whether a host answers, its OS, Python,
 * free disk under the work dir, boot id, and GPUs from nvidia-smi (absent = a CPU-only host).
 */
import type { HostConnection } from './transport/connection.ts';

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
}

/** The GPU query Keel runs; its output format is what `parseNvidiaSmi` reads. */
export const NVIDIA_SMI_QUERY = ['--query-gpu=index,uuid,name,memory.total,memory.used,utilization.gpu', '--format=csv,noheader,nounits'];

const CHECK_SCRIPT = `
workdir=$1
echo "KEEL_OS $(uname -srm 2>/dev/null)"
if command -v python3 >/dev/null 2>&1; then echo "KEEL_PYTHON $(python3 --version 2>&1)"; else echo "KEEL_PYTHON none"; fi
case $workdir in "~"|"~/"*) workdir="$HOME\${workdir#"~"}";; esac
d=$workdir; while [ ! -d "$d" ] && [ "$d" != "/" ]; do d=$(dirname "$d"); done
echo "KEEL_DISK $(df -Pk "$d" 2>/dev/null | awk 'NR==2 {print $4}')"
echo "KEEL_BOOT_ID $(cat /proc/sys/kernel/random/boot_id 2>/dev/null)"
command -v rsync >/dev/null 2>&1 && echo "KEEL_HAS rsync"
command -v flock >/dev/null 2>&1 && echo "KEEL_HAS flock"
if command -v nvidia-smi >/dev/null 2>&1; then
  out=$(nvidia-smi ${NVIDIA_SMI_QUERY.join(' ')} 2>&1); rc=$?
  if [ $rc -eq 0 ]; then printf '%s\\n' "$out" | sed 's/^/KEEL_GPU /'; else echo "KEEL_GPU_ERROR rc=$rc $(printf '%s' "$out" | head -c 300 | tr '\\n' ' ')"; fi
else
  echo "KEEL_NO_NVIDIA_SMI"
fi
`;

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

export async function checkHost(conn: HostConnection, workdir: string): Promise<HostFacts> {
  const r = await conn.exec(['bash', '-c', CHECK_SCRIPT, 'keel-check', workdir], { timeoutMs: 60_000 });
  const lines = r.stdout.split('\n');
  const value = (tag: string): string | null => {
    const l = lines.find((x) => x.startsWith(`${tag} `));
    return l === undefined ? null : l.slice(tag.length + 1).trim();
  };
  const python = value('KEEL_PYTHON');
  const disk = value('KEEL_DISK');
  const gpuLines = lines.filter((l) => l.startsWith('KEEL_GPU ')).map((l) => l.slice('KEEL_GPU '.length));
  const noSmi = lines.includes('KEEL_NO_NVIDIA_SMI');
  return {
    reachable: true,
    os: value('KEEL_OS') ?? 'unknown',
    python: python && python !== 'none' ? python.replace(/^Python /, '') : null,
    freeDiskBytes: disk && /^\d+$/.test(disk) ? Number(disk) * 1024 : null,
    bootId: value('KEEL_BOOT_ID') || null,
    gpus: noSmi ? null : parseNvidiaSmi(gpuLines),
    nvidiaSmiError: value('KEEL_GPU_ERROR'),
    rsync: lines.includes('KEEL_HAS rsync'),
    flock: lines.includes('KEEL_HAS flock'),
    loginUmask: await conn.loginUmask(),
  };
}

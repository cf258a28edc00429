/** How a host looks in the Hosts view and in messages. Pure. */
import type { HostCheckFacts, HostInfo } from '../../../daemon/src/protocol/index.ts';
import { formatBytes, plural } from '../format.ts';
import type { IconSpec } from '../runs/run-labels.ts';

export function hostIcon(h: HostInfo): IconSpec {
  const id = h.backend === 'local' ? 'vm' : 'server';
  if (h.reachable === false) return { id, color: 'list.errorForeground' };
  if (h.reachable === null) return { id, color: 'disabledForeground' };
  return { id, color: 'testing.iconPassed' };
}

/** "2/4 GPUs free · reachable · 1 run"; a Slurm host: "Slurm · 2 running, 1 pending · reachable · 3 runs" */
export function hostDescription(h: HostInfo): string {
  const parts = [h.backend === 'slurm' ? slurmGpus(h) : h.gpusTotal > 0 ? `${h.gpusFree}/${h.gpusTotal} GPUs free` : 'no GPUs'];
  parts.push(h.reachable === true ? 'reachable' : h.reachable === false ? 'unreachable' : 'not checked');
  if (h.runningRuns > 0) parts.push(plural(h.runningRuns, 'run'));
  return parts.join(' · ');
}

/** "Slurm", with this user's queue at the last check when known. */
function slurmGpus(h: HostInfo): string {
  const q = h.slurmQueue;
  if (!q) return 'Slurm';
  const running = q.filter((j) => j.state === 'RUNNING').length;
  const pending = q.filter((j) => j.state === 'PENDING').length;
  return `Slurm · your queue: ${running} running, ${pending} pending`;
}

/** "Linux 6.1, Python 3.11.2, 2 × NVIDIA A100 (80 GB), 1.2 TB free"; a Slurm host: "slurm 22.05.8, partitions gpu* (gpu:4), …" */
export function checkSummary(facts: HostCheckFacts): string {
  if (facts.slurm) {
    const s = facts.slurm;
    const partitions = s.partitions.map((p) => `${p.name}${p.default ? '*' : ''} (${p.gres === '(null)' ? 'no GPUs' : p.gres})`).join(', ');
    return [s.version, `partitions ${partitions || 'none'}`, s.sacct.ok ? 'sacct works' : 'no sacct (slurmdbd): final states from squeue', `${s.queue.length} job(s) of yours queued`].join(', ');
  }
  const parts = [facts.os];
  parts.push(facts.python ? `Python ${facts.python}` : 'no python3');
  if (facts.gpus === null) parts.push(facts.nvidiaSmiError ? `no GPUs (${facts.nvidiaSmiError})` : 'no GPUs');
  else {
    const byName = new Map<string, number>();
    for (const g of facts.gpus) {
      const name = `${g.name} (${Math.round(g.memoryTotalMiB / 1024)} GB)`;
      byName.set(name, (byName.get(name) ?? 0) + 1);
    }
    parts.push([...byName].map(([name, n]) => `${n} × ${name}`).join(', ') || 'no GPUs');
  }
  if (facts.freeDiskBytes !== null) parts.push(`${formatBytes(facts.freeDiskBytes)} free`);
  if (!facts.rsync) parts.push('rsync missing');
  return parts.join(', ');
}

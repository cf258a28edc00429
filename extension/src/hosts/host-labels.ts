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

/** "2/4 GPUs free · reachable · 1 run" */
export function hostDescription(h: HostInfo): string {
  const parts = [h.gpusTotal > 0 ? `${h.gpusFree}/${h.gpusTotal} GPUs free` : 'no GPUs'];
  parts.push(h.reachable === true ? 'reachable' : h.reachable === false ? 'unreachable' : 'not checked');
  if (h.runningRuns > 0) parts.push(plural(h.runningRuns, 'run'));
  return parts.join(' · ');
}

/** "Linux 6.1, Python 3.11.2, 2 × NVIDIA A100 (80 GB), 1.2 TB free" */
export function checkSummary(facts: HostCheckFacts): string {
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

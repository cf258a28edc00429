/** How a host looks in the Hosts view and in messages. Pure. */
import { gresGpuCount, type HostCheckFacts, type HostInfo, type SlurmCheckFacts } from '../../../daemon/src/protocol/index.ts';
import { formatBytes, gresText, plural } from '../format.ts';
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
    const partitions = s.partitions.map((p) => `${p.name}${p.default ? '*' : ''} (${gresGpuCount(p.gres) > 0 ? p.gres : 'no GPUs'})`).join(', ');
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

/** A row under a host in the Hosts view. */
export interface HostChildRow {
  key: string;
  label: string;
  description: string;
  tooltip?: string;
  icon: string;
}

/**
 * What a Slurm host expands to: its partitions (GPUs per node from GRES, time limit, state;
 * the cluster default marked) and this user's queue at the last check, each job with its state,
 * Slurm's reason when pending and its elapsed time. `partitions` null: never checked.
 */
export function slurmHostRows(partitions: SlurmCheckFacts['partitions'] | null, queue: SlurmCheckFacts['queue'] | undefined, runName: (runId: string) => string | undefined = () => undefined): HostChildRow[] {
  if (partitions === null && queue === undefined) {
    return [{ key: 'unchecked', label: 'Not checked yet', description: 'Keel: Check Host lists partitions and your queue', icon: 'info' }];
  }
  const rows: HostChildRow[] = (partitions ?? []).map((p) => {
    return {
      key: `partition:${p.name}`,
      label: `${p.name}${p.default ? ' (default)' : ''}`,
      description: [gresText(p.gres), `limit ${p.timeLimit}`, plural(p.nodes, 'node'), p.avail === 'up' ? p.state : p.avail].join(' · '),
      tooltip: `Partition ${p.name}${p.default ? ' (the cluster\'s default)' : ''}\nGRES: ${p.gres}\ntime limit: ${p.timeLimit}\nnodes: ${p.nodes} (${p.state}), ${p.avail}`,
      icon: 'layers',
    };
  });
  const q = queue ?? [];
  if (q.length === 0) rows.push({ key: 'queue:empty', label: 'Your queue', description: 'empty at the last check', icon: 'list-unordered' });
  for (const j of q) {
    const pending = j.state.startsWith('PENDING');
    const reason = j.reason && j.reason !== 'None' && j.reason !== '(null)' ? ` (${j.reason})` : '';
    // Keel's own jobs are named keel-<run id>-<attempt>: shown by the run's name when the Runs view knows it.
    const keel = /^keel-(run_[A-Za-z0-9]+)-(\d+)$/.exec(j.name);
    const name = keel?.[1] ? runName(keel[1]) : undefined;
    rows.push({
      key: `job:${j.id}`,
      label: `${j.id} ${name ? `${name}${keel?.[2] && keel[2] !== '1' ? ` (attempt ${keel[2]})` : ''}` : j.name}`,
      description: `${j.state.toLowerCase()}${pending ? reason : ''}${j.time ? ` · ${j.time}` : ''}`,
      tooltip: `Slurm job ${j.id} (${j.name}${name ? `, run ${name}` : ''}): ${j.state}${reason}${j.time ? `, elapsed ${j.time}` : ''}\nAs of the host's last check.`,
      icon: pending ? 'clock' : 'play',
    });
  }
  return rows;
}

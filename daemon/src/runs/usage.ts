/**
 * GPU time and cost of a run (`run show`): per attempt that started, its wall time (started →
 * ended, or now while it runs) × its GPUs — the GPUs leased on SSH and local hosts, the GPUs
 * asked of Slurm on a Slurm host — summed; cost is that × the host's `--cost-per-hour`. An
 * ended Slurm job counts what Slurm's accounting says instead (`sacct` ElapsedRaw × the
 * GPUs in AllocTRES, recorded as a `slurm_usage` event when the job was settled).
 */
import type { Run, RunUsage } from '../protocol/index.ts';
import type { Store } from '../store/index.ts';

/** What Slurm's accounting said of one ended job (the `slurm_usage` event's data). */
export interface SlurmAccounted {
  jobId: string;
  seconds: number;
  gpus: number;
}

export function runUsage(store: Store, run: Run, now = Date.now()): RunUsage | null {
  const all = store.jobs.byRun(run.id);
  const accounted = new Map<string, SlurmAccounted>();
  if (all.some((j) => j.backend === 'slurm')) for (const d of store.events.dataOf(run.id, 'slurm_usage') as SlurmAccounted[]) accounted.set(d.jobId, d);
  const jobs = all.filter((j) => j.startedAt !== null || accounted.has(j.id));
  if (jobs.length === 0) return null;
  let seconds = 0;
  let gpuHours = 0;
  let cost: number | null = null;
  const rates = new Map<string, number | null>();
  const rateOf = (hostId: string): number | null => {
    if (!rates.has(hostId)) rates.set(hostId, store.hosts.byId(hostId)?.costPerHour ?? null);
    return rates.get(hostId) ?? null;
  };
  for (const job of jobs) {
    const slurm = accounted.get(job.id);
    const secs = slurm ? slurm.seconds : Math.max(0, ((job.endedAt ?? now) - (job.startedAt ?? now)) / 1000);
    const gpus = slurm ? slurm.gpus : job.backend === 'slurm' ? run.gpus : job.gpuIds.length;
    const hours = (secs * gpus) / 3600;
    seconds += secs;
    gpuHours += hours;
    const rate = job.hostId ? rateOf(job.hostId) : null;
    if (rate !== null) cost = (cost ?? 0) + hours * rate;
  }
  return { attempts: jobs.length, seconds, gpuHours, cost, slurmAccounted: jobs.filter((j) => accounted.has(j.id)).length };
}

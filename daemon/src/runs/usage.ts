/**
 * GPU time and cost of a run (`run show`): per attempt that started, its wall time (started →
 * ended, or now while it runs) × its GPUs — the GPUs leased on SSH and local hosts, the GPUs
 * asked of Slurm on a Slurm host — summed; cost is that × the host's `--cost-per-hour`.
 */
import type { Run, RunUsage } from '../protocol/index.ts';
import type { Store } from '../store/index.ts';

export function runUsage(store: Store, run: Run, now = Date.now()): RunUsage | null {
  const jobs = store.jobs.byRun(run.id).filter((j) => j.startedAt !== null);
  if (jobs.length === 0) return null;
  let seconds = 0;
  let gpuHours = 0;
  let cost: number | null = null;
  for (const job of jobs) {
    const secs = Math.max(0, ((job.endedAt ?? now) - (job.startedAt ?? now)) / 1000);
    const gpus = job.backend === 'slurm' ? run.gpus : job.gpuIds.length;
    const hours = (secs * gpus) / 3600;
    seconds += secs;
    gpuHours += hours;
    const rate = job.hostId ? store.hosts.byId(job.hostId)?.costPerHour ?? null : null;
    if (rate !== null) cost = (cost ?? 0) + hours * rate;
  }
  return { attempts: jobs.length, seconds, gpuHours, cost };
}

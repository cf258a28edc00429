/**
 * Where a queued run goes: the requested host, or the first reachable host with enough
 * free GPUs (cheapest first when costs are known). GPUs are named by UUID. Free = the
 * host's GPUs (from its last check) minus those leased by this daemon's active jobs minus
 * those the host's lock files show held by anything else (another user, a stray process:
 * `held`, from leases.sh). The host-side flock on each GPU is the final guard: a lock lost
 * to a race makes the wrapper exit 75, and the run is requeued with back-off.
 */
import type { Store } from '../store/index.ts';
import type { HostRecord } from './hosts.ts';

export interface Placement {
  host: HostRecord;
  gpuIds: string[];
}

/** A GPU's id in leases and locks: its UUID (its index only when nvidia-smi gave no UUID). */
export function gpuId(g: { index: number; uuid: string }): string {
  return g.uuid !== '' ? g.uuid : String(g.index);
}

/** The host's GPUs no active job of this daemon holds, minus `held` (ids held by something else). */
export function freeGpus(store: Store, host: HostRecord, held: ReadonlySet<string> = new Set()): string[] {
  const used = store.jobs.gpusInUse(host.id);
  return host.gpus.map(gpuId).filter((id) => !used.has(id) && !held.has(id));
}

/** Why the host's last check failed, if it recorded why. */
function lastCheckError(host: HostRecord): string | undefined {
  const check = host.check as { error?: unknown } | null;
  return typeof check?.error === 'string' ? check.error : undefined;
}

/** A placement for `gpus` GPUs, or a reason why the run must wait. */
export function place(store: Store, hosts: HostRecord[], want: { host: string | null; gpus: number }, held: (host: HostRecord) => ReadonlySet<string> = () => new Set()): Placement | { wait: string } {
  const candidates = want.host ? hosts.filter((h) => h.name === want.host) : hosts;
  if (want.host && candidates.length === 0) return { wait: `host ${want.host} does not exist` };
  const ordered = [...candidates].sort((a, b) => (a.costPerHour ?? Infinity) - (b.costPerHour ?? Infinity) || a.name.localeCompare(b.name));
  let best: string | null = null;
  for (const host of ordered) {
    if (host.reachable === false) {
      if (want.host !== null) return { wait: `host unreachable: ${lastCheckError(host) ?? `host ${host.name} did not answer its last check`}, retrying` };
      continue;
    }
    // Slurm owns placement on a Slurm host: Keel submits, the job waits in Slurm's queue.
    if (host.backend === 'slurm') {
      if (want.host === null) continue; // only when named: never onto a cluster by surprise
      return { host, gpuIds: [] };
    }
    if (want.gpus === 0) {
      // CPU jobs: without an explicit host they run locally, never on someone's GPU box by surprise.
      if (want.host === null && host.backend !== 'local') continue;
      return { host, gpuIds: [] };
    }
    const busy = held(host);
    const free = freeGpus(store, host, busy);
    if (free.length >= want.gpus) return { host, gpuIds: free.slice(0, want.gpus) };
    if (host.gpus.length >= want.gpus) {
      best ??= `${host.name} has ${free.length} of ${host.gpus.length} GPUs free${busy.size > 0 ? ` (${busy.size} held outside Keel's jobs: \`keel events\` says by what)` : ''}`;
    }
  }
  if (best) return { wait: `waiting for ${want.gpus} free GPU(s): ${best}` };
  return { wait: want.host ? `host ${want.host} has fewer than ${want.gpus} GPUs (run \`keel hosts check ${want.host}\`)` : `no host has ${want.gpus} GPUs; add one with \`keel hosts add\`` };
}

/**
 * Pre-flight of where a launch goes: the host exists (else close matches), answers (checked
 * again over SSH when its last check is old or failed), and has the GPUs asked for — an error
 * when it has fewer in all, a warning when they are only busy (the run waits in the queue).
 */
import { gresGpuCount, type PreflightProblem, type SlurmCheckFacts } from '../protocol/index.ts';
import { LOCAL_HOST, type HostRecord, type HostRegistry } from '../dispatch/hosts.ts';
import { freeGpus } from '../dispatch/placement.ts';
import { slurmValueProblem } from '../dispatch/slurm.ts';
import type { Store } from '../store/index.ts';
import { closeMatches } from '../track/config/suggest.ts';
import type { CheckOutcome } from './preflight-config.ts';
import { plural } from '../protocol/format.ts';

/** What the host check needs. */
export interface HostCheckDeps {
  store: Store;
  hosts: HostRegistry;
  /** A host's last check counts when younger than this (ms); older ones are checked again. */
  checkMaxAgeMs: number;
  /** The longest a pre-flight waits for a host to answer (ms). */
  checkTimeoutMs: number;
  /** Told the outcome of a check made here (the daemon tells `hosts` subscribers). */
  onChecked?(name: string, reachable: boolean): void;
}

/** Where the launch asks to go. */
export interface HostWish {
  host?: string | undefined;
  local?: boolean | undefined;
  gpus?: number | undefined;
  /** Slurm hosts: the partition(s) asked for (`--partition`, comma-separated). */
  partition?: string | undefined;
}

/** Checks the host the launch names (or the hosts it may use) for reachability and GPUs. */
export async function checkTarget(deps: HostCheckDeps, wish: HostWish): Promise<CheckOutcome> {
  const gpus = wish.gpus ?? 0;
  if (wish.local || wish.host === LOCAL_HOST) return checkLocal(deps, gpus);
  if (wish.host) return checkNamed(deps, wish.host, gpus, wish.partition);
  // No host named: CPU jobs run on this machine; GPU jobs go to the first host with enough.
  if (gpus === 0) return { problems: [], passed: ['runs on this machine (no GPUs asked for)'] };
  const fit = deps.hosts.list().filter((h) => h.gpus.length >= gpus);
  if (fit.length === 0) {
    return problem('gpus', `No host has ${plural(gpus, 'GPU')} (at their last checks). Add one with Keel: Add Host (\`keel hosts add\`), check one with Keel: Check Host, or ask for fewer GPUs.`);
  }
  return { problems: [], passed: [`${plural(fit.length, 'host')} with ${plural(gpus, 'GPU')}: ${fit.map((h) => h.name).join(', ')}`] };
}

function problem(check: PreflightProblem['check'], message: string, more: Partial<Pick<PreflightProblem, 'subject' | 'suggestions'>> = {}): CheckOutcome {
  return { problems: [{ check, severity: 'error', message, ...more }], passed: [] };
}

async function checkLocal(deps: HostCheckDeps, gpus: number): Promise<CheckOutcome> {
  if (gpus === 0) return { problems: [], passed: ['runs on this machine'] };
  let host = deps.hosts.get(LOCAL_HOST);
  // This machine's GPUs are known once it is checked (nvidia-smi, no SSH: quick).
  if (host.checkedAt === null) host = (await deps.hosts.check(LOCAL_HOST)).host;
  return gpuOutcome(deps, host, gpus, 'This machine');
}

async function checkNamed(deps: HostCheckDeps, name: string, gpus: number, partition?: string): Promise<CheckOutcome> {
  let host: HostRecord;
  try {
    host = deps.hosts.get(name);
  } catch {
    const names = deps.hosts.list().map((h) => h.name);
    const close = closeMatches(name, names);
    const hint = close.length ? ` Did you mean ${close.map((c) => `"${c}"`).join(' or ')}?` : '';
    return problem('host', `There is no host "${name}".${hint} Keel: Add Host (\`keel hosts add ${name} --ssh TARGET\`) adds it.`, { subject: name, suggestions: close });
  }
  const fresh = host.reachable === true && host.checkedAt !== null && Date.now() - host.checkedAt < deps.checkMaxAgeMs;
  if (!fresh) {
    const checked = await checkWithin(deps, name);
    if (checked.error !== null) {
      const target = host.sshTarget ?? name;
      return problem('host', `Host ${name} does not answer: ${checked.error}. Check that \`ssh ${target}\` works from a terminal without a prompt, then run Keel: Check Host.`, { subject: name });
    }
    host = checked.host ?? host;
  }
  if (host.backend === 'slurm') return slurmOutcome(host, gpus, partition);
  return gpuOutcome(deps, host, gpus, `Host ${name}`);
}

/** A Slurm host: Slurm places the GPUs; an error only when no partition has as many per node (GRES) as asked. */
function slurmOutcome(host: HostRecord, gpus: number, partition?: string): CheckOutcome {
  const facts = (host.check as { slurm?: SlurmCheckFacts } | null)?.slurm;
  const malformed = partition === undefined ? null : slurmValueProblem('partition', partition);
  if (malformed) return problem('host', malformed, { subject: host.name });
  const asked = (partition ?? host.slurm?.partition ?? '').split(',').filter(Boolean);
  const known = (facts?.partitions ?? []).map((p) => p.name);
  const unknown = asked.filter((p) => !known.includes(p));
  if (facts && unknown.length > 0) {
    const close = unknown.flatMap((p) => closeMatches(p, known));
    return problem('host', `Slurm host ${host.name} has no partition ${unknown.map((p) => `"${p}"`).join(', ')} (at its last check: ${known.join(', ') || 'none'}).${close.length ? ` Did you mean ${close.map((c) => `"${c}"`).join(' or ')}?` : ''}`, { subject: host.name, suggestions: close });
  }
  const usable = (facts?.partitions ?? []).filter((p) => asked.length === 0 || asked.includes(p.name));
  const most = Math.max(0, ...usable.map((p) => gresGpuCount(p.gres)));
  if (facts && gpus > most) {
    return problem('gpus', `Slurm host ${host.name} has no partition with ${plural(gpus, 'GPU')} per node (GRES, at its last check: at most ${most}). Ask for fewer GPUs, or run \`keel hosts check ${host.name}\`.`, { subject: host.name });
  }
  return { problems: [], passed: [`Slurm host ${host.name} answers; Slurm places the run${gpus > 0 ? ` on ${plural(gpus, 'GPU')}` : ''}`] };
}

/** A host check, given up on (not cancelled: it finishes and records) after checkTimeoutMs. */
async function checkWithin(deps: HostCheckDeps, name: string): Promise<{ host: HostRecord | null; error: string | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ host: null; error: string }>((resolve) => {
    timer = setTimeout(() => resolve({ host: null, error: `no answer within ${Math.round(deps.checkTimeoutMs / 1000)} s` }), deps.checkTimeoutMs);
  });
  // hosts.check never rejects: an unreachable host is an `error` in its result.
  const check = deps.hosts.check(name).then((r) => {
    deps.onChecked?.(name, r.error === null);
    return r;
  });
  try {
    return await Promise.race([check, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function gpuOutcome(deps: HostCheckDeps, host: HostRecord, gpus: number, who: string): CheckOutcome {
  const total = host.gpus.length;
  const free = freeGpus(deps.store, host).length;
  if (gpus > total) {
    return problem('gpus', `${who} has ${plural(total, 'GPU')} (at its last check); the run asks for ${gpus}. Ask for ${total === 0 ? '0 (CPU only)' : `at most ${total}`}, or pick another host.`, { subject: host.name });
  }
  const answer = host.backend === 'local' ? 'this machine' : `host ${host.name} answers`;
  if (gpus > free) {
    return { problems: [{ check: 'gpus', severity: 'warning', subject: host.name, message: `${free} of ${total} GPUs on ${host.name} are free now: the run waits in the queue until ${gpus} are.` }], passed: [answer] };
  }
  return { problems: [], passed: [gpus > 0 ? `${answer}: ${free} of ${total} GPUs free` : answer] };
}

/**
 * Reading what the job scripts print. Each answer is a few `KEEL_<KEY> <rest>` lines that
 * end with `KEEL_END`; every other line (login banners, .bashrc output) is ignored. Output
 * without KEEL_END was cut short (a dropped connection), and is never taken as an answer:
 * it reads as `unreadable`, which a caller treats as "unknown, ask again", never as dead.
 */

/** A job's state, as the files in its job directory tell it. */
export type HostJobState =
  | { state: 'finished'; exitCode: number }
  | { state: 'running'; pid: number }
  /** start.sh only: launched by this call. */
  | { state: 'started'; pid: number }
  /** The wrapper is gone without writing exit_code: pid gone, boot id changed, start time mismatch, … */
  | { state: 'lost'; reason: string }
  /** Launched, state/pid not written yet. */
  | { state: 'starting' }
  /** The job directory exists but was never started. */
  | { state: 'new' }
  /** No such job directory. */
  | { state: 'missing' }
  /** start.sh only: nothing was started; safe to try again. */
  | { state: 'error'; reason: string }
  /** The output held no complete answer. */
  | { state: 'unreadable'; reason: string };

/** One job in probe.sh's answer. */
export interface ProbedJob {
  jobDir: string;
  state: HostJobState;
  /** Seconds since state/heartbeat was touched; null when it does not exist. */
  heartbeatAgeSeconds: number | null;
  /** Size of logs/output.log. */
  logBytes: number;
  /** First line of state/error, when the wrapper wrote one. */
  error: string | null;
  /** state/cancel exists on the host: a cancel was asked (by this daemon, an earlier one, or by hand). */
  cancelRequested: boolean;
  /** First line of state/stop_reason ("cancel", "signal TERM"…), when the wrapper was stopped. */
  stopReason: string | null;
}

/** probe.sh's answer for one host. */
export interface ProbeReport {
  /** The host's current boot id. */
  bootId: string | null;
  jobs: ProbedJob[];
  /** False when KEEL_END is missing: the jobs listed may be fewer than asked. */
  complete: boolean;
}

/** What cancel.sh did (see its header in control-sh.ts). */
export type CancelOutcome =
  | { outcome: 'finished'; exitCode: number }
  | { outcome: 'wrapper' | 'group'; pid: number }
  | { outcome: 'never-started' | 'requested' | 'nothing-running' | 'missing' }
  | { outcome: 'unreadable'; reason: string };

/** A GPU's lease as leases.sh sees it; `holder` names what holds a busy one (pid 0: not visible). */
export type GpuLease =
  | { state: 'free' }
  | { state: 'busy'; pid: number; command: string }
  | { state: 'invalid'; reason: string };

interface Marker {
  key: string;
  rest: string;
}

/** The KEEL_ lines of `output`, and whether it ended properly. */
export function readMarkers(output: string): { markers: Marker[]; complete: boolean } {
  const markers: Marker[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const match = /^KEEL_([A-Z_]+)(?: (.*))?$/.exec(line);
    if (match !== null) markers.push({ key: match[1] ?? '', rest: match[2] ?? '' });
  }
  return { markers, complete: markers.at(-1)?.key === 'END' };
}

/** The state in a `KEEL_STATE <rest>` line. */
export function parseStateLine(rest: string): HostJobState {
  const space = rest.indexOf(' ');
  const word = space < 0 ? rest : rest.slice(0, space);
  const detail = space < 0 ? '' : rest.slice(space + 1);
  switch (word) {
    case 'finished':
      return isCount(detail) ? { state: 'finished', exitCode: Number(detail) } : unreadable(`exit code "${detail}"`);
    case 'running':
    case 'started':
      return isCount(detail) ? { state: word, pid: Number(detail) } : unreadable(`pid "${detail}"`);
    case 'lost':
    case 'error':
      return { state: word, reason: detail };
    case 'starting':
    case 'new':
    case 'missing':
      return { state: word };
    default:
      return unreadable(`unknown state "${rest}"`);
  }
}

/** start.sh's answer. */
export function parseStartOutput(output: string): HostJobState {
  const { markers, complete } = readMarkers(output);
  if (!complete) return unreadable('the output ends before KEEL_END');
  const line = markers.find((m) => m.key === 'STATE');
  return line === undefined ? unreadable('no KEEL_STATE line') : parseStateLine(line.rest);
}

/** probe.sh's answer; jobs come in the order their directories were given. */
export function parseProbeOutput(output: string): ProbeReport {
  const { markers, complete } = readMarkers(output);
  const report: ProbeReport = { bootId: null, jobs: [], complete };
  let job: ProbedJob | undefined;
  for (const { key, rest } of markers) {
    if (key === 'BOOT_ID') report.bootId = rest;
    else if (key === 'JOB') {
      job = { jobDir: rest, state: unreadable('no KEEL_STATE line'), heartbeatAgeSeconds: null, logBytes: 0, error: null, cancelRequested: false, stopReason: null };
      report.jobs.push(job);
    } else if (job !== undefined) readJobMarker(job, key, rest);
  }
  return report;
}

function readJobMarker(job: ProbedJob, key: string, rest: string): void {
  if (key === 'STATE') job.state = parseStateLine(rest);
  else if (key === 'HEARTBEAT') job.heartbeatAgeSeconds = /^-?\d+$/.test(rest) ? Number(rest) : null;
  else if (key === 'LOG_SIZE') job.logBytes = isCount(rest) ? Number(rest) : 0;
  else if (key === 'ERROR') job.error = rest;
  else if (key === 'CANCEL') job.cancelRequested = rest === 'yes';
  else if (key === 'STOP_REASON') job.stopReason = rest;
}

/** cancel.sh's answer. */
export function parseCancelOutput(output: string): CancelOutcome {
  const { markers, complete } = readMarkers(output);
  const line = markers.find((m) => m.key === 'CANCEL');
  if (!complete || line === undefined) return { outcome: 'unreadable', reason: 'no complete KEEL_CANCEL answer' };
  const [word = '', number = ''] = line.rest.split(' ');
  switch (word) {
    case 'finished':
      return isCount(number) ? { outcome: 'finished', exitCode: Number(number) } : { outcome: 'unreadable', reason: line.rest };
    case 'wrapper':
    case 'group':
      return isCount(number) ? { outcome: word, pid: Number(number) } : { outcome: 'unreadable', reason: line.rest };
    case 'never-started':
    case 'requested':
    case 'nothing-running':
    case 'missing':
      return { outcome: word };
    default:
      return { outcome: 'unreadable', reason: line.rest };
  }
}

/** leases.sh's answer: GPU id → lease; null when the output was cut short. */
export function parseLeasesOutput(output: string): Map<string, GpuLease> | null {
  const { markers, complete } = readMarkers(output);
  if (!complete) return null;
  const leases = new Map<string, GpuLease>();
  for (const { key, rest } of markers) {
    const match = key === 'GPU' ? /^(\S+) (free|busy|invalid)(?: (.*))?$/.exec(rest) : null;
    if (match?.[1] === undefined) continue;
    const detail = match[3] ?? '';
    if (match[2] === 'free') leases.set(match[1], { state: 'free' });
    else if (match[2] === 'invalid') leases.set(match[1], { state: 'invalid', reason: detail });
    else {
      const holder = /^(\d+) ?(.*)$/.exec(detail);
      leases.set(match[1], { state: 'busy', pid: Number(holder?.[1] ?? 0), command: (holder?.[2] ?? '').trim() || '?' });
    }
  }
  return leases;
}

/** Undoes the escaping of paths in script output (\\ \n \r, as in Keel's manifests). */
export function unescapePath(text: string): string {
  return text.replace(/\\([\\nr])/g, (_m, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\'));
}

function isCount(text: string): boolean {
  return /^\d{1,10}$/.test(text);
}

function unreadable(reason: string): HostJobState {
  return { state: 'unreadable', reason };
}

/** `keel hosts …`, `keel launch`, `keel sweep`, `keel cancel`, `keel wait`, `keel pull`, `keel rerun`, `keel events` (`keel logs`: logs.ts). */
import type { KeelClient } from '../../client/client.ts';
import { ErrorCode, isTerminal, RpcError, type HostInfo, type PreflightProblem, type Run, type SlurmCheckFacts } from '../../protocol/index.ts';
import { ago, keyValues, print, printError, printJson, table } from '../output.ts';
import { withDaemon } from '../session.ts';
import { stringOption, UsageError, type CommandContext } from '../command.ts';
import { plural } from '../../protocol/format.ts';

function listOption(ctx: CommandContext, name: string): string[] {
  const v = ctx.options[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

function intOption(ctx: CommandContext, name: string): number | undefined {
  const v = stringOption(ctx, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new UsageError(`--${name} must be an integer, got "${v}"`);
  return Number(v);
}

function printHosts(hosts: HostInfo[]): void {
  print(table(hosts, [
    { header: 'HOST', value: (h) => h.name },
    { header: 'BACKEND', value: (h) => h.backend },
    { header: 'TARGET', value: (h) => h.sshTarget ?? 'this machine' },
    { header: 'GPUS FREE', value: (h) => (h.backend === 'slurm' ? 'Slurm' : h.checkedAt === null ? 'unchecked' : `${h.gpusFree}/${h.gpusTotal}`), align: 'right' },
    { header: 'RUNNING', value: (h) => h.runningRuns, align: 'right' },
    { header: 'REACHABLE', value: (h) => (h.reachable === null ? '?' : h.reachable ? 'yes' : 'NO') },
    { header: 'CHECKED', value: (h) => (h.checkedAt ? ago(h.checkedAt) : '-') },
    { header: '$/H', value: (h) => h.costPerHour, align: 'right' },
  ]) + '\n');
  for (const h of hosts.filter((x) => x.slurmQueue)) {
    const q = h.slurmQueue ?? [];
    const count = (state: string): number => q.filter((j) => j.state === state).length;
    print(`${h.name} (Slurm), your queue at its last check: ${count('RUNNING')} running, ${count('PENDING')} pending${q.length > 0 ? `\n${table(q, [{ header: '  JOB', value: (j) => `  ${j.id}` }, { header: 'NAME', value: (j) => j.name }, { header: 'STATE', value: (j) => j.state }, { header: 'REASON', value: (j) => j.reason }, { header: 'TIME', value: (j) => j.time }])}` : ''} (\`keel hosts check ${h.name}\` looks again)\n`);
  }
}

/** `--slurm [--partition P] [--account A] [--qos Q]` of `keel hosts add`; undefined for an SSH host. */
function slurmHostOptions(ctx: CommandContext): { partition?: string; account?: string; qos?: string } | undefined {
  const partition = stringOption(ctx, 'partition');
  const account = stringOption(ctx, 'account');
  const qos = stringOption(ctx, 'qos');
  if (ctx.options.slurm !== true) {
    if (partition || account || qos) throw new UsageError('--partition, --account and --qos are for Slurm hosts: add --slurm');
    return undefined;
  }
  return { ...(partition ? { partition } : {}), ...(account ? { account } : {}), ...(qos ? { qos } : {}) };
}

function printSlurmCheck(name: string, workdir: string, s: SlurmCheckFacts): void {
  print(keyValues([
    ['Host', `${name} (Slurm login node, reachable)`], ['Slurm', s.version], ['Job dirs', `${workdir} (must be on the shared filesystem)`],
    ['Accounting', s.sacct.ok ? 'sacct works (slurmdbd)' : `sacct unusable (${s.sacct.error ?? 'no slurmdbd'}): Keel reads final states from squeue and each job's exit_code file`],
  ]) + '\n');
  print(table(s.partitions, [
    { header: 'PARTITION', value: (p) => `${p.name}${p.default ? '*' : ''}` }, { header: 'GPUS (GRES)', value: (p) => p.gres === '(null)' ? 'none' : p.gres },
    { header: 'AVAIL', value: (p) => p.avail }, { header: 'NODES', value: (p) => p.nodes, align: 'right' }, { header: 'STATE', value: (p) => p.state },
    { header: 'TIME LIMIT', value: (p) => p.timeLimit },
  ]) + '\n');
  print(table(s.nodes, [{ header: 'NODE', value: (n) => n.name }, { header: 'STATE', value: (n) => n.state }, { header: 'GRES', value: (n) => n.gres }, { header: 'PARTITION', value: (n) => n.partition }]) + '\n');
  if (s.queue.length === 0) print('Your queue is empty.\n');
  else print(table(s.queue, [{ header: 'JOB', value: (q) => q.id }, { header: 'NAME', value: (q) => q.name }, { header: 'STATE', value: (q) => q.state }, { header: 'REASON', value: (q) => q.reason }, { header: 'TIME', value: (q) => q.time }]) + '\n');
}

export async function hostsCommand(ctx: CommandContext): Promise<number> {
  const [sub, name] = ctx.positionals;
  return withDaemon(async (client) => {
    if (sub === undefined || sub === 'list') {
      const { hosts } = await client.call('hosts/list', {});
      if (ctx.json) printJson({ hosts });
      else printHosts(hosts);
      return 0;
    }
    if (!name) throw new UsageError(`usage: keel hosts ${sub} NAME`);
    if (sub === 'add') {
      const ssh = stringOption(ctx, 'ssh');
      if (!ssh) throw new UsageError('usage: keel hosts add NAME --ssh TARGET [--slurm [--partition P] [--account A] [--qos Q]] [--workdir DIR] [--cost-per-hour X] [--label L]…');
      const cost = stringOption(ctx, 'cost-per-hour');
      const workdir = stringOption(ctx, 'workdir');
      const slurm = slurmHostOptions(ctx);
      const { host } = await client.call('hosts/add', { name, ssh, ...(slurm ? { slurm } : {}), ...(workdir ? { workdir } : {}), ...(cost ? { costPerHour: Number(cost) } : {}), labels: listOption(ctx, 'label') });
      if (ctx.json) printJson({ host });
      else print(`Added ${slurm ? 'Slurm host' : 'host'} ${host.name} (${ssh}${slurm ? `, job dirs under ${host.workdir}: it must be on the cluster's shared filesystem` : ''}). Check it with \`keel hosts check ${host.name}\`.\n`);
      return 0;
    }
    if (sub === 'check') {
      const r = await client.call('hosts/check', { name }, { timeoutMs: 120_000 });
      if (ctx.json) return (printJson(r), r.error ? 1 : 0);
      if (r.error) {
        printError(`${name}: unreachable — ${r.error}\nCheck that \`ssh ${r.host.sshTarget ?? name}\` works without a prompt (BatchMode), and that the host key is in known_hosts.\n`);
        return 1;
      }
      const f = r.facts;
      if (f?.slurm) {
        printSlurmCheck(name, r.host.workdir, f.slurm);
        return 0;
      }
      print(keyValues([
        ['Host', `${name} (reachable)`], ['OS', f?.os], ['Python', f?.python ?? 'not found'],
        ['Free disk', f?.freeDiskBytes ? `${(f.freeDiskBytes / 1e9).toFixed(1)} GB under ${r.host.workdir}` : null],
        ['GPUs', f?.gpus === null ? 'none: no nvidia-smi, a CPU-only host' : `${f?.gpus.length ?? 0}`],
      ]) + '\n');
      if (f?.gpus?.length) {
        print(table(f.gpus, [
          { header: 'GPU', value: (g) => g.index, align: 'right' }, { header: 'NAME', value: (g) => g.name },
          { header: 'MEMORY', value: (g) => `${g.memoryUsedMiB}/${g.memoryTotalMiB} MiB`, align: 'right' }, { header: 'UTIL', value: (g) => `${g.utilizationPct}%`, align: 'right' },
          { header: 'UUID', value: (g) => g.uuid },
        ]) + '\n');
      }
      if (f?.nvidiaSmiError) print(`nvidia-smi failed: ${f.nvidiaSmiError}\n`);
      return 0;
    }
    if (sub === 'remove') {
      await client.call('hosts/remove', { name });
      if (ctx.json) printJson({ ok: true });
      else print(`Removed host ${name}.\n`);
      return 0;
    }
    throw new UsageError(`unknown subcommand "hosts ${sub}"; use add, check, remove or list`);
  });
}

function launchParams(ctx: CommandContext, config: string): Record<string, unknown> {
  const host = stringOption(ctx, 'host');
  const local = ctx.options.local === true;
  if (host && local) throw new UsageError('use --host NAME or --local, not both');
  const gpus = intOption(ctx, 'gpus');
  const retries = intOption(ctx, 'retries');
  const name = stringOption(ctx, 'name');
  const cpus = intOption(ctx, 'cpus');
  const slurm = { time: stringOption(ctx, 'time'), partition: stringOption(ctx, 'partition'), mem: stringOption(ctx, 'mem') };
  return {
    config, cwd: ctx.cwd, ...(host ? { host } : {}), ...(local ? { local } : {}), ...(gpus !== undefined ? { gpus } : {}),
    set: listOption(ctx, 'set'), ...(name ? { name } : {}), ...(retries !== undefined ? { retries } : {}),
    ...(ctx.options.priority === true ? { priority: 10 } : {}),
    ...Object.fromEntries(Object.entries(slurm).filter(([, v]) => v !== undefined)), ...(cpus !== undefined ? { cpus } : {}),
  };
}

/** Runs the pre-flight checks: warnings go to stderr, errors stop the launch (E_PREFLIGHT, each problem listed). */
async function preflight(client: KeelClient, params: Record<string, unknown>): Promise<void> {
  const r = await client.call('runs/preflight', params as never, { timeoutMs: 60_000 });
  const line = (p: PreflightProblem): string => `  ${p.severity === 'error' ? 'error' : 'warning'}: ${p.message}\n`;
  const warnings = r.problems.filter((p) => p.severity === 'warning');
  if (warnings.length) printError(`keel launch: ${plural(warnings.length, 'warning')}:\n${warnings.map(line).join('')}`);
  const errors = r.problems.filter((p) => p.severity === 'error');
  if (errors.length === 0) return;
  throw new RpcError(ErrorCode.PreflightFailed, `not launched: ${plural(errors.length, 'problem')} (--skip-preflight launches anyway):\n${errors.map(line).join('')}`.trimEnd(), { problems: r.problems });
}

export async function launchCommand(ctx: CommandContext): Promise<number> {
  const config = ctx.positionals[0];
  if (!config) throw new UsageError('usage: keel launch CONFIG [--host NAME | --local] [--gpus N] [--set key=value]… [--name NAME] [--retries N] [--priority] [--skip-preflight]');
  return withDaemon(async (client) => {
    if (ctx.options['skip-preflight'] !== true) await preflight(client, launchParams(ctx, config));
    const { run } = await client.call('runs/launch', launchParams(ctx, config) as never);
    if (ctx.json) printJson({ run });
    else print(`${run.id}\n`);
    if (!ctx.json && process.stderr.isTTY) printError(`Launched ${run.name}. Follow it with \`keel logs ${run.id} -f\`.\n`);
    return 0;
  });
}

export async function sweepCommand(ctx: CommandContext): Promise<number> {
  const config = ctx.positionals[0];
  if (!config) throw new UsageError('usage: keel sweep CONFIG --grid key=v1,v2 [--grid …] [--random N --range key=lo:hi] [--host NAME] [--gpus N] [--max-parallel M]');
  const random = intOption(ctx, 'random');
  const maxParallel = intOption(ctx, 'max-parallel');
  return withDaemon(async (client) => {
    const r = await client.call('runs/sweep', { ...launchParams(ctx, config), grid: listOption(ctx, 'grid'), range: listOption(ctx, 'range'), ...(random ? { random } : {}), ...(maxParallel !== undefined ? { maxParallel } : {}) } as never);
    if (ctx.json) return (printJson(r), 0);
    print(`Sweep ${r.sweepId}: ${r.runs.length} runs${maxParallel !== undefined ? `, one Slurm job array (at most ${maxParallel} at once)` : ''}\n`);
    print(table(r.runs, [{ header: 'RUN', value: (x: Run) => x.id }, { header: 'NAME', value: (x: Run) => x.name }]) + '\n');
    print(`Compare them with \`keel compare ${r.runs.map((x) => x.id).join(' ')}\`\n`);
    return 0;
  });
}

export async function cancelCommand(ctx: CommandContext): Promise<number> {
  const ref = ctx.positionals[0];
  const sweep = stringOption(ctx, 'sweep');
  if (sweep !== undefined) {
    if (ref) throw new UsageError('usage: keel cancel RUN, or keel cancel --sweep ID (not both)');
    return withDaemon(async (client) => {
      const r = await client.call('runs/cancelSweep', { sweep }, { timeoutMs: 300_000 });
      if (ctx.json) return (printJson(r), 0);
      const ended = r.runs.filter((x) => x.status === 'cancelled').length;
      print(`Cancelling sweep ${sweep}: ${r.runs.length} runs${r.slurmArray ? `, Slurm job array ${r.slurmArray} scancelled` : ''}; ${ended} cancelled so far, the others end as their jobs stop.\n`);
      return 0;
    });
  }
  if (!ref) throw new UsageError('usage: keel cancel RUN | --sweep ID');
  return withDaemon(async (client) => {
    const { run } = await client.call('runs/cancel', { run: ref });
    if (ctx.json) printJson({ run });
    else print(`Cancelling ${run.name} (${run.id}): ${run.statusReason?.startsWith('cancel') ? `${run.statusReason}.` : 'TERM sent (scancel on a Slurm host); KILL follows after the grace period.'}\n`);
    return 0;
  });
}

export async function rerunCommand(ctx: CommandContext): Promise<number> {
  const ref = ctx.positionals[0];
  if (!ref) throw new UsageError('usage: keel rerun RUN [--host NAME | --local]');
  const host = stringOption(ctx, 'host');
  const local = ctx.options.local === true;
  if (host !== undefined && local) throw new UsageError('--host and --local exclude each other');
  return withDaemon(async (client) => {
    const { run } = await client.call('runs/rerun', { run: ref, ...(host !== undefined ? { host } : {}), ...(local ? { local } : {}) });
    if (ctx.json) printJson({ run });
    else print(`${run.id}\n`);
    return 0;
  });
}

/** Exit status of `keel wait`: 0 succeeded, the run's exit code (1–125) when it failed, 130 cancelled, 75 lost, 124 timed out. */
export function waitExitCode(run: Run): number {
  switch (run.status) {
    case 'succeeded': return 0;
    case 'failed': return run.exitCode !== null && run.exitCode > 0 && run.exitCode < 126 ? run.exitCode : 1;
    case 'cancelled': return 130;
    case 'lost': return 75;
    default: return 124;
  }
}

async function waitFor(client: KeelClient, runId: string, timeoutMs: number | null): Promise<Run> {
  await client.call('subscriptions/add', { topics: ['runs'], runIds: [runId] });
  const deadline = timeoutMs === null ? Infinity : Date.now() + timeoutMs;
  for (;;) {
    const { run } = await client.call('runs/get', { run: runId });
    if (isTerminal(run.status) || Date.now() >= deadline) return run;
    await new Promise<void>((resolve) => {
      const off = client.on('runs', (n) => { if (n.runId === runId) { off(); resolve(); } });
      setTimeout(() => { off(); resolve(); }, Math.min(2000, Math.max(0, deadline - Date.now())));
    });
  }
}

export async function waitCommand(ctx: CommandContext): Promise<number> {
  const ref = ctx.positionals[0];
  if (!ref) throw new UsageError('usage: keel wait RUN [--timeout SECONDS]');
  const timeout = stringOption(ctx, 'timeout');
  return withDaemon(async (client) => {
    const { run: first } = await client.call('runs/get', { run: ref });
    const run = await waitFor(client, first.id, timeout ? Number(timeout) * 1000 : null);
    const code = waitExitCode(run);
    if (ctx.json) printJson({ run, timedOut: code === 124 });
    else print(`${run.name} (${run.id}): ${isTerminal(run.status) ? run.status : `still ${run.status} (timed out)`}${run.exitCode !== null ? `, exit ${run.exitCode}` : ''}\n`);
    return code;
  });
}

export async function pullCommand(ctx: CommandContext): Promise<number> {
  const ref = ctx.positionals[0];
  if (!ref) throw new UsageError('usage: keel pull RUN [--step N] [--dest DIR]');
  const step = intOption(ctx, 'step');
  const dest = stringOption(ctx, 'dest');
  return withDaemon(async (client) => {
    const r = await client.call('runs/pull', { run: ref, cwd: ctx.cwd, ...(step !== undefined ? { step } : {}), ...(dest ? { dest } : {}) }, { timeoutMs: 0 });
    if (ctx.json) printJson(r);
    else print(`Pulled ${r.checkpoint.location} → ${r.path} (${(r.bytes / 1e6).toFixed(1)} MB moved)\n`);
    return 0;
  });
}

export async function eventsCommand(ctx: CommandContext): Promise<number> {
  const run = stringOption(ctx, 'run');
  return withDaemon(async (client) => {
    const { events } = await client.call('events/list', { ...(run ? { run } : {}) });
    if (ctx.json) return (printJson({ events }), 0);
    print(table(events, [
      { header: 'WHEN', value: (e) => ago(e.at) }, { header: 'SEVERITY', value: (e) => e.severity }, { header: 'KIND', value: (e) => e.kind },
      { header: 'RUN', value: (e) => e.runId }, { header: 'MESSAGE', value: (e) => e.message },
    ]) + '\n');
    return 0;
  });
}

/** Protocol methods for hosts and launching, controlling and following runs. */
import { mkdirSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { ErrorCode, RpcError, gresGpuCount, isTerminal, type HostInfo, type Run, type SlurmCheckFacts } from '../protocol/index.ts';
import type { DaemonContext } from '../server/daemon.ts';
import type { FeatureContext } from '../server/features.ts';
import type { Handlers } from '../server/handlers.ts';
import { LOCAL_HOST, splitLocation, type HostRecord } from './hosts.ts';
import { freeGpus } from './placement.ts';
import { readLocalLog } from './logs.ts';
import { sweepPoints } from './sweep.ts';
import { launchSpecView } from './launch-request.ts';
import type { SlurmLaunch } from './slurm.ts';

/** The Slurm options of a launch (`--time`, `--partition`, `--cpus`, `--mem`), when any was given. */
function slurmLaunchOf(p: { time?: string | undefined; partition?: string | undefined; cpus?: number | undefined; mem?: string | undefined }): { slurm?: SlurmLaunch } {
  const slurm: SlurmLaunch = { ...(p.time ? { time: p.time } : {}), ...(p.partition ? { partition: p.partition } : {}), ...(p.cpus !== undefined ? { cpus: p.cpus } : {}), ...(p.mem ? { mem: p.mem } : {}) };
  return Object.keys(slurm).length > 0 ? { slurm } : {};
}

function hostInfo(ctx: DaemonContext, h: HostRecord): HostInfo {
  const { id: _id, check: _check, ...host } = h;
  const running = ctx.store.jobs.active(h.id).length;
  if (h.backend === 'slurm') {
    // Slurm places GPUs: the most one node of a partition has (GRES) is what a run may ask for, and Slurm queues it.
    const facts = (h.check as { slurm?: SlurmCheckFacts } | null)?.slurm;
    const most = Math.max(0, ...(facts?.partitions ?? []).map((p) => gresGpuCount(p.gres)));
    return { ...host, gpusTotal: most, gpusFree: most, runningRuns: running, ...(facts ? { slurmQueue: facts.queue, slurmPartitions: facts.partitions } : {}) };
  }
  return { ...host, gpusTotal: h.gpus.length, gpusFree: freeGpus(ctx.store, h).length, runningRuns: running };
}

export function dispatchHandlers(ctx: FeatureContext): Partial<Handlers> {
  const { dispatcher } = ctx;
  return {
    'hosts/add': ({ name, ssh, slurm, workdir, costPerHour, labels }) => {
      const h = dispatcher.hosts.add({ name, sshTarget: ssh, ...(slurm ? { slurm } : {}), ...(workdir ? { workdir } : {}), ...(costPerHour !== undefined ? { costPerHour } : {}), ...(labels ? { labels } : {}) });
      ctx.server.publish('hosts', { name, reachable: null });
      return { host: hostInfo(ctx, h) };
    },
    'hosts/list': () => ({ hosts: dispatcher.hosts.list().map((h) => hostInfo(ctx, h)) }),
    'hosts/check': async ({ name }) => {
      const r = await dispatcher.hosts.check(name);
      ctx.server.publish('hosts', { name, reachable: r.error === null });
      const { reachable: _r, ...facts } = r.facts ?? { reachable: true };
      return { host: hostInfo(ctx, r.host), facts: r.facts ? (facts as NonNullable<typeof r.facts>) : null, error: r.error };
    },
    'hosts/remove': async ({ name }) => {
      const h = dispatcher.hosts.get(name);
      if (ctx.store.jobs.active(h.id).length > 0) throw new RpcError(ErrorCode.InvalidState, `host ${name} has running jobs; cancel them or wait`);
      await dispatcher.hosts.remove(name);
      return { ok: true };
    },
    'runs/launch': async (params) => {
      const { config, cwd, host, local, gpus, set, name, retries, priority } = params;
      const run = await dispatcher.launch({ config, ...(cwd ? { cwd } : {}), ...(host ? { host } : {}), ...(local ? { local } : {}), ...(gpus !== undefined ? { gpus } : {}), ...(set ? { set } : {}), ...(name ? { name } : {}), ...(retries !== undefined ? { retries } : {}), ...(priority !== undefined ? { priority } : {}), ...slurmLaunchOf(params) });
      return { run };
    },
    'runs/sweep': async (params) => {
      const points = sweepPoints(params);
      const slurmHost = !params.local && params.host !== undefined && dispatcher.hosts.get(params.host).backend === 'slurm';
      if (params.maxParallel !== undefined && !slurmHost) throw new RpcError(ErrorCode.InvalidParams, `--max-parallel is for a sweep on a Slurm host (its job array's %M); ${params.host ? `host ${params.host} is not one` : 'name one with --host'}`);
      const base = params.name ?? basename(params.config).replace(/\.(ya?ml|json)$/, '');
      const sweepId = ctx.store.sweeps.create(null, base, { config: params.config, grid: params.grid ?? [], random: params.random ?? null, range: params.range ?? [], set: params.set ?? [] });
      // Code and data are frozen once: every point of the sweep runs the same snapshot and versions.
      const sources = await dispatcher.freezeFor({ config: params.config, ...(params.cwd ? { cwd: params.cwd } : {}) });
      const runs: Run[] = [];
      for (const [i, overrides] of points.entries()) {
        const name = `${base}-${i + 1}`;
        runs.push(await dispatcher.launch({
          config: params.config, ...(params.cwd ? { cwd: params.cwd } : {}), ...(params.host ? { host: params.host } : {}), ...(params.local ? { local: true } : {}),
          gpus: params.gpus ?? 0, set: [...(params.set ?? []), ...overrides], name, retries: params.retries ?? 0, sweepId, ...slurmLaunchOf(params),
          ...(slurmHost ? { slurmArray: { sweepId, index: i, maxParallel: params.maxParallel ?? 0 } } : {}),
        }, sources));
      }
      return { sweepId, runs };
    },
    'runs/cancel': async ({ run }) => ({ run: await dispatcher.cancel(run) }),
    'runs/cancelSweep': ({ sweep }) => dispatcher.cancelSweep(sweep),
    'runs/rerun': ({ run, host, local }) => ({ run: dispatcher.rerun(run, local ? LOCAL_HOST : host) }),
    'runs/spec': ({ run: ref }) => {
      const run = dispatcher.findRun(ref);
      return { runId: run.id, spec: launchSpecView(ctx.store, run.id) };
    },
    'runs/logs': ({ run: ref, offset, maxBytes }) => {
      const run = dispatcher.findRun(ref);
      const path = dispatcher.logPath(run);
      const r = path ? readLocalLog(path, offset ?? 0, maxBytes ?? 1024 * 1024) : { text: '', offset: 0, size: 0 };
      const job = ctx.store.jobs.latest(run.id);
      const done = isTerminal(run.status) && (!job || !dispatcher.logs.isFollowing(job.id)) && r.offset >= r.size;
      return { runId: run.id, text: r.text, offset: r.offset, size: r.size, done };
    },
    'runs/pull': async ({ run: ref, step, dest, cwd }) => {
      const run = dispatcher.findRun(ref);
      const ckpt = step === undefined ? ctx.store.checkpoints.bestOrLatest(run.id) : ctx.store.checkpoints.byRun(run.id).find((c) => c.step === step);
      if (!ckpt) throw new RpcError(ErrorCode.NotFound, `run ${run.name} has no checkpoint${step !== undefined ? ` at step ${step}` : ''}; \`keel run show ${run.id}\` lists them`);
      const { host, path } = splitLocation(ckpt.location);
      const base = cwd ?? process.cwd();
      const target = dest ? (isAbsolute(dest) ? dest : resolve(base, dest)) : join(base, `${run.name}-${basename(path)}`);
      mkdirSync(target, { recursive: true });
      const conn = dispatcher.hosts.connection(host ?? LOCAL_HOST);
      const r = await conn.pull(`${path}/`, target, { partial: true, timeoutMs: 24 * 3_600_000 });
      return { path: target, bytes: r.bytes, checkpoint: ckpt };
    },
    'events/list': ({ run, limit }) => ({ events: ctx.store.events.list({ ...(run ? { runId: dispatcher.findRun(run).id } : {}), limit: limit ?? 100 }) }),
  };
}

/**
 * Alerts while a run is running: loss became NaN/Inf, loss diverging (above `factor` times
 * its running minimum), no new log line or metric for a while (stalled), and a heartbeat
 * gone stale while the process lives (suspect). Each fires once per run.
 */
import type { Run } from '../protocol/index.ts';
import type { Job } from '../store/jobs.ts';
import type { ProbedJob } from './remote/markers.ts';
import type { Store } from '../store/index.ts';
import type { RunLifecycle } from '../runs/lifecycle.ts';

/** What the alert checks read and raise through. */
export interface AlertDeps {
  store: Store;
  lifecycle: RunLifecycle;
  /** Last time each job's log grew. */
  lastLogGrowth: ReadonlyMap<string, number>;
}

export const AlertSettings = {
  divergenceFactor: Number(process.env.KEEL_ALERT_DIVERGENCE_FACTOR ?? 3),
  stalledMs: Number(process.env.KEEL_ALERT_STALLED_SECONDS ?? 15 * 60) * 1000,
  heartbeatStaleSeconds: Number(process.env.KEEL_ALERT_HEARTBEAT_SECONDS ?? 120),
  /** How often GPU utilization is sampled on hosts with running GPU jobs. */
  gpuSampleMs: Number(process.env.KEEL_GPU_SAMPLE_SECONDS ?? 60) * 1000,
  /** Consecutive samples at 0% on all of a job's GPUs before "GPU idle" fires. */
  gpuIdleSamples: Number(process.env.KEEL_ALERT_GPU_IDLE_SAMPLES ?? 5),
};

/** Tracks GPU utilization samples per job and raises "GPU idle" when a job's GPUs stay at 0%. */
export class GpuIdleWatch {
  private readonly lastSample = new Map<string, number>();
  private readonly idleCount = new Map<string, number>();

  due(hostName: string): boolean {
    return Date.now() - (this.lastSample.get(hostName) ?? 0) >= AlertSettings.gpuSampleMs;
  }

  /** `utilization`: GPU id (UUID, and index as a string) → percent, from nvidia-smi. */
  record(d: AlertDeps, hostName: string, jobs: Job[], utilization: Map<string, number>): void {
    this.lastSample.set(hostName, Date.now());
    for (const job of jobs) {
      if (job.state !== 'running' || job.gpuIds.length === 0) continue;
      const idle = job.gpuIds.every((g) => (utilization.get(g) ?? 0) === 0);
      const n = idle ? (this.idleCount.get(job.id) ?? 0) + 1 : 0;
      this.idleCount.set(job.id, n);
      if (n >= AlertSettings.gpuIdleSamples) {
        d.lifecycle.alert(job.runId, 'gpu_idle', 'warning', `GPU ${job.gpuIds.join(',')} on ${hostName} at 0% for ${n} samples in a row while the run is running`);
      }
    }
  }
}

const LOSS_KEYS = /^(loss|train_loss|train\/loss|eval_loss|eval\/loss)$/;

export function checkAlerts(d: AlertDeps, run: Run, job: Job, p: ProbedJob): void {
  const series = d.store.metrics.series(run.id);
  for (const s of series.filter((x) => LOSS_KEYS.test(x.key) && x.points > 0)) {
    if (s.lastValue === null || !Number.isFinite(s.lastValue)) {
      d.lifecycle.alert(run.id, 'loss_nan', 'error', `${s.key} became ${s.lastValue === null ? 'NaN' : String(s.lastValue)} at step ${s.lastStep ?? '?'}`);
    } else if (s.points >= 10 && s.min !== null && s.min > 0 && s.lastValue > AlertSettings.divergenceFactor * s.min) {
      d.lifecycle.alert(run.id, 'loss_diverging', 'warning', `${s.key} is ${s.lastValue.toPrecision(4)}, over ${AlertSettings.divergenceFactor}x its minimum ${s.min.toPrecision(4)}`);
    }
  }
  const started = job.startedAt ?? job.createdAt;
  const lastLog = d.lastLogGrowth.get(job.id) ?? started;
  const lastMetric = series.reduce((m, s) => Math.max(m, s.updatedAt ?? 0), 0);
  if (Date.now() - Math.max(lastLog, lastMetric, started) > AlertSettings.stalledMs) {
    d.lifecycle.alert(run.id, 'stalled', 'warning', `no new log line or metric for ${Math.round(AlertSettings.stalledMs / 60_000)} min`);
  }
  if (p.heartbeatAgeSeconds !== null && p.heartbeatAgeSeconds > AlertSettings.heartbeatStaleSeconds) {
    d.lifecycle.alert(run.id, 'heartbeat_stale', 'warning', `the job's wrapper has not written a heartbeat for ${Math.round(p.heartbeatAgeSeconds)} s (process alive: suspect, not killed)`);
  }
}

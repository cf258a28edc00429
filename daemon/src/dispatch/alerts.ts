/**
 * Alerts while a run is running: loss became NaN/Inf, loss diverging (above `factor` times
 * its running minimum), no new log line or metric for a while (stalled), and a heartbeat
 * gone stale while the process lives (suspect). Each fires once per run.
 */
import type { Run } from '../protocol/index.ts';
import type { Job } from '../store/jobs.ts';
import type { ProbedJob } from './remote/markers.ts';
import type { Dispatcher } from './dispatcher.ts';

export const AlertSettings = {
  divergenceFactor: Number(process.env.KEEL_ALERT_DIVERGENCE_FACTOR ?? 3),
  stalledMs: Number(process.env.KEEL_ALERT_STALLED_SECONDS ?? 15 * 60) * 1000,
  heartbeatStaleSeconds: Number(process.env.KEEL_ALERT_HEARTBEAT_SECONDS ?? 120),
};

const LOSS_KEYS = /^(loss|train_loss|train\/loss|eval_loss|eval\/loss)$/;

export function checkAlerts(d: Dispatcher, run: Run, job: Job, p: ProbedJob): void {
  const series = d.store.metrics.series(run.id);
  for (const s of series.filter((x) => LOSS_KEYS.test(x.key) && x.points > 0)) {
    if (s.lastValue === null || !Number.isFinite(s.lastValue)) {
      d.alert(run.id, 'loss_nan', 'error', `${s.key} became ${s.lastValue === null ? 'NaN' : String(s.lastValue)} at step ${s.lastStep ?? '?'}`);
    } else if (s.points >= 10 && s.min !== null && s.min > 0 && s.lastValue > AlertSettings.divergenceFactor * s.min) {
      d.alert(run.id, 'loss_diverging', 'warning', `${s.key} is ${s.lastValue.toPrecision(4)}, over ${AlertSettings.divergenceFactor}x its minimum ${s.min.toPrecision(4)}`);
    }
  }
  const started = job.startedAt ?? job.createdAt;
  const lastLog = d.logs.lastGrowth.get(job.id) ?? started;
  const lastMetric = series.reduce((m, s) => Math.max(m, s.updatedAt ?? 0), 0);
  if (Date.now() - Math.max(lastLog, lastMetric, started) > AlertSettings.stalledMs) {
    d.alert(run.id, 'stalled', 'warning', `no new log line or metric for ${Math.round(AlertSettings.stalledMs / 60_000)} min`);
  }
  if (p.heartbeatAgeSeconds !== null && p.heartbeatAgeSeconds > AlertSettings.heartbeatStaleSeconds) {
    d.alert(run.id, 'heartbeat_stale', 'warning', `the job's wrapper has not written a heartbeat for ${Math.round(p.heartbeatAgeSeconds)} s (process alive: suspect, not killed)`);
  }
}

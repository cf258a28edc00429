/**
 * How a run looks in the Runs view: icon, one-line description, tooltip and the context
 * value menus key on. Pure (no vscode): icons are codicon ids and theme colour ids.
 */
import type { Run, RunSummary } from '../../../daemon/src/protocol/index.ts';
import { ago, duration, formatValue, plural } from '../format.ts';
import { groupOf, pendingOnSlurm } from './grouping.ts';

import { overridesNote, overridesOf } from './run-overrides.ts';
import { mdCode, mdText } from '../lineage/markdown.ts';

/** A codicon and an optional theme colour id. */
export interface IconSpec {
  id: string;
  color?: string;
}

export function runIcon(run: Run): IconSpec {
  if (run.unreachableSince !== null && groupOf(run.status) !== 'recent') return { id: 'debug-disconnect', color: 'list.warningForeground' };
  if (pendingOnSlurm(run)) return { id: 'clock' };
  switch (run.status) {
    case 'queued': return { id: 'clock' };
    case 'syncing':
    case 'starting': return { id: 'loading~spin' };
    case 'running': return { id: 'sync~spin', color: 'charts.blue' };
    case 'incomplete': return { id: 'warning', color: 'list.warningForeground' };
    case 'succeeded': return { id: 'pass', color: 'testing.iconPassed' };
    case 'failed': return { id: 'error', color: 'testing.iconFailed' };
    case 'cancelled': return { id: 'circle-slash' };
    case 'lost': return { id: 'question', color: 'list.warningForeground' };
  }
}

/**
 * Menus key on this: `keel.run.active` (cancel, logs), `keel.run.queued` (cancel),
 * `keel.run.ended` (rerun, logs, pull, delete), `keel.run.incomplete` (logs, pull, delete;
 * `keel import` resumes it). All start with `keel.run` (compare).
 */
export function runContextValue(run: Run): string {
  if (run.status === 'incomplete') return 'keel.run.incomplete';
  const g = groupOf(run.status);
  return g === 'running' ? 'keel.run.active' : g === 'queued' ? 'keel.run.queued' : 'keel.run.ended';
}

/**
 * "step 120 · loss 0.4312 · local", the live part first so a narrow sidebar still shows it
 * (the group and the spinning icon already say "running"). The loss carries its own step
 * when it lags the latest one ("loss 0.43 @20"), so the two numbers never mix sources.
 */
function progress(run: RunSummary): string[] {
  const parts: string[] = [];
  if (run.lastStep !== null) parts.push(`step ${run.lastStep}`);
  if (run.lastLoss !== null || run.lastStep !== null) {
    const lossStep = run.lastLossStep ?? null;
    const at = lossStep !== null && lossStep !== run.lastStep ? ` @${lossStep}` : '';
    parts.push(`loss ${formatValue(run.lastLoss)}${at}`);
  }
  return parts;
}

/**
 * The one-line description: status (with when and why), progress, host, and overrides the
 * name does not show. A run Slurm holds pending shows Slurm's reason in place of its status
 * ("queued on Slurm (Resources)"); another waiting run shows why it waits after its status.
 */
export function runDescription(run: RunSummary, now: number = Date.now()): string {
  const parts: string[] = [];
  const g = groupOf(run.status);
  if (run.status === 'incomplete') parts.push(`incomplete${run.statusReason ? `: ${run.statusReason}` : ''}`);
  else if (pendingOnSlurm(run)) parts.push(run.statusReason ?? run.status);
  else if (run.status !== 'running' && g !== 'recent' && run.statusReason) parts.push(`${run.status}: ${run.statusReason}`);
  else if (g === 'recent') parts.push(`${run.status} ${ago(run.endedAt ?? run.updatedAt, now)}`);
  else if (run.status !== 'running') parts.push(run.status);
  if (run.status === 'failed' && run.exitCode !== null) parts.push(`exit ${run.exitCode}`);
  if (g === 'running') parts.push(...progress(run));
  if (run.hostName) parts.push(run.hostName);
  if (run.unreachableSince !== null && g !== 'recent') parts.push(`host unreachable for ${duration(now - run.unreachableSince)}`);
  if (g !== 'running') parts.push(...progress(run));
  const note = overridesNote(run);
  if (note) parts.push(note);
  return parts.join(' · ');
}

/** A Markdown tooltip with what the description leaves out. */
export function runTooltip(run: RunSummary, now: number = Date.now()): string {
  const lines = [`**${mdText(run.name)}** — ${run.status}${run.exitCode !== null && run.status === 'failed' ? ` (exit ${run.exitCode})` : ''}${run.statusReason ? `: ${mdText(run.statusReason)}` : ''}`, ''];
  lines.push(`id \`${run.id}\` · ${run.kind === 'eval' ? 'eval of a checkpoint' : run.source}${run.hostName ? ` on ${run.hostName}` : ''}${run.gpus ? ` · ${plural(run.gpus, 'GPU')}` : ''}`);
  const overrides = overridesOf(run);
  if (overrides.length) lines.push('', `overrides: ${overrides.map(mdCode).join(' ')}`);
  const p = progress(run);
  if (p.length) lines.push('', p.join(' · '));
  if (run.startedAt !== null) lines.push('', `started ${ago(run.startedAt, now)}${run.endedAt !== null ? `, took ${duration(run.endedAt - run.startedAt)}` : ''}`);
  if (run.alerts > 0) lines.push('', `⚠ ${plural(run.alerts, 'alert')}`);
  if (run.outputDir) lines.push('', `output: ${mdCode(run.outputDir)}`);
  return lines.join('\n');
}

/** The badge text for a run's alerts ("3", "9+"): file decorations allow two characters. */
export function alertBadge(alerts: number): string | undefined {
  if (alerts <= 0) return undefined;
  return alerts > 9 ? '9+' : String(alerts);
}

/**
 * How a run looks in the Runs view: icon, one-line description, tooltip and the context
 * value menus key on. Pure (no vscode): icons are codicon ids and theme colour ids.
 */
import type { Run, RunSummary } from '../../../daemon/src/protocol/index.ts';
import { ago, duration, formatValue } from '../format.ts';
import { groupOf } from './grouping.ts';

/** A codicon and an optional theme colour id. */
export interface IconSpec {
  id: string;
  color?: string;
}

export function runIcon(run: Run): IconSpec {
  if (run.unreachableSince !== null && groupOf(run.status) !== 'recent') return { id: 'debug-disconnect', color: 'list.warningForeground' };
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

/** "running · local · step 120 · loss 0.4312" / "failed 5 min ago · exit 3". */
export function runDescription(run: RunSummary, now: number = Date.now()): string {
  const parts: string[] = [];
  const g = groupOf(run.status);
  if (run.status === 'incomplete') parts.push(`incomplete${run.statusReason ? `: ${run.statusReason}` : ''}`);
  else if (g === 'recent') parts.push(`${run.status} ${ago(run.endedAt ?? run.updatedAt, now)}`);
  else parts.push(run.status);
  if (run.hostName) parts.push(run.hostName);
  if (run.unreachableSince !== null && g !== 'recent') parts.push(`host unreachable for ${duration(now - run.unreachableSince)}`);
  if (run.lastStep !== null) parts.push(`step ${run.lastStep}`);
  if (run.lastLoss !== null || run.lastStep !== null) parts.push(`loss ${formatValue(run.lastLoss)}`);
  if (run.status === 'failed' && run.exitCode !== null) parts.push(`exit ${run.exitCode}`);
  return parts.join(' · ');
}

/** A Markdown tooltip with what the description leaves out. */
export function runTooltip(run: RunSummary, now: number = Date.now()): string {
  const lines = [`**${run.name}** — ${run.status}${run.statusReason ? `: ${run.statusReason}` : ''}`, ''];
  lines.push(`id \`${run.id}\` · ${run.source}${run.hostName ? ` on ${run.hostName}` : ''}${run.gpus ? ` · ${run.gpus} GPU${run.gpus === 1 ? '' : 's'}` : ''}`);
  if (run.startedAt !== null) lines.push('', `started ${ago(run.startedAt, now)}${run.endedAt !== null ? `, took ${duration(run.endedAt - run.startedAt)}` : ''}`);
  if (run.alerts > 0) lines.push('', `⚠ ${run.alerts} alert${run.alerts === 1 ? '' : 's'}`);
  if (run.outputDir) lines.push('', `output: \`${run.outputDir}\``);
  return lines.join('\n');
}

/** The badge text for a run's alerts ("3", "9+"): file decorations allow two characters. */
export function alertBadge(alerts: number): string | undefined {
  if (alerts <= 0) return undefined;
  return alerts > 9 ? '9+' : String(alerts);
}

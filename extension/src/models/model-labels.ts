/** How a model alias and its history read in the Models view. Pure. */
import type { ModelAliasInfo } from '../../../daemon/src/protocol/index.ts';
import { ago, formatBytes } from '../format.ts';
import { checkpointLabel } from '../runs/run-details.ts';

/** What the view knows of an earlier checkpoint of an alias (from lineage/resolve). */
export interface CheckpointFacts {
  location: string;
  step: number | null;
  runId: string | null;
  runName: string | null;
}

/** `→ step 250 · baseline · full · 48.0 KB · 2 h ago`: the checkpoint and the run that made it first. */
export function aliasDescription(m: ModelAliasInfo, runName: string | null, now = Date.now()): string {
  const c = m.checkpoint;
  if (!c) return '→ (checkpoint gone)';
  return [`→ ${checkpointLabel(c)}`, runName ?? (c.runId ? c.runId : 'no run'), c.kind !== 'unknown' ? c.kind : '', formatBytes(c.sizeBytes), ago(m.updatedAt, now)].filter(Boolean).join(' · ');
}

export function aliasTooltip(m: ModelAliasInfo, runName: string | null): string {
  const c = m.checkpoint;
  if (!c) return `${m.alias}: its checkpoint is no longer recorded`;
  return [`${m.alias} → ${c.location}`, runName ? `made by run ${runName}` : '', c.hash ?? '', c.baseModel ? `base model: ${c.baseModel}` : '', m.history.length > 1 ? `${m.history.length - 1} earlier target${m.history.length === 2 ? '' : 's'}: expand to roll back` : '']
    .filter(Boolean).join('\n');
}

/** `was step 50 (baseline)`, or the checkpoint id when nothing more is known. */
export function historyLabel(entry: ModelAliasInfo['history'][number], facts: CheckpointFacts | null): string {
  if (!facts) return `was ${entry.checkpointId}`;
  const folder = facts.location.replace(/\/+$/, '').split('/').pop() ?? facts.location;
  const what = facts.step === null ? folder : folder === `checkpoint-${facts.step}` ? `step ${facts.step}` : `step ${facts.step} (${folder})`;
  return `was ${what}${facts.runName ? ` · ${facts.runName}` : ''}`;
}

/** The checkpoint an alias pointed at before its current one (what Roll Back restores), if any. */
export function previousTarget(m: ModelAliasInfo): string | undefined {
  const history = [...m.history].sort((a, b) => b.at - a.at);
  const current = m.checkpoint?.id ?? history[0]?.checkpointId;
  return history.find((e) => e.checkpointId !== current)?.checkpointId;
}

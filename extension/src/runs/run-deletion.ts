/**
 * What "Delete Run" says: the modal question naming the run and what is removed (and what
 * is kept), and the summary afterwards. Pure (no vscode), so it is unit-tested.
 */
import type { ResultOf, Run } from '../../../daemon/src/protocol/index.ts';
import { groupOf } from './grouping.ts';
import { plural } from '../format.ts';

/** Runs the Delete Run command offers: not queued or on their way (the daemon refuses those without force). */
export function isDeletable(run: Pick<Run, 'status'>): boolean {
  return groupOf(run.status) === 'recent';
}

/** The modal confirmation: the run, what goes, what stays. */
export function deleteConfirmation(run: Pick<Run, 'name' | 'id' | 'outputDir' | 'source'>): { message: string; detail: string } {
  const folder = run.outputDir && run.source !== 'launch'
    ? ` Keel will no longer track its output folder ${run.outputDir} (import it again to bring it back).`
    : '';
  return {
    message: `Delete run ${run.name}?`,
    detail: `Keel removes the run's record (${run.id}): its metrics, params, events, jobs, checkpoint records, the evals of those checkpoints and its lineage. ` +
      `Files on disk — checkpoints, logs, the output folder — are kept.${folder} This cannot be undone.`,
  };
}

/** The notice after a deletion. */
export function deletedMessage(r: ResultOf['runs/delete']): string {
  const x = r.removed;
  const parts = [plural(x.metricPoints, 'metric point')];
  if (x.checkpoints > 0) parts.push(plural(x.checkpoints, 'checkpoint record'));
  if (x.evals > 0) parts.push(plural(x.evals, 'eval result'));
  const folder = r.untrackedOutput ? ` Its output folder is no longer tracked: \`keel import ${r.untrackedOutput}\` brings it back.` : '';
  return `Deleted run ${r.run.name} (${parts.join(', ')}); files on disk are kept.${folder}`;
}

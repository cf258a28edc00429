/**
 * A run's `--set` overrides as people read them beside its name: in the Runs view, tooltips,
 * pickers and the run page. Pure. A default name already spells them (`lora · lr=0.01`), so
 * they are shown only when the name does not.
 */
import type { RunSummary } from '../../../daemon/src/protocol/index.ts';

/** The overrides of a run (none for watched and imported runs, and from daemons that do not say). */
export function overridesOf(run: Pick<RunSummary, 'overrides'>): string[] {
  return run.overrides ?? [];
}

/** The value an override sets (`lr=0.01` → `0.01`; a removal `~key` → `~key`). */
function valueOf(override: string): string {
  const eq = override.indexOf('=');
  return eq < 0 ? override : override.slice(eq + 1);
}

/** True when the name already shows every override's value (a default name does). */
export function nameShowsOverrides(run: Pick<RunSummary, 'name' | 'overrides'>): boolean {
  return overridesOf(run).every((o) => run.name.includes(valueOf(o).split('/').pop() ?? ''));
}

/** `learning_rate=0.01 lora_r=16`, or '' when the name already says it or there are none. */
export function overridesNote(run: Pick<RunSummary, 'name' | 'overrides'>): string {
  return nameShowsOverrides(run) ? '' : overridesOf(run).join(' ');
}

/**
 * The legend above the charts: each run's colour, its name and what sets it apart from the
 * other runs (the params that differ), and, when a chart pairs train and eval curves, which
 * line is which. Said once for every chart, so each chart keeps its room for the curves.
 */
import type { RunComparison } from '../../daemon/src/protocol/domain.ts';
import { h } from './dom.ts';
import { formatParam, runStyle } from './format.ts';

/** Params that differ between any two runs without saying anything about them (paths, names). */
const NOT_TELLING = /(^|\.)(output_dir|logging_dir|run_name|hub_model_id|resume_from_checkpoint|save_dir|output_path|wandb_run_name|wandb_run_id)$/;

/** How many differing params a legend entry names before "+N more". */
const MAX_PARAMS = 3;

/** `learning_rate=0.2, warmup_steps=20` for a run, and how many more differing params there are. */
export function runOverrides(c: RunComparison, runId: string, max = MAX_PARAMS): { text: string; more: number } {
  if (c.runs.length < 2) return { text: '', more: 0 };
  const telling = c.params.differ.filter((d) => !NOT_TELLING.test(d.key));
  const parts = telling.slice(0, max).map((d) => `${d.key}=${formatParam(d.values[runId])}`);
  return { text: parts.join(', '), more: Math.max(0, telling.length - max) };
}

/** A short sample of a line: solid for train, dashed for eval, in the run's colour. */
function lineSample(colorIndex: number, role: 'train' | 'eval', dotted: boolean): HTMLElement {
  return h('span', { class: `line-sample c${colorIndex} ${role}${dotted ? ' dotted' : ''}`, attrs: { 'aria-hidden': 'true' } });
}

/** Renders the legend (runs in comparison order); `paired` adds the train/eval key. */
export function runLegend(c: RunComparison, runIndex: (runId: string) => number, paired: boolean): HTMLElement {
  const items = c.runs.map((run) => {
    const st = runStyle(runIndex(run.id));
    const { text, more } = runOverrides(c, run.id);
    const params = text ? `${text}${more ? ` +${more} more` : ''}` : '';
    return h('li', { class: 'legend-run', attrs: { 'data-run': run.id } },
      lineSample(st.colorIndex, 'train', st.dotted),
      h('span', { class: 'legend-name', text: run.name }),
      params ? h('span', { class: 'legend-params muted', text: params }) : null);
  });
  const key = paired
    ? h('li', { class: 'legend-key muted' }, lineSample(-1, 'train', false), 'train', lineSample(-1, 'eval', false), 'eval')
    : null;
  return h('ul', { class: 'chart-legend', attrs: { 'aria-label': 'Runs in the charts' } }, ...items, key);
}

/**
 * What a metric key means, read from the names Hugging Face's Trainer (and TRL) write: which
 * eval key measures the same quantity as which train key, which keys are end-of-run summary
 * values rather than curves, and how useful a key usually is. Pure, one function each, so
 * the daemon's canonical keys and summary flag can replace them without touching the views.
 */
import { isTerminal, type RunComparison } from '../../daemon/src/protocol/domain.ts';

type MetricRow = RunComparison['metrics'][number];

/** HF Trainer's end-of-run summary keys: its last log entry and `train_results.json`. */
export const HfSummaryKeys: ReadonlySet<string> = new Set([
  'train_runtime', 'train_samples_per_second', 'train_steps_per_second', 'train_tokens_per_second',
  'total_flos', 'train_loss', 'train_samples', 'train_tokens',
]);

/** The last step any metric of each run reached (its final step, for a finished run). */
function finalSteps(comparison: RunComparison): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of comparison.metrics) {
    for (const [runId, s] of Object.entries(m.perRun)) {
      if (s?.lastStep !== null && s?.lastStep !== undefined) out.set(runId, Math.max(out.get(runId) ?? -Infinity, s.lastStep));
    }
  }
  return out;
}

/**
 * The keys that are end-of-run summary values, not curves: every run logging the key logged
 * it once, at its final step, and the key is an HF summary key — or the run has finished
 * (HF's `perplexity` from eval_results.json: one number per run reads better in a table
 * than as a dot; a live run's first eval is the start of a curve). A script that logs
 * `train_loss` every step keeps its curve. The daemon will say this itself; this function
 * is then its only reader.
 */
export function summaryValueKeys(comparison: RunComparison): Set<string> {
  const last = finalSteps(comparison);
  const finished = new Set(comparison.runs.filter((r) => isTerminal(r.status)).map((r) => r.id));
  const isSummary = (m: MetricRow): boolean => {
    const logged = Object.entries(m.perRun).filter(([, s]) => s !== null && s.points > 0);
    const once = logged.length > 0 && logged.every(([runId, s]) => s?.points === 1 && s.lastStep === last.get(runId));
    return once && (HfSummaryKeys.has(m.key) || logged.every(([runId]) => finished.has(runId)));
  };
  return new Set(comparison.metrics.filter(isSummary).map((m) => m.key));
}

/** One chart's keys: a train key and the eval key of the same quantity, or a key on its own. */
export interface MetricGroup {
  /** Stable id: the train key of a pair, else the key. */
  id: string;
  /** Train key first, then its eval key. */
  keys: string[];
  train: string | null;
  eval: string | null;
}

/** The train keys an eval key may pair with, most likely first (HF and TRL naming). */
function trainCandidates(evalKey: string): string[] {
  const under = /^eval_(.+)$/.exec(evalKey)?.[1];
  if (under !== undefined) return [under, `train_${under}`, `train/${under}`];
  const slash = /^eval\/(.+)$/.exec(evalKey)?.[1];
  if (slash !== undefined) return [`train/${slash}`, slash, `train_${slash}`];
  return [];
}

const isEvalKey = (key: string): boolean => /^eval[_/]/.test(key);

/**
 * Groups keys into charts: `loss` ↔ `eval_loss`, `train/loss` ↔ `eval/loss`, `X` ↔ `eval_X`
 * share one chart when both exist; every other key has its own. Groups come in key order
 * (of the train key, or the key).
 */
export function trainEvalGroups(keys: Iterable<string>): MetricGroup[] {
  const all = new Set(keys);
  const partnerOf = new Map<string, string>();
  const taken = new Set<string>();
  for (const key of [...all].sort()) {
    if (!isEvalKey(key)) continue;
    const train = trainCandidates(key).find((k) => all.has(k) && !isEvalKey(k) && !taken.has(k));
    if (train === undefined) continue;
    partnerOf.set(train, key);
    taken.add(train).add(key);
  }
  const groups: MetricGroup[] = [];
  for (const key of [...all].sort()) {
    const evalKey = partnerOf.get(key);
    if (evalKey !== undefined) groups.push({ id: key, keys: [key, evalKey], train: key, eval: evalKey });
    else if (!taken.has(key)) groups.push({ id: key, keys: [key], train: isEvalKey(key) ? null : key, eval: isEvalKey(key) ? key : null });
  }
  return groups;
}

/** Throughput and bookkeeping keys: rarely what a person compares runs by. */
const BOOKKEEPING = /(^|[/_])(runtime|samples_per_second|steps_per_second|tokens_per_second|total_flos|flos|epoch|step|num_tokens|samples|mem_.*delta)$/;

/** The families of keys, most useful first; the metric picker lists them under these names. */
export const MetricFamilies = ['Losses', 'Eval metrics', 'Quality', 'Training signals', 'Other', 'Throughput and bookkeeping'] as const;
export type MetricFamily = (typeof MetricFamilies)[number];

/** Which family a key belongs to (its rank is the family's place in MetricFamilies). */
export function metricFamily(key: string): MetricFamily {
  if (/loss/i.test(key) && !BOOKKEEPING.test(key)) return 'Losses';
  if (/^(eval|test|validation|val)[_/]/.test(key) && !BOOKKEEPING.test(key)) return 'Eval metrics';
  if (/accuracy|acc\b|reward|perplexity|ppl|bleu|rouge|f1|wer|cer|kl\b/i.test(key)) return 'Quality';
  if (/learning_rate|(^|[/_])lr$|grad_norm/.test(key)) return 'Training signals';
  if (BOOKKEEPING.test(key)) return 'Throughput and bookkeeping';
  return 'Other';
}

/** Families shown without being picked: what a person compares runs by first. */
const DEFAULT_FAMILIES: ReadonlySet<MetricFamily> = new Set(['Losses', 'Eval metrics', 'Quality', 'Training signals']);

/** A group's family: its most useful key's. */
export function groupFamily(g: MetricGroup): MetricFamily {
  const ranks = g.keys.map((k) => MetricFamilies.indexOf(metricFamily(k)));
  return MetricFamilies[Math.min(...ranks)] ?? 'Other';
}

/** Whether a chart is drawn when the user has picked none. */
export function isDefaultGroup(g: MetricGroup): boolean {
  return DEFAULT_FAMILIES.has(groupFamily(g));
}

/** Display order: family, then plain `loss` before other losses, then by id. */
export function groupOrder(a: MetricGroup, b: MetricGroup): number {
  const fam = MetricFamilies.indexOf(groupFamily(a)) - MetricFamilies.indexOf(groupFamily(b));
  if (fam !== 0) return fam;
  const plain = (g: MetricGroup): number => (/^(train[_/])?loss$/.test(g.id) ? 0 : 1);
  return plain(a) - plain(b) || a.id.localeCompare(b.id);
}

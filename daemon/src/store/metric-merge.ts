/**
 * Two files, one reading: how a value for a (series, step) already stored meets the same
 * quantity read from another file (trainer_state.json's `loss` at step 20 and the event
 * file's `train/loss` at step 20). One point stays, chosen by precision: a float64 reading
 * beats a float32 one (TensorBoard's `simple_value`). A reading from the same kind of file
 * replaces the stored one (a rewritten trainer_state.json, a resumed run logging the step
 * again). When two different files disagree beyond float32 rounding, the higher-precision
 * value is kept and the disagreement is reported.
 */
import { sameReading } from '../track/formats/metric-names.ts';

/** A stored reading: `value` null is NaN (SQLite stores NaN as NULL); `bits`/`source` null on rows from before they were kept. */
export interface StoredReading {
  value: number | null;
  bits: number | null;
  source: number | null;
}

/** A new reading of the same (series, step). */
export interface NewReading {
  value: number;
  bits: number;
  source: number;
}

/** What to do with a new reading. */
export interface MergeDecision {
  /** Store the new value (else keep the stored one). */
  replace: boolean;
  /** Two different files disagree beyond float32 rounding. */
  disagree: boolean;
}

/** Precision of a reading whose precision was not recorded: values came from JSON or text, i.e. float64. */
export const DEFAULT_BITS = 64;

/** The rule of the module comment. */
export function mergeReading(stored: StoredReading, next: NewReading): MergeDecision {
  if (stored.source === null || stored.source === next.source) return { replace: true, disagree: false };
  const old = stored.value === null ? NaN : stored.value;
  const disagree = !sameReading(old, next.value);
  return { replace: next.bits > (stored.bits ?? DEFAULT_BITS), disagree };
}

/** One disagreement between two files, for the ingest's issue list. */
export interface Disagreement {
  key: string;
  step: number | null;
  kept: number;
  keptSource: number | null;
  dropped: number;
  droppedSource: number;
}

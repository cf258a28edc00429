/**
 * Hugging Face Trainer `trainer_state.json` (also written by TRL, Axolotl, LLaMA-Factory,
 * Unsloth). It is rewritten whole at every save and is the one metrics file that is always
 * there, so every field is optional and one odd `log_history` entry never loses the rest.
 *
 * The rules live in the streaming reader (trainer-state-stream.ts), which the daemon runs
 * over the file in a parse worker; {@link parseTrainerState} is that reader fed one string.
 */
import { TrainerStateReader, type TrainerStateFacts } from './trainer-state-stream.ts';
import type { ParsedPoint } from './types.ts';

export { lastPathSegment } from './trainer-state-stream.ts';

/** What a `trainer_state.json` says about its run. Every field may be missing. */
export interface TrainerState extends TrainerStateFacts {
  /**
   * One point per numeric key per `log_history` entry (`loss`, `learning_rate`, `grad_norm`,
   * `eval_loss`, `eval_<set>_<metric>`, TRL keys like `rewards/x/mean`, and `epoch` as a series
   * of its own). Unique on (step, key): a later entry overrides an earlier one.
   */
  points: ParsedPoint[];
}

/**
 * Parses `trainer_state.json` text. Throws {@link FormatError} only when the whole file is
 * unusable: not JSON (`E_TRUNCATED` / `E_MALFORMED`) or JSON that is not an object (`E_SHAPE`).
 */
export function parseTrainerState(text: string, source?: string): TrainerState {
  const byStepKey = new Map<string, ParsedPoint>();
  const reader = new TrainerStateReader({
    ...(source === undefined ? {} : { source }),
    onPoint: (step, key, value) => {
      const id = `${step}\u0000${key}`;
      const existing = byStepKey.get(id);
      if (existing) existing.value = value;
      else byStepKey.set(id, { step, key, value });
    },
  });
  reader.push(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const facts = reader.end();
  return { points: [...byStepKey.values()], ...facts };
}

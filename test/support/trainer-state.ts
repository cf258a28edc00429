/**
 * Test support: a large trainer_state.json written the way the HF Trainer writes it
 * (`json.dumps(state, indent=2, sort_keys=True)`: keys sorted, so `global_step` comes before
 * `log_history` and `max_steps`/`stateful_callbacks` after it; Python's NaN as a bare
 * literal), streamed to disk so a multi-GB file never sits in the test's memory.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/** What the generated file holds. */
export interface TrainerStateSpec {
  /** log_history entries, steps 1…entries. */
  entries: number;
  /** Numeric keys per entry besides `step`; default loss and learning_rate. */
  keys?: string[];
  /** Every n-th entry has `grad_norm: NaN` (0: never). */
  nanEvery?: number;
  /** End with a `train_runtime` summary entry and should_training_stop true. */
  finished?: boolean;
}

/** The value the generated file holds for `key` at `step` (grad_norm NaN every `nanEvery`). */
export function valueAt(key: string, step: number, nanEvery = 0): number {
  if (key === 'grad_norm' && nanEvery > 0 && step % nanEvery === 0) return NaN;
  if (key === 'loss') return 10 / Math.sqrt(step);
  if (key === 'learning_rate') return 2e-5 * (1 - step / 1e7);
  if (key === 'epoch') return step / 1000;
  return (step % 997) / 97;
}

function pyNumber(value: number): string {
  return Number.isNaN(value) ? 'NaN' : value === Infinity ? 'Infinity' : value === -Infinity ? '-Infinity' : JSON.stringify(value);
}

/** Writes the file; returns its size in bytes. */
export function writeTrainerState(path: string, spec: TrainerStateSpec): number {
  const keys = [...(spec.keys ?? ['loss', 'learning_rate'])].sort();
  const fd = openSync(path, 'w');
  let bytes = 0;
  let pending = '';
  const out = (text: string): void => {
    pending += text;
    if (pending.length >= 1 << 20) flush();
  };
  const flush = (): void => {
    bytes += writeSync(fd, pending);
    pending = '';
  };
  try {
    out(`{\n  "best_global_step": null,\n  "best_metric": null,\n  "best_model_checkpoint": null,\n  "epoch": ${spec.entries / 1000},\n  "eval_steps": 500,\n`);
    out(`  "global_step": ${spec.entries},\n  "is_hyper_param_search": false,\n  "is_local_process_zero": true,\n  "is_world_process_zero": true,\n  "log_history": [\n`);
    for (let step = 1; step <= spec.entries; step++) {
      const fields = keys.map((key) => `      "${key}": ${pyNumber(valueAt(key, step, spec.nanEvery))}`);
      out(`    {\n${fields.join(',\n')},\n      "step": ${step}\n    }${step < spec.entries || spec.finished ? ',' : ''}\n`);
    }
    if (spec.finished) out(`    {\n      "epoch": ${spec.entries / 1000},\n      "step": ${spec.entries},\n      "total_flos": 1.5e+17,\n      "train_loss": 0.75,\n      "train_runtime": 3600.5\n    }\n`);
    out(`  ],\n  "logging_steps": 1,\n  "max_steps": ${spec.entries},\n  "num_input_tokens_seen": 0,\n  "num_train_epochs": 1,\n  "save_steps": 500,\n`);
    out(`  "stateful_callbacks": {\n    "TrainerControl": {\n      "args": {\n        "should_epoch_stop": false,\n        "should_evaluate": false,\n        "should_log": false,\n        "should_save": true,\n        "should_training_stop": ${spec.finished ? 'true' : 'false'}\n      },\n      "attributes": {}\n    }\n  },\n`);
    out(`  "total_flos": 1.5e+17,\n  "train_batch_size": 8,\n  "trial_name": null,\n  "trial_params": null\n}\n`);
    flush();
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/**
 * Which training tool a config was written for, judged by keys only that tool uses — never a
 * guess: a config that shows no tool's distinctive keys, or the keys of two tools, is a plain
 * YAML/JSON config (flavor `unknown`, shown as "YAML config").
 *
 * - torchtune: `_component_` builders (or a `checkpointer` block);
 * - Axolotl: two of its own keys (`base_model` counts only with one of them: plain Trainer
 *   scripts use `base_model` too);
 * - TRL: one of its SFT/DPO/GRPO config keys with a TrainingArguments key, or two of its keys;
 * - HF TrainingArguments (and the example scripts' data keys): two of their keys.
 */
import { isConfigObject, type ConfigFlavor, type ConfigFormat } from './types.ts';

/** Keys Axolotl uses that the HF Trainer, TRL and torchtune do not. */
const AXOLOTL_KEYS = [
  'micro_batch_size', 'sequence_len', 'num_epochs', 'val_set_size', 'dataset_prepared_path', 'sample_packing', 'eval_sample_packing',
  'pad_to_sequence_len', 'lora_model_dir', 'lora_target_linear', 'adapter', 'train_on_inputs', 'flash_attention', 'special_tokens',
  'tokenizer_type', 'test_datasets', 'pretraining_dataset', 'wandb_project', 'wandb_entity', 'mlflow_experiment_name', 'strict', 'rl',
  'lr_scheduler', 'optimizer', 'gradient_checkpointing_kwargs', 'early_stopping_patience', 'load_in_4bit', 'revision_of_model',
];

/** TrainingArguments and HF example-script keys that Axolotl spells differently. */
const HF_KEYS = [
  'model_name_or_path', 'per_device_train_batch_size', 'per_device_eval_batch_size', 'num_train_epochs', 'lr_scheduler_type',
  'eval_strategy', 'evaluation_strategy', 'save_strategy', 'logging_strategy', 'train_file', 'validation_file', 'dataset_name',
  'report_to', 'do_train', 'do_eval', 'overwrite_output_dir', 'use_cpu', 'metric_for_best_model', 'load_best_model_at_end',
  'dataloader_num_workers', 'optim', 'model_revision',
];

/** TRL trainer config keys (SFTConfig, DPOConfig, GRPOConfig…) that neither the Trainer nor Axolotl use. */
const TRL_KEYS = [
  'dataset_text_field', 'packing', 'max_seq_length', 'completion_only_loss', 'assistant_only_loss', 'max_prompt_length',
  'max_completion_length', 'num_generations', 'padding_free', 'dataset_num_proc', 'use_vllm', 'model_init_kwargs', 'eval_packing',
  'generation_batch_size', 'dataset_kwargs',
];

function hits(keys: readonly string[], data: Record<string, unknown>): number {
  return keys.filter((key) => key in data).length;
}

/** The flavor of a parsed config (see the module comment). */
export function detectFlavor(data: unknown): ConfigFlavor {
  if (!isConfigObject(data)) return 'unknown';
  const hasComponent = Object.keys(data).some((key) => {
    const value = data[key];
    return isConfigObject(value) && '_component_' in value;
  });
  if (hasComponent || isConfigObject(data.checkpointer)) return 'torchtune';
  const axolotl = hits(AXOLOTL_KEYS, data) + (hits(AXOLOTL_KEYS, data) > 0 && 'base_model' in data ? 1 : 0);
  const hf = hits(HF_KEYS, data);
  const trl = hits(TRL_KEYS, data);
  const candidates: ConfigFlavor[] = [];
  if (axolotl >= 2) candidates.push('axolotl');
  if ((trl >= 1 && hf >= 1) || trl >= 2) candidates.push('trl');
  else if (hf >= 2) candidates.push('hf');
  return candidates.length === 1 ? (candidates[0] as ConfigFlavor) : 'unknown';
}

/** How a flavor is named to people: "Axolotl config", "HF TrainingArguments config", "YAML config". */
export function flavorLabel(flavor: string, format: ConfigFormat): string {
  switch (flavor) {
    case 'axolotl': return 'Axolotl config';
    case 'torchtune': return 'torchtune config';
    case 'hf': return 'HF TrainingArguments config';
    case 'trl': return 'TRL config';
    default: return `${format === 'json' ? 'JSON' : 'YAML'} config`;
  }
}

/**
 * Which training tool a config was written for, judged by the keys only that tool uses.
 */
import { isConfigObject, type ConfigFlavor } from './types.ts';

/** Keys Axolotl uses that the HF Trainer and torchtune do not. */
const AXOLOTL_KEYS = [
  'base_model',
  'micro_batch_size',
  'sequence_len',
  'num_epochs',
  'val_set_size',
  'dataset_prepared_path',
  'sample_packing',
  'lora_model_dir',
  'lora_target_linear',
];

/** TrainingArguments / HF example-script keys that Axolotl spells differently. */
const HF_KEYS = [
  'model_name_or_path',
  'per_device_train_batch_size',
  'per_device_eval_batch_size',
  'num_train_epochs',
  'lr_scheduler_type',
  'eval_strategy',
  'evaluation_strategy',
  'save_strategy',
  'train_file',
  'validation_file',
  'dataset_name',
];

/**
 * The flavor of a parsed config. torchtune is recognised by `_component_` builders (or a
 * `checkpointer`), Axolotl by `base_model` or two of its own keys, HF by TrainingArguments keys.
 */
export function detectFlavor(data: unknown): ConfigFlavor {
  if (!isConfigObject(data)) return 'unknown';
  const keys = Object.keys(data);
  const hasComponent = keys.some((key) => {
    const value = data[key];
    return isConfigObject(value) && '_component_' in value;
  });
  if (hasComponent || isConfigObject(data.checkpointer)) return 'torchtune';
  const axolotlHits = AXOLOTL_KEYS.filter((key) => key in data).length;
  if ('base_model' in data || axolotlHits >= 2) return 'axolotl';
  if (HF_KEYS.some((key) => key in data)) return 'hf';
  return 'unknown';
}

/**
 * The keel.yaml that `keel init` writes: working defaults for the common folder layout, and
 * commented examples for the parts only the user can know (how their training starts).
 */
import { stringify } from 'yaml';

/** A commented keel.yaml for a project called `name`; it parses with no errors or warnings. */
export function projectFileTemplate(name: string): string {
  // stringify quotes the name when YAML would misread it ("2024", "a: b", "#1").
  const quotedName = stringify(name.trim() === '' ? 'my-project' : name.trim(), { lineWidth: 0 }).trimEnd();
  return `# Keel project file. Keel reads it to know what to track in this folder and how to
# launch training and evals. Paths are globs relative to this file's folder:
# "*" matches within one folder name, "**" matches any number of folders.
# Quote a glob that starts with "*" ("**/x"): YAML reads an unquoted *word as an alias.

# Shown in Keel's views.
name: ${quotedName}

# Datasets to track. Each match, a file or a whole folder, is one dataset; when its
# content changes, Keel records a new version (by content hash) and profiles it.
datasets:
  - data/*.jsonl
  # - data/*.csv
  # - data/images/          # a folder counts as one dataset

# Training configs: Axolotl, torchtune or HF TrainingArguments files (YAML or JSON).
# Keel records each by content hash, flattens it to params for comparison, and reads
# the base model, datasets and output_dir from it.
configs:
  - configs/*.yaml
  - configs/*.yml

# Run output folders, one per run (a Trainer output_dir, a torchtune output_dir).
# Keel reads metrics (trainer_state.json, TensorBoard events, torchtune logs) and finds
# checkpoints in them.
outputs:
  - outputs/*

# Eval result files, e.g. lm-evaluation-harness results_*.json.
evals:
  - evals/**/results_*.json

# Never tracked, even when a glob above matches.
ignore:
  - "**/.cache/**"
  - "**/wandb/**"

# How to start a training run, from the root of the code snapshot on the host.
# Keel fills in these placeholders, each as one single-quoted argument (so write them
# bare, not inside quotes):
#   {config}      the run's config file, with any --set overrides applied
#   {output_dir}  the folder the run writes to
#   {run}         the run's id
#   {checkpoint}  the checkpoint to start from, when there is one
# \${NAME} is left to the shell. Uncomment one command:
# train:
#   setup: pip install -r requirements.txt # once per code version on each host
#   command: axolotl train {config}
#   # command: tune run lora_finetune_single_device --config {config} output_dir={output_dir}
#   # command: python train.py --config {config} --output_dir {output_dir}
#   env:
#     WANDB_MODE: offline

# How to evaluate a checkpoint ({checkpoint} is the checkpoint folder).
# eval:
#   command: lm_eval --model hf --model_args pretrained={checkpoint} --tasks arc_easy --output_path {output_dir}
`;
}

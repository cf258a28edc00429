/** The commented keel.yaml that `keel init` writes. */
export function projectFileTemplate(name: string): string {
  const safe = JSON.stringify(name);
  return `# keel.yaml — tells Keel what to track in this project and how to run it.
# Paths and globs are relative to this file's folder.

# The project's name, as shown in the editor and the CLI.
name: ${safe}

# Datasets: each file or folder matched is one dataset; every change becomes a new
# version (by content hash), so a run always records exactly the data it used.
datasets:
  - data/*.jsonl

# Training configs (YAML or JSON: Axolotl, torchtune, HF TrainingArguments or your own).
configs:
  - configs/*.yaml

# Folders where runs write (checkpoints, trainer_state.json, TensorBoard files, metrics.jsonl).
outputs:
  - outputs/*

# Eval result files (lm-evaluation-harness results_*.json).
evals:
  - outputs/**/results_*.json

# How to train: run from the project root on the chosen host. Placeholders are passed
# as single quoted arguments: {config} {output_dir} {run} {checkpoint}.
# train:
#   setup: pip install -r requirements.txt   # once per code version on a host
#   command: python3 train.py --config {config} --output-dir {output_dir}
#   env:
#     WANDB_MODE: disabled

# How to evaluate a checkpoint after a run succeeds.
# eval:
#   command: python3 eval.py --checkpoint {checkpoint} --out {output_dir}
`;
}

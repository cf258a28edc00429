#!/usr/bin/env bash
# Regenerates test/fixtures/generated/ with the real tools (the venv of setup-venv.sh): one
# Hugging Face Trainer + PEFT LoRA run of the suite's tiny random-init model (configs/lora.yaml:
# report_to tensorboard, save_total_limit 2, then trainer.save_model(output_dir)) and one real
# lm-eval 0.4.13 run (`--model hf --model_args pretrained=BASE,peft=CHECKPOINT`) of its
# checkpoint-60. Only small files are kept (no optimizer, scheduler or RNG state); see
# test/fixtures/generated/README.md. About 2 minutes on a CPU.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
VENV="${KEEL_REAL_TOOLS_VENV:-/opt/keel-ci/real-tools-venv}"
PY="$VENV/bin/python"
DEST="$here/../fixtures/generated"
work="$(mktemp -d /tmp/keel-make-fixtures-XXXXXX)"
trap 'rm -rf "$work"' EXIT

cp -r "$here/project/." "$work/"
cd "$work"
export OMP_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false PYTHONWARNINGS=ignore
"$PY" make_base.py base-models/tiny-llama >/dev/null 2>&1
"$PY" train.py --config configs/lora.yaml --output-dir outputs/lora
"$PY" evaluate.py --checkpoint "$work/outputs/lora/checkpoint-60" --out outputs/lora-eval

out="$DEST/hf-peft-lora-run"
rm -rf "$out" "$DEST/lm-eval-peft"
mkdir -p "$out" "$DEST/lm-eval-peft"
keep=(adapter_config.json adapter_model.safetensors trainer_state.json)
for ck in checkpoint-40 checkpoint-60; do
  mkdir -p "$out/$ck"
  for f in "${keep[@]}"; do cp "outputs/lora/$ck/$f" "$out/$ck/"; done
done
cp outputs/lora/adapter_config.json outputs/lora/adapter_model.safetensors "$out/"
# The event files, in the Trainer's runs/<date>_<host>/ folder, under a fixed name.
events=(outputs/lora/runs/*/events.out.tfevents.*)
mkdir -p "$out/runs/run"
cp "${events[0]}" "$out/runs/run/events.out.tfevents.1765000000.keel-ci.1.0"
results=(outputs/lora-eval/*/results_*.json)
cp "${results[0]}" "$DEST/lm-eval-peft/results_2026-12-07T00-00-00.000000.json"
echo "wrote $out and $DEST/lm-eval-peft (from $work)"

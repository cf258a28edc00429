"""Fine-tunes the tiny Llama with a LoRA adapter, the way a user's script does it.

A config with TRL keys (`dataset_text_field`) runs TRL's SFTTrainer; any other runs the
Hugging Face Trainer + PEFT. Both report to TensorBoard when the config says so and end with
`trainer.save_model(output_dir)`, so the output folder holds checkpoint-N/ folders (rotated by
save_total_limit), TensorBoard event files and the final adapter.

    python train.py --config configs/lora.yaml --output-dir outputs/lora

RT_PAUSE_AFTER_SAVE (seconds, default 0) pauses after each save, so a watcher polling
the folder sees every checkpoint before the next save rotates one away.
"""
import argparse
import os
import time

import yaml
from datasets import load_dataset
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer, DataCollatorForLanguageModeling, Trainer, TrainerCallback, TrainingArguments


class PauseAfterSave(TrainerCallback):
    def on_save(self, args, state, control, **kwargs):
        time.sleep(float(os.environ.get("RT_PAUSE_AFTER_SAVE", "0")))


def lora(cfg: dict) -> LoraConfig:
    return LoraConfig(r=cfg.pop("lora_r", 8), lora_alpha=cfg.pop("lora_alpha", 16), target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")


def train_hf(cfg: dict) -> None:
    # An absolute path, as many scripts resolve it: PEFT writes it into adapter_config.json.
    base = os.path.abspath(cfg.pop("base_model"))
    train_file = cfg.pop("train_file")
    peft = lora(cfg)
    tok = AutoTokenizer.from_pretrained(base)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base), peft)
    split = load_dataset("json", data_files={"train": train_file})["train"].train_test_split(test_size=0.1, seed=0)
    encode = lambda batch: tok(batch["text"], truncation=True, max_length=32)  # noqa: E731
    train = split["train"].map(encode, batched=True, remove_columns=["text"])
    held_out = split["test"].map(encode, batched=True, remove_columns=["text"])
    args = TrainingArguments(**cfg, use_cpu=True, disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=held_out,
                      data_collator=DataCollatorForLanguageModeling(tok, mlm=False), callbacks=[PauseAfterSave()])
    trainer.train()
    trainer.save_model(args.output_dir)


def train_trl(cfg: dict) -> None:
    from trl import SFTConfig, SFTTrainer

    base = cfg.pop("model_name_or_path")  # relative, as written: PEFT keeps it so
    data = cfg.pop("dataset_name")
    peft = lora(cfg)
    tok = AutoTokenizer.from_pretrained(base)
    args = SFTConfig(**cfg, use_cpu=True, disable_tqdm=True)
    trainer = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(base), args=args, processing_class=tok,
                         train_dataset=load_dataset("json", data_files={"train": data})["train"], peft_config=peft,
                         callbacks=[PauseAfterSave()])
    trainer.train()
    trainer.save_model(args.output_dir)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True)
    p.add_argument("--output-dir")
    a = p.parse_args()
    with open(a.config, encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    if a.output_dir:
        cfg["output_dir"] = a.output_dir
    (train_trl if "dataset_text_field" in cfg else train_hf)(cfg)


if __name__ == "__main__":
    main()

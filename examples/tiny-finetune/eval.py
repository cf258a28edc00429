"""Evaluates a tiny-char-lm checkpoint and writes an lm-evaluation-harness 0.4 results file.

    python3 eval.py --checkpoint outputs/baseline/checkpoint-250 [--out DIR] [--limit N]

Two tasks from data/eval.jsonl: `tiny_reverse` (words of up to 5 letters) and
`tiny_reverse_hard` (6 letters or more). Metrics: `acc` (share of characters right, per
word, averaged) and `exact_match` (whole word right). The file goes where lm-eval puts it:
`<out>/<model_name_sanitized>/results_<ISO time, ':' -> '-'>.json`, where the model name is
the checkpoint's absolute path. --out defaults to $KEEL_OUTPUT_DIR, else `lm_eval/` in the
run's output folder. Exit codes: 0 done, 2 unusable checkpoint or data.
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys
import time

from tinylm import MODEL_TYPE, DataError, load_records, num_parameters, predict, read_safetensors, resolve_data_path

HERE = os.path.dirname(os.path.abspath(__file__))
LM_EVAL_VERSION = "0.4.9"
TASKS = [
    # (name, which words, description)
    ("tiny_reverse", lambda word: len(word) <= 5, "Reverse a word of 3-5 letters."),
    ("tiny_reverse_hard", lambda word: len(word) >= 6, "Reverse a word of 6-8 letters (longer than most training words)."),
]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True, help="a checkpoint-N/ folder or a run's output folder with final weights")
    p.add_argument("--out", help="output_path (default $KEEL_OUTPUT_DIR, else <run folder>/lm_eval)")
    p.add_argument("--limit", type=int, help="evaluate only the first N documents of each task")
    p.add_argument("--data", default="data/eval.jsonl", help="eval records (default data/eval.jsonl)")
    return p.parse_args(argv)


def default_out(checkpoint):
    """`lm_eval/` beside the checkpoints, i.e. inside the run's output folder."""
    if os.environ.get("KEEL_OUTPUT_DIR"):
        return os.environ["KEEL_OUTPUT_DIR"]
    run_dir = os.path.dirname(checkpoint) if re.match(r"^checkpoint-\d+$", os.path.basename(checkpoint)) else checkpoint
    return os.path.join(run_dir, "lm_eval")


def load_model(checkpoint):
    config_path = os.path.join(checkpoint, "config.json")
    try:
        with open(config_path, encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, ValueError) as err:
        raise DataError(f"{config_path}: cannot read model config ({err})") from None
    if config.get("model_type") != MODEL_TYPE:
        raise DataError(f"{config_path}: model_type is {config.get('model_type')!r}, expected {MODEL_TYPE!r}")
    return read_safetensors(os.path.join(checkpoint, "model.safetensors"))


def mean_stderr(values):
    """lm-eval's mean_stderr: sample standard deviation / sqrt(n); "N/A" below two samples."""
    n = len(values)
    if n < 2:
        return "N/A"
    mean = sum(values) / n
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n)


def run_task(weight, docs):
    accs, exact = [], []
    for word, target in docs:
        guess = predict(weight, word)
        accs.append(sum(1 for a, b in zip(guess, target) if a == b) / len(target))
        exact.append(1.0 if guess == target else 0.0)
    return accs, exact


def task_config(name, description, data_path, pretrained):
    """configs[task], shaped like a generate_until task YAML as the harness records it."""
    return {
        "task": name,
        "tag": "tiny_reverse_tasks",
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": data_path}},
        "test_split": "test",
        "doc_to_text": "{{instruction}}\nWord: {{input}}\nAnswer:",
        "doc_to_target": "{{output}}",
        "unsafe_code": False,
        "description": description,
        "target_delimiter": " ",
        "fewshot_delimiter": "\n\n",
        "num_fewshot": 0,
        "metric_list": [
            {"metric": "acc", "aggregation": "mean", "higher_is_better": True},
            {"metric": "exact_match", "aggregation": "mean", "higher_is_better": True},
        ],
        "output_type": "generate_until",
        "generation_kwargs": {"until": ["\n"], "do_sample": False},
        "repeats": 1,
        "should_decontaminate": False,
        "metadata": {"version": 1.0, "pretrained": pretrained},
    }


def git_hash():
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def build_results(args, pretrained, data_path, scores, originals, start):
    """The whole results file, keys in the order lm-eval 0.4 writes them."""
    names = [name for name, _, _ in TASKS]
    results = {}
    for name in names:
        accs, exact = scores[name]
        results[name] = {"alias": name, "acc,none": sum(accs) / len(accs), "acc_stderr,none": mean_stderr(accs),
                         "exact_match,none": sum(exact) / len(exact), "exact_match_stderr,none": "N/A"}
    sanitized = re.sub(r"[\"<>:/|\\?*\[\]]+", "__", pretrained)
    end = time.perf_counter()
    return {
        "results": results,
        "group_subtasks": {name: [] for name in names},
        "configs": {name: task_config(name, desc, data_path, pretrained) for name, _, desc in TASKS},
        "versions": {name: 1.0 for name in names},
        "n-shot": {name: 0 for name in names},
        "higher_is_better": {name: {"acc": True, "exact_match": True} for name in names},
        "n-samples": {name: {"original": originals[name], "effective": len(scores[name][0])} for name in names},
        "config": {
            "model": "hf", "model_args": f"pretrained={pretrained}", "model_num_parameters": num_parameters(),
            "model_dtype": "torch.float32", "model_revision": "main", "model_sha": "", "batch_size": 8, "batch_sizes": [],
            "device": "cpu", "use_cache": None, "limit": float(args.limit) if args.limit is not None else None,
            "bootstrap_iters": 100000, "gen_kwargs": None, "random_seed": 0, "numpy_seed": 1234, "torch_seed": 1234,
            "fewshot_seed": 1234,
        },
        "git_hash": git_hash(),
        "date": time.time(),
        "pretty_env_info": f"Written by examples/tiny-finetune/eval.py in the shape of lm-evaluation-harness {LM_EVAL_VERSION}\n"
                           f"Python version: {sys.version}\nPython platform: {platform.platform()}\nIs CUDA available: False",
        "lm_eval_version": LM_EVAL_VERSION,
        "upper_git_hash": None,
        "task_hashes": {},
        "model_source": "hf",
        "model_name": pretrained,
        "model_name_sanitized": sanitized,
        "system_instruction": None,
        "system_instruction_sha": None,
        "fewshot_as_multiturn": False,
        "chat_template": None,
        "chat_template_sha": None,
        "start_time": start,
        "end_time": end,
        "total_evaluation_time_seconds": str(end - start),
    }


def print_table(doc):
    """The markdown summary lm-eval prints."""
    c = doc["config"]
    print(f"{c['model']} ({c['model_args']}), gen_kwargs: (None), limit: {c['limit']}, num_fewshot: None, batch_size: {c['batch_size']}")
    print("|      Tasks      |Version|Filter|n-shot|  Metric   |   |Value |   |Stderr|")
    print("|-----------------|------:|------|-----:|-----------|---|-----:|---|-----:|")
    for task, r in doc["results"].items():
        for metric in ("acc", "exact_match"):
            err = r[f"{metric}_stderr,none"]
            err_text = f"{err:.4f}" if isinstance(err, float) else err
            print(f"|{task:<17}|{1:>7}|none  |{0:>6}|{metric:<11}|↑  |{r[f'{metric},none']:.4f}|±  |{err_text:>6}|")


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    pretrained = os.path.abspath(args.checkpoint)
    try:
        weight = load_model(pretrained)
        data_path = os.path.abspath(resolve_data_path(args.data, HERE))
        docs = load_records(data_path)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        return 2
    scores, originals = {}, {}
    for name, keep, _ in TASKS:
        task_docs = [d for d in docs if keep(d[0])]
        originals[name] = len(task_docs)
        scores[name] = run_task(weight, task_docs[:args.limit] if args.limit is not None else task_docs)
    doc = build_results(args, pretrained, data_path, scores, originals, start)
    folder = os.path.join(args.out or default_out(pretrained), doc["model_name_sanitized"])
    os.makedirs(folder, exist_ok=True)
    stamp = datetime.datetime.now().isoformat().replace(":", "-")
    path = os.path.join(folder, f"results_{stamp}.json")
    temp = os.path.join(folder, f".results_{stamp}.json.tmp")
    with open(temp, "w", encoding="utf-8") as f:
        f.write(json.dumps(doc, indent=2, ensure_ascii=False))
    os.replace(temp, path)
    print_table(doc)
    print(os.path.abspath(path), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

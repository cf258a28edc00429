"""Fine-tunes tiny-char-lm to reverse words, writing what a Hugging Face Trainer writes.

    python3 train.py --config configs/baseline.yaml [--output-dir DIR]
                     [--fail-at-step N] [--nan-at-step N] [--sleep-per-step S]

Pure standard library. The output folder gets checkpoint-<step>/ folders (config.json,
model.safetensors, trainer_state.json), metrics.jsonl, and at the end the root
trainer_state.json, {train,eval,all}_results.json and the final weights. Exit codes: 0 done,
2 bad config or data, 3 --fail-at-step, 143 SIGTERM (after saving a checkpoint).
"""
import argparse
import json
import math
import os
import random
import signal
import sys
import time
import traceback

import hf_files
from config_file import read_config
from tinylm import DataError, batch_loss_and_grad, load_records, num_parameters, resolve_data_path, score

HERE = os.path.dirname(os.path.abspath(__file__))
EXIT_BAD_INPUT = 2
EXIT_INJECTED_FAILURE = 3
EXIT_SIGTERM = 143
EXIT_SIGINT = 130


class SimulatedFailure(RuntimeError):
    """Raised by --fail-at-step; only this one maps to exit code 3 (real bugs still exit 1)."""


class Stop:
    """Signals only set a flag; the loop stops between steps, so no file is left half-written."""
    signal_name = None

    @classmethod
    def handler(cls, signum, _frame):
        cls.signal_name = signal.Signals(signum).name


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default=os.environ.get("KEEL_CONFIG"), help="YAML (flat key: value) or JSON config; default $KEEL_CONFIG")
    p.add_argument("--output-dir", help="overrides output_dir (default $KEEL_OUTPUT_DIR, then the config's)")
    p.add_argument("--fail-at-step", type=int, help="crash with a traceback at this step (exit 3)")
    p.add_argument("--nan-at-step", type=int, help="make the loss NaN from this step on")
    p.add_argument("--sleep-per-step", type=float, default=0.0, help="seconds to sleep after each step (for long-running tests)")
    args = p.parse_args(argv)
    if not args.config:
        p.error("--config is required (or set KEEL_CONFIG)")
    return args


def lr_at(config, step, max_steps):
    """The learning rate schedulers' lr_lambda(step) times learning_rate (linear / constant / cosine, with warmup)."""
    base, warmup = config["learning_rate"], config["warmup_steps"]
    if step < warmup:
        return base * step / max(1, warmup)
    kind = config["lr_scheduler_type"]
    if kind in ("constant", "constant_with_warmup"):
        return base
    progress = (step - warmup) / max(1, max_steps - warmup)
    if kind == "cosine":
        return base * max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))
    return base * max(0.0, 1.0 - progress)


class AdamW:
    """torch.optim.AdamW over a flat list of floats, with a dense update every step."""

    def __init__(self, size, config):
        self.m, self.v, self.t = [0.0] * size, [0.0] * size, 0
        self.b1, self.b2 = config["adam_beta1"], config["adam_beta2"]
        self.eps, self.wd = config["adam_epsilon"], config["weight_decay"]

    def step(self, weight, grad_rows, lr, poison):
        """Applies one update; returns the gradient's L2 norm (what HF logs as grad_norm)."""
        g = [math.nan if poison else 0.0] * len(weight)
        if not poison:
            for start, values in grad_rows.items():
                g[start:start + len(values)] = values
        self.t += 1
        step_size = lr / (1 - self.b1 ** self.t)
        root_bc2 = math.sqrt(1 - self.b2 ** self.t)
        b1, b2, eps, m, v, decay = self.b1, self.b2, self.eps, self.m, self.v, 1 - lr * self.wd
        for i, gi in enumerate(g):
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi * gi
            weight[i] = weight[i] * decay - step_size * m[i] / (math.sqrt(v[i]) / root_bc2 + eps)
        return math.sqrt(sum(x * x for x in g))


class Run:
    """One training run: its config, data, weights, TrainerState and output files."""

    def __init__(self, config, output_dir, args):
        self.config, self.output_dir, self.args = config, output_dir, args
        self.train = load_records(resolve_data_path(config["train_file"], HERE))
        val = config["validation_file"]
        self.val = load_records(resolve_data_path(val, HERE)) if val else None
        self.rng = random.Random(config["seed"])
        self.weight = [self.rng.gauss(0.0, 0.02) for _ in range(num_parameters())]
        self.optimizer = AdamW(len(self.weight), config)
        bs = config["per_device_train_batch_size"]
        self.steps_per_epoch = math.ceil(len(self.train) / bs)
        if config["max_steps"] > 0:
            self.max_steps = config["max_steps"]
            epochs = math.ceil(self.max_steps / self.steps_per_epoch)
        else:
            self.max_steps = math.ceil(config["num_train_epochs"] * self.steps_per_epoch)
            epochs = math.ceil(config["num_train_epochs"])
        self.state = {
            "best_global_step": None, "best_metric": None, "best_model_checkpoint": None, "epoch": 0.0,
            "eval_steps": config["eval_steps"], "global_step": 0, "log_history": [],
            "logging_steps": config["logging_steps"], "max_steps": self.max_steps, "num_input_tokens_seen": 0,
            "num_train_epochs": epochs, "save_steps": config["save_steps"], "total_flos": 0.0, "train_batch_size": bs,
        }
        self.loss_since_log, self.steps_since_log, self.loss_total = 0.0, 0, 0.0
        self.last_eval = None
        self.saved_step = None
        metric = config["metric_for_best_model"]
        self.best_key = None if not metric else metric if metric.startswith("eval_") else f"eval_{metric}"
        greater = config["greater_is_better"]
        self.greater = (not self.best_key.endswith("loss")) if greater is None and self.best_key else bool(greater)
        self.metrics_file = None

    # ------------------------------------------------------------------ loop

    def train_loop(self):
        """Runs all steps; returns the signal name if a signal stopped it, else None."""
        self.banner()
        state, step = self.state, 0
        bs = self.config["per_device_train_batch_size"]
        for epoch in range(state["num_train_epochs"]):
            order = list(range(len(self.train)))
            self.rng.shuffle(order)
            for b in range(self.steps_per_epoch):
                step += 1
                batch = [self.train[i] for i in order[b * bs:(b + 1) * bs]]
                self.one_step(step, batch, epoch + (b + 1) / self.steps_per_epoch)
                self.after_step(step)
                if Stop.signal_name or step >= self.max_steps:
                    return Stop.signal_name
        return Stop.signal_name

    def one_step(self, step, batch, epoch):
        if self.args.fail_at_step is not None and step >= self.args.fail_at_step:
            raise SimulatedFailure(f"simulated failure at step {step} (--fail-at-step {self.args.fail_at_step})")
        poison = self.args.nan_at_step is not None and step >= self.args.nan_at_step
        loss, grad, chars = batch_loss_and_grad(self.weight, batch)
        lr = lr_at(self.config, step - 1, self.max_steps)
        self.grad_norm = self.optimizer.step(self.weight, grad, lr, poison)
        if poison:
            loss = math.nan
        self.loss_since_log += loss
        self.loss_total += loss
        self.steps_since_log += 1
        self.state["global_step"], self.state["epoch"] = step, epoch
        self.state["num_input_tokens_seen"] += chars
        self.state["total_flos"] += 6.0 * num_parameters() * chars

    def after_step(self, step):
        """Logging, evaluation and saving on the steps the config asks for (and at the end)."""
        cfg, last = self.config, step >= self.max_steps
        if step % cfg["logging_steps"] == 0 or last:
            self.log_train(step)
        if self.val and self.due(cfg["eval_strategy"], cfg["eval_steps"], step, last):
            self.evaluate(step)
        if self.due(cfg["save_strategy"], cfg["save_steps"], step, last):
            self.save(step, last)
        self.sleep()

    def due(self, strategy, every, step, last):
        if strategy == "steps":
            return step % every == 0 or last
        if strategy == "epoch":
            return step % self.steps_per_epoch == 0 or last
        return False

    def sleep(self):
        end = time.monotonic() + self.args.sleep_per_step
        while not Stop.signal_name and time.monotonic() < end:
            time.sleep(min(0.05, end - time.monotonic()))

    # ------------------------------------------------------------------ logging, eval, saving

    def log_train(self, step):
        lr = lr_at(self.config, step, self.max_steps)  # what scheduler.get_last_lr() says after the step
        entry = {"loss": round(self.loss_since_log / self.steps_since_log, 4), "grad_norm": self.grad_norm,
                 "learning_rate": lr, "epoch": self.state["epoch"], "step": step}
        self.loss_since_log, self.steps_since_log = 0.0, 0
        self.record(entry)

    def evaluate(self, step):
        start = time.perf_counter()
        loss, accuracy, _, _ = score(self.weight, self.val)
        runtime = max(time.perf_counter() - start, 1e-6)
        n, batches = len(self.val), math.ceil(len(self.val) / self.config["per_device_eval_batch_size"])
        entry = {"eval_loss": loss, "eval_accuracy": accuracy, "eval_runtime": round(runtime, 4),
                 "eval_samples_per_second": round(n / runtime, 3), "eval_steps_per_second": round(batches / runtime, 3),
                 "epoch": self.state["epoch"], "step": step}
        self.record(entry)
        self.last_eval = entry
        value = entry.get(self.best_key) if self.best_key else None
        best = self.state["best_metric"]
        if value is not None and (best is None or (value > best if self.greater else value < best)):
            self.state["best_metric"], self.state["best_global_step"] = value, step

    def record(self, entry):
        """Adds a log_history entry, prints it like HF does and appends it to metrics.jsonl."""
        self.state["log_history"].append(entry)
        print(repr(entry), flush=True)
        line = {"step": entry["step"], **{k: v for k, v in entry.items() if k != "step"}, "time": round(time.time(), 3)}
        self.metrics_file.write(json.dumps(line) + "\n")
        self.metrics_file.flush()

    def save(self, step, final):
        best = self.state["best_global_step"]
        if best is not None and (best == step or os.path.isdir(hf_files.checkpoint_path(self.output_dir, best))):
            self.state["best_model_checkpoint"] = os.path.abspath(hf_files.checkpoint_path(self.output_dir, best))
        path = hf_files.save_checkpoint(self.output_dir, step, self.weight, self.config["model_name_or_path"], self.state, final)
        self.saved_step = step
        print(f"Saving model checkpoint to {path}", flush=True)

    def banner(self):
        cfg = self.config
        print("***** Running training *****", flush=True)
        print(f"  Num examples = {len(self.train):,}")
        print(f"  Num Epochs = {self.state['num_train_epochs']:,}")
        print(f"  Instantaneous batch size per device = {cfg['per_device_train_batch_size']:,}")
        print(f"  Total optimization steps = {self.max_steps:,}")
        print(f"  Number of trainable parameters = {num_parameters():,}", flush=True)

    def finish(self, runtime):
        """Root files after a completed run, as run_clm.py-style scripts leave them."""
        state, steps = self.state, self.state["global_step"]
        samples = self.max_steps * self.config["per_device_train_batch_size"] if self.config["max_steps"] > 0 \
            else len(self.train) * self.config["num_train_epochs"]
        summary = {"train_runtime": round(runtime, 4), "train_samples_per_second": round(samples / runtime, 3),
                   "train_steps_per_second": round(steps / runtime, 3), "total_flos": state["total_flos"],
                   "train_loss": self.loss_total / max(1, steps), "epoch": state["epoch"], "step": steps}
        state["log_history"].append(summary)
        print(repr({k: v for k, v in summary.items() if k != "step"}), flush=True)
        train_metrics = {k: v for k, v in summary.items() if k != "step"}
        train_metrics["train_samples"] = len(self.train)
        eval_metrics = None
        if self.last_eval is not None:
            eval_metrics = {k: v for k, v in self.last_eval.items() if k != "step"}
            eval_metrics["eval_samples"] = len(self.val)
            eval_metrics["perplexity"] = math.exp(eval_metrics["eval_loss"]) if eval_metrics["eval_loss"] < 700 else math.inf
        hf_files.write_final(self.output_dir, self.weight, self.config["model_name_or_path"], state, train_metrics, eval_metrics)
        print(f"Saving model checkpoint to {self.output_dir}", flush=True)


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, Stop.handler)
    signal.signal(signal.SIGINT, Stop.handler)
    try:
        config, warnings = read_config(args.config)
        output_dir = args.output_dir or os.environ.get("KEEL_OUTPUT_DIR") or config["output_dir"]
        run = Run(config, output_dir, args)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        return EXIT_BAD_INPUT
    for warning in warnings:
        print(f"warning: {warning}", flush=True)
    keel_run = os.environ.get("KEEL_RUN_ID")
    print(f"config: {args.config}; output_dir: {output_dir}" + (f"; keel run: {keel_run}" if keel_run else ""), flush=True)
    print(f"device: cpu (CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')})", flush=True)
    os.makedirs(output_dir, exist_ok=True)
    hf_files.remove_stale_temps(output_dir)
    start = time.perf_counter()
    with open(os.path.join(output_dir, "metrics.jsonl"), "w", encoding="utf-8") as run.metrics_file:
        try:
            stopped_by = run.train_loop()
        except SimulatedFailure:
            traceback.print_exc()
            sys.stderr.flush()
            return EXIT_INJECTED_FAILURE
        if stopped_by:
            return interrupted(run, stopped_by)
        run.finish(time.perf_counter() - start)
    if Stop.signal_name:  # arrived while the final files were written: they are complete, but say so
        return interrupted(run, Stop.signal_name)
    return 0


def interrupted(run, signal_name):
    """Saves the current step (unless just saved) so the work is not lost, then exits 143/130."""
    step = run.state["global_step"]
    print(f"received {signal_name}, saving…", flush=True)
    if step > 0 and run.saved_step != step:
        run.save(step, False)
    print(f"stopped at step {step} of {run.max_steps}", flush=True)
    return EXIT_SIGINT if signal_name == "SIGINT" else EXIT_SIGTERM


if __name__ == "__main__":
    sys.exit(main())

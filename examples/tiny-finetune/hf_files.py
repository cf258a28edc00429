"""The files a Hugging Face Trainer leaves in output_dir, in the exact shapes it writes them:
`checkpoint-<step>/{config.json, model.safetensors, trainer_state.json}`, and at the end the
root `trainer_state.json`, `{train,eval,all}_results.json`, `config.json`, `model.safetensors`.

Nothing is ever visible half-written: a checkpoint is built in a hidden temp folder and
renamed into place with its trainer_state.json written last; root files are written to a
hidden temp file and renamed.
"""
import json
import os
import shutil

from tinylm import model_config, safetensors_bytes

CHECKPOINT_PREFIX = "checkpoint-"


def trainer_state(state, should_training_stop):
    """trainer_state.json contents (TrainerState as transformers >= 4.47 writes it)."""
    return {
        "best_global_step": state["best_global_step"],
        "best_metric": state["best_metric"],
        "best_model_checkpoint": state["best_model_checkpoint"],
        "epoch": state["epoch"],
        "eval_steps": state["eval_steps"],
        "global_step": state["global_step"],
        "is_hyper_param_search": False,
        "is_local_process_zero": True,
        "is_world_process_zero": True,
        "log_history": state["log_history"],
        "logging_steps": state["logging_steps"],
        "max_steps": state["max_steps"],
        "num_input_tokens_seen": state["num_input_tokens_seen"],
        "num_train_epochs": state["num_train_epochs"],
        "save_steps": state["save_steps"],
        "stateful_callbacks": {
            "TrainerControl": {
                "args": {
                    "should_epoch_stop": False,
                    "should_evaluate": False,
                    "should_log": False,
                    "should_save": True,
                    "should_training_stop": should_training_stop,
                },
                "attributes": {},
            }
        },
        "total_flos": state["total_flos"],
        "train_batch_size": state["train_batch_size"],
        "trial_name": None,
        "trial_params": None,
    }


def trainer_state_text(state, should_training_stop):
    """As TrainerState.save_to_json writes it: 2-space indent, sorted keys, newline; bare NaN kept."""
    return json.dumps(trainer_state(state, should_training_stop), indent=2, sort_keys=True) + "\n"


def results_text(metrics):
    """As Trainer.save_metrics writes `*_results.json`: 4-space indent, sorted keys, no newline."""
    return json.dumps(metrics, indent=4, sort_keys=True)


def model_files(weight, base_model):
    """(name, bytes) of the weight files, config.json first."""
    config = json.dumps(model_config(base_model), indent=2, sort_keys=True) + "\n"
    return [("config.json", config.encode("utf-8")), ("model.safetensors", safetensors_bytes(weight))]


def checkpoint_path(output_dir, step):
    return os.path.join(output_dir, f"{CHECKPOINT_PREFIX}{step}")


def save_checkpoint(output_dir, step, weight, base_model, state, should_training_stop):
    """Writes `checkpoint-<step>/` atomically and returns its path.

    The temp folder name starts with a dot: watchers (Keel's included) skip hidden folders,
    so a half-written checkpoint is never mistaken for a weights folder."""
    final = checkpoint_path(output_dir, step)
    temp = os.path.join(output_dir, f".{CHECKPOINT_PREFIX}{step}.tmp")
    shutil.rmtree(temp, ignore_errors=True)
    os.makedirs(temp)
    for name, data in model_files(weight, base_model):
        write_bytes(os.path.join(temp, name), data)
    write_bytes(os.path.join(temp, "trainer_state.json"), trainer_state_text(state, should_training_stop).encode("utf-8"))
    if os.path.exists(final):
        # A re-run into the same output_dir: swap the old folder out rather than merge into it.
        old = os.path.join(output_dir, f".{CHECKPOINT_PREFIX}{step}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.rename(final, old)
        os.rename(temp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(temp, final)
    return final


def remove_stale_temps(output_dir):
    """Temp folders and files left by a run that was killed (SIGKILL) mid-write."""
    if not os.path.isdir(output_dir):
        return
    for name in os.listdir(output_dir):
        if name.startswith(".") and (name.endswith(".tmp") or name.endswith(".old")):
            path = os.path.join(output_dir, name)
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.remove(path)


def write_final(output_dir, weight, base_model, state, train_metrics, eval_metrics):
    """The end-of-training root files. trainer_state.json goes last: its presence (with the
    summary entry) is what says the run finished."""
    for name, data in model_files(weight, base_model):
        write_atomic(output_dir, name, data)
    write_atomic(output_dir, "train_results.json", results_text(train_metrics).encode("utf-8"))
    if eval_metrics is not None:
        write_atomic(output_dir, "eval_results.json", results_text(eval_metrics).encode("utf-8"))
    write_atomic(output_dir, "all_results.json", results_text({**train_metrics, **(eval_metrics or {})}).encode("utf-8"))
    write_atomic(output_dir, "trainer_state.json", trainer_state_text(state, True).encode("utf-8"))


def write_atomic(folder, name, data):
    temp = os.path.join(folder, f".{name}.tmp")
    write_bytes(temp, data)
    os.replace(temp, os.path.join(folder, name))


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)

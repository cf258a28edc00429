"""Reads a training config: flat `key: value` YAML (the subset HF TrainingArguments files
use) or a JSON object, and fills TrainingArguments defaults.

The standard library has no YAML parser, so this reads only flat mappings: one `key: value`
per line, `#` comments, quoted or plain scalars. Anything nested is reported with the file
and line instead of being misread.
"""
import json
import math
import re

from tinylm import DataError

# HF TrainingArguments defaults for the keys this trainer uses.
DEFAULTS = {
    "model_name_or_path": "tiny-char-lm",
    "train_file": "data/train.jsonl",
    "validation_file": None,
    "output_dir": "trainer_output",
    "learning_rate": 5e-5,
    "num_train_epochs": 3.0,
    "max_steps": -1,
    "per_device_train_batch_size": 8,
    "per_device_eval_batch_size": 8,
    "logging_steps": 500,
    "save_steps": 500,
    "eval_steps": None,
    "eval_strategy": "no",
    "save_strategy": "steps",
    "seed": 42,
    "warmup_steps": 0,
    "lr_scheduler_type": "linear",
    "weight_decay": 0.0,
    "adam_beta1": 0.9,
    "adam_beta2": 0.999,
    "adam_epsilon": 1e-8,
    "metric_for_best_model": None,
    "greater_is_better": None,
}
INT_KEYS = {"max_steps", "per_device_train_batch_size", "per_device_eval_batch_size", "logging_steps",
            "save_steps", "eval_steps", "seed", "warmup_steps"}
FLOAT_KEYS = {"learning_rate", "num_train_epochs", "weight_decay", "adam_beta1", "adam_beta2", "adam_epsilon"}
# Keys real configs carry that change nothing here; accepted without a warning.
IGNORED_KEYS = {"do_train", "do_eval", "report_to", "overwrite_output_dir", "logging_strategy", "logging_dir",
                "evaluation_strategy", "optim", "bf16", "fp16", "gradient_accumulation_steps", "run_name"}

KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*)\s*:(?:\s+(.*))?$")
INT = re.compile(r"^[-+]?[0-9]+$")
FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def read_config(path):
    """The config at `path` as a dict, with TrainingArguments defaults and coerced types.
    Returns (config, warnings)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror})") from None
    raw = parse_json(text, path) if path.endswith(".json") or text.lstrip().startswith("{") else parse_flat_yaml(text, path)
    config = dict(DEFAULTS)
    warnings = []
    for key, value in raw.items():
        if key == "evaluation_strategy":  # the pre-4.41 spelling
            config["eval_strategy"] = value
        elif key in DEFAULTS:
            config[key] = coerce(key, value, path)
        elif key not in IGNORED_KEYS:
            warnings.append(f"{path}: ignoring unknown key {key!r}")
    if config["eval_steps"] is None:
        config["eval_steps"] = config["logging_steps"]  # what TrainingArguments does
    return config, warnings


def coerce(key, value, path):
    """Numbers written as strings ("5e-5" to a YAML 1.1 reader) become numbers."""
    if value is None or (key not in INT_KEYS and key not in FLOAT_KEYS):
        return value
    try:
        number = float(value) if key in FLOAT_KEYS else int(value)
    except (TypeError, ValueError):
        raise DataError(f"{path}: {key} must be a number, got {value!r}") from None
    return number


def parse_json(text, path):
    try:
        data = json.loads(text)
    except ValueError as err:
        raise DataError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: the top level must be an object")
    return data


def parse_flat_yaml(text, path):
    """A flat YAML mapping: `key: value` lines, comments, blank lines and `---`."""
    data = {}
    for line_no, line in enumerate(text.splitlines(), 1):
        body = strip_comment(line).rstrip()
        if not body.strip() or body.strip() in ("---", "..."):
            continue
        if body[0] in " \t-":
            raise DataError(f"{path}:{line_no}: only flat `key: value` lines are supported (nested or list item here)")
        match = KEY.match(body)
        if not match:
            raise DataError(f"{path}:{line_no}: expected `key: value`, got {body.strip()!r}")
        key, value = match.group(1), match.group(2)
        if key in data:
            raise DataError(f"{path}:{line_no}: duplicate key {key!r}")
        data[key] = scalar(value.strip() if value else "", path, line_no)
    return data


def strip_comment(line):
    """The line without a trailing `# comment` (a `#` inside quotes, or not after a space, stays)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def scalar(value, path, line_no):
    """A YAML 1.2 core-schema scalar: null, bool, int, float, quoted or plain string."""
    if value in ("", "~", "null", "Null", "NULL"):
        return None
    if value in ("true", "True", "TRUE"):
        return True
    if value in ("false", "False", "FALSE"):
        return False
    if value[0] == '"':
        try:
            return json.loads(value)
        except ValueError:
            raise DataError(f"{path}:{line_no}: bad double-quoted string {value}") from None
    if value[0] == "'":
        if len(value) < 2 or value[-1] != "'":
            raise DataError(f"{path}:{line_no}: unterminated single-quoted string {value}")
        return value[1:-1].replace("''", "'")
    if value[0] in "[{|>&*!":
        raise DataError(f"{path}:{line_no}: only plain scalars are supported, got {value!r}")
    if INT.match(value):
        return int(value)
    if FLOAT.match(value):
        return float(value)
    if value.lower() in (".inf", "+.inf", "-.inf", ".nan"):
        return -math.inf if value.startswith("-") else math.nan if "nan" in value.lower() else math.inf
    return value

"""The tiny model both train.py and eval.py use, with its data and file formats.

`tiny-char-lm` reverses a lowercase word one character at a time. For output position i
of a word of length L, the input character at position j "votes" through a weight row
picked by (offset d = j - (L-1-i), input character). Only offsets within WINDOW count.
Training has to discover that offset 0 copies the character. That makes it a softmax
regression: small enough for pure Python and real enough to watch the loss fall.

Everything here is the standard library only (Python >= 3.9).
"""
import json
import math
import os
import struct
import sys
from array import array

ALPHABET = "abcdefghijklmnopqrstuvwxyz"
VOCAB = len(ALPHABET)
CHAR_ID = {c: i for i, c in enumerate(ALPHABET)}
# Offsets -7..7: the model sees every character of a word up to 8 letters long, and has to
# learn which one matters. The many distractor weights are also what lets it overfit.
WINDOW = 15
HALF = WINDOW // 2
MODEL_TYPE = "tiny-char-lm"
WEIGHT_NAME = "weight"


class DataError(Exception):
    """A data or model file that cannot be used; the message names the file (and line)."""


# ----------------------------------------------------------------------------- data

def resolve_data_path(path, script_dir):
    """`path` as given if it exists (relative to the working directory), else relative to
    the project folder, so the scripts also work when launched from elsewhere."""
    if os.path.isabs(path) or os.path.exists(path):
        return path
    beside = os.path.join(script_dir, path)
    return beside if os.path.exists(beside) else path


def load_records(path):
    """Reads an instruction/input/output JSONL file into (word, reversed) pairs."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror})") from None
    pairs = []
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as err:
            raise DataError(f"{path}:{line_no}: not valid JSON ({err})") from None
        word = record.get("input") if isinstance(record, dict) else None
        target = record.get("output") if isinstance(record, dict) else None
        if not (isinstance(word, str) and isinstance(target, str)):
            raise DataError(f'{path}:{line_no}: needs string "input" and "output" fields')
        if not word or any(c not in CHAR_ID for c in word + target) or len(word) != len(target):
            raise DataError(f"{path}:{line_no}: input/output must be equal-length lowercase a-z words")
        pairs.append((word, target))
    if not pairs:
        raise DataError(f"{path}: no records")
    return pairs


# ----------------------------------------------------------------------------- model

def row_of(offset, char_id):
    """Start index in the flat weight list of the row for (offset, input character)."""
    return ((offset + HALF) * VOCAB + char_id) * VOCAB


def features(word, i):
    """Weight rows that vote for output position i of `word`."""
    n = len(word)
    source = n - 1 - i
    rows = []
    for j in range(max(0, source - HALF), min(n, source + HALF + 1)):
        rows.append(row_of(j - source, CHAR_ID[word[j]]))
    return rows


def softmax_logits(weight, rows):
    """Probabilities over the alphabet given the active weight rows."""
    logits = [0.0] * VOCAB
    for r in rows:
        for k in range(VOCAB):
            logits[k] += weight[r + k]
    top = max(logits)
    if math.isnan(top) or any(math.isnan(x) for x in logits):
        return [math.nan] * VOCAB
    exps = [math.exp(x - top) for x in logits]
    total = sum(exps)
    return [e / total for e in exps]


def batch_loss_and_grad(weight, batch):
    """Mean cross-entropy per output character of `batch` and its sparse gradient
    ({row start: [VOCAB floats]}), plus the number of characters."""
    chars = sum(len(w) for w, _ in batch)
    grad = {}
    loss = 0.0
    for word, target in batch:
        for i, want in enumerate(target):
            rows = features(word, i)
            probs = softmax_logits(weight, rows)
            y = CHAR_ID[want]
            loss += nll(probs[y])
            delta = list(probs)
            delta[y] -= 1.0
            for r in rows:
                acc = grad.setdefault(r, [0.0] * VOCAB)
                for k in range(VOCAB):
                    acc[k] += delta[k] / chars
    return loss / chars, grad, chars


def predict(weight, word):
    """The model's reversal of `word` (greedy, one character per position)."""
    out = []
    for i in range(len(word)):
        probs = softmax_logits(weight, features(word, i))
        best = max(range(VOCAB), key=lambda k: (not math.isnan(probs[k]), probs[k]))
        out.append(ALPHABET[best])
    return "".join(out)


def score(weight, pairs):
    """(mean loss per character, character accuracy, per-record char accuracy, per-record exact match)."""
    loss_sum, chars, right = 0.0, 0, 0
    per_acc, per_exact = [], []
    for word, target in pairs:
        loss_sum += record_loss(weight, word, target)
        chars += len(target)
        guess = predict(weight, word)
        hits = sum(1 for a, b in zip(guess, target) if a == b)
        right += hits
        per_acc.append(hits / len(target))
        per_exact.append(1.0 if guess == target else 0.0)
    return loss_sum / chars, right / chars, per_acc, per_exact


def record_loss(weight, word, target):
    """Summed cross-entropy of one record (no gradient)."""
    return sum(nll(softmax_logits(weight, features(word, i))[CHAR_ID[want]]) for i, want in enumerate(target))


def nll(p):
    """-log p; NaN stays NaN (a diverged model must show a NaN loss, not crash)."""
    return math.nan if math.isnan(p) else -math.log(max(p, 1e-300))


def num_parameters():
    """Size of the flat weight list (WINDOW x VOCAB x VOCAB)."""
    return WINDOW * VOCAB * VOCAB


def model_config(base_model):
    """config.json contents, shaped like a transformers config."""
    return {
        "_name_or_path": base_model,
        "architectures": ["TinyCharLMForReversal"],
        "model_type": MODEL_TYPE,
        "torch_dtype": "float32",
        "vocab_size": VOCAB,
        "window": WINDOW,
    }


# ----------------------------------------------------------------------------- safetensors

def safetensors_bytes(weight):
    """The real safetensors layout: u64 LE header length, JSON header padded with spaces to
    a multiple of 8, then raw little-endian float32 data."""
    data = array("f", weight)
    if sys.byteorder != "little":
        data.byteswap()
    raw = data.tobytes()
    header = {
        "__metadata__": {"format": "pt"},
        WEIGHT_NAME: {"dtype": "F32", "shape": [WINDOW, VOCAB, VOCAB], "data_offsets": [0, len(raw)]},
    }
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + raw


def read_safetensors(path):
    """Reads the `weight` tensor of a model.safetensors file back into a list of floats."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror})") from None
    if len(blob) < 8:
        raise DataError(f"{path}: too short for a safetensors file")
    (size,) = struct.unpack("<Q", blob[:8])
    if 8 + size > len(blob):
        raise DataError(f"{path}: header length {size} runs past the end of the file")
    try:
        header = json.loads(blob[8:8 + size].decode("utf-8"))
    except ValueError as err:
        raise DataError(f"{path}: header is not JSON ({err})") from None
    info = header.get(WEIGHT_NAME) if isinstance(header, dict) else None
    if not isinstance(info, dict) or info.get("dtype") != "F32":
        raise DataError(f'{path}: no F32 tensor named "{WEIGHT_NAME}"')
    start, end = info["data_offsets"]
    count = 1
    for dim in info["shape"]:
        count *= dim
    if info["shape"] != [WINDOW, VOCAB, VOCAB] or end - start != 4 * count or 8 + size + end > len(blob):
        raise DataError(f"{path}: tensor shape {info['shape']} / offsets {info['data_offsets']} do not fit this model")
    data = array("f")
    data.frombytes(blob[8 + size + start:8 + size + end])
    if sys.byteorder != "little":
        data.byteswap()
    return list(data)

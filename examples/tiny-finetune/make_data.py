"""Writes data/train.jsonl and data/eval.jsonl: a tiny "reverse the word" task.

Deterministic (fixed seed), so re-running it reproduces the committed files byte for byte.
Records are Alpaca-style {"instruction", "input", "output"}. On purpose, the training file
has two rows that exactly repeat earlier rows and one row whose instruction holds an email
address, so a dataset profile has something to report.

    python3 make_data.py
"""
import json
import os
import random

SEED = 20240611
CONSONANTS = "bcdfghjklmnprstvwz"
VOWELS = "aeiou"
INSTRUCTIONS = [
    "Reverse the word.",
    "Write the word backwards.",
    "Spell the word in reverse order.",
    "Return the letters of the word from last to first.",
]
EMAIL_INSTRUCTION = "Reverse the word. Questions about this row: data-team@example.com"
TRAIN_ROWS = 198
EVAL_SHORT = 35
EVAL_LONG = 15


def pseudo_word(rng, length):
    """A pronounceable made-up word: alternating consonants and vowels, random start."""
    vowel = rng.random() < 0.3
    letters = []
    for _ in range(length):
        letters.append(rng.choice(VOWELS if vowel else CONSONANTS))
        vowel = not vowel
    return "".join(letters)


def unique_words(rng, count, lengths, taken):
    """`count` new words with lengths drawn from `lengths`, none in `taken` (which grows)."""
    words = []
    while len(words) < count:
        word = pseudo_word(rng, rng.choice(lengths))
        if word not in taken:
            taken.add(word)
            words.append(word)
    return words


def record(instruction, word):
    return {"instruction": instruction, "input": word, "output": word[::-1]}


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def main():
    rng = random.Random(SEED)
    taken = set()
    # Training words are 3-7 letters; the hard eval words (6-8) are longer than most of them.
    train_words = unique_words(rng, TRAIN_ROWS, [3, 4, 4, 5, 5, 6, 7], taken)
    train = [record(rng.choice(INSTRUCTIONS), w) for w in train_words]
    train[57] = record(EMAIL_INSTRUCTION, train_words[57])
    # Exact duplicates of two earlier rows, inserted further down the file.
    train.insert(120, dict(train[12]))
    train.insert(170, dict(train[88]))
    evals = [record(INSTRUCTIONS[0], w) for w in unique_words(rng, EVAL_SHORT, [3, 4, 5], taken)]
    evals += [record(INSTRUCTIONS[0], w) for w in unique_words(rng, EVAL_LONG, [6, 7, 8], taken)]
    here = os.path.dirname(os.path.abspath(__file__))
    os.makedirs(os.path.join(here, "data"), exist_ok=True)
    write_jsonl(os.path.join(here, "data", "train.jsonl"), train)
    write_jsonl(os.path.join(here, "data", "eval.jsonl"), evals)
    print(f"wrote {len(train)} training and {len(evals)} eval records to {os.path.join(here, 'data')}")


if __name__ == "__main__":
    main()

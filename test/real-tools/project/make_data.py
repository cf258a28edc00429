"""Writes the suite's datasets (deterministic bytes): a word-reversal task.

data/train.jsonl  160 {"text": "<word> <reversed>"} rows, what the training configs name
data/eval.jsonl    40 rows of the same kind, which no config names (lineage must not list it)
data/mc.jsonl      20 multiple-choice rows for the lm-eval task in tasks/reverse_mc.yaml
"""
import json
import random

WORDS = ["keel", "river", "stone", "lamp", "cloud", "forest", "tiger", "ocean", "pencil", "garden", "rocket", "violin", "marble", "window", "ladder"]


def rows(rng: random.Random, n: int) -> list:
    return [{"text": f"{w} {w[::-1]}"} for w in (rng.choice(WORDS) for _ in range(n))]


def main() -> None:
    rng = random.Random(1)
    for name, n in (("train", 160), ("eval", 40)):
        with open(f"data/{name}.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows(rng, n))
    rng = random.Random(3)
    with open("data/mc.jsonl", "w", encoding="utf-8") as f:
        for _ in range(20):
            word = rng.choice(WORDS[:10])
            choices = [word[::-1]] + [w[::-1] for w in rng.sample([w for w in WORDS[:10] if w != word], 2)]
            rng.shuffle(choices)
            f.write(json.dumps({"word": word, "choices": choices, "label": choices.index(word[::-1])}) + "\n")


if __name__ == "__main__":
    main()

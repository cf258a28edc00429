"""Prints every scalar of the TensorBoard event files under a folder, as TensorBoard's own
reader (EventAccumulator) loads them: {"tag": [[step, value, wall_time], ...]} in file order.

    python dump_tb.py outputs/lora/runs
"""
import json
import os
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def main(root: str) -> None:
    out: dict = {}
    for folder, _, files in sorted(os.walk(root)):
        if not any(f.startswith("events.out.tfevents.") for f in files):
            continue
        acc = EventAccumulator(folder, size_guidance={"scalars": 0})
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            out.setdefault(tag, []).extend([e.step, e.value, e.wall_time] for e in acc.Scalars(tag))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])

#!/usr/bin/env python3
"""Writes the example window files in config/demo/ (deterministic).

One window per second of video, as the demo model predicts them: each step
lasts two to four windows, idle windows separate some steps, and a few windows
are below the confidence threshold. `good-part` is a correct assembly of the
seed's gear housing; `faulty-part` leaves out the greased disk of the third
group and presses the lid down before installing it.

    python3 tools/demo-windows.py config/demo
"""
import json
import random
import sys
from pathlib import Path


def seed_run():
    run = ["riveted_start", "spacer", "greased_disk", "separator", "spacer_washer"]
    for _ in range(4):
        run += ["spacer", "greased_disk", "separator"]
    return run + ["spacer", "greased_disk", "install_lid", "press_down", "complete_part"]


def windows(steps, rng):
    t = 0.0
    out = []
    for step in steps:
        if rng.random() < 0.4:
            out.append({"t": t, "label": "idle", "p": round(rng.uniform(0.8, 0.99), 2)})
            t += 1.0
        for i in range(rng.randint(2, 4)):
            if i > 0 and rng.random() < 0.08:
                other = rng.choice(["spacer", "separator", "greased_disk"])
                out.append({"t": t, "label": other, "p": round(rng.uniform(0.3, 0.49), 2)})
            else:
                out.append({"t": t, "label": step, "p": round(rng.uniform(0.7, 0.98), 2)})
            t += 1.0
    out.append({"t": t, "label": "idle", "p": 0.97})
    return out


def main():
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "config/demo")
    good = seed_run()
    faulty = list(good)
    del faulty[9]  # the greased disk of the third spacer/greased disk/separator group
    lid = faulty.index("install_lid")
    faulty[lid], faulty[lid + 1] = faulty[lid + 1], faulty[lid]
    for name, steps, seed in [("good-part", good, 7), ("faulty-part", faulty, 11)]:
        lines = [json.dumps(w) for w in windows(steps, random.Random(seed))]
        (target / f"{name}.windows.jsonl").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

"""Writes the golden tensors for the Rust preprocessing test.

    python3 tools/train/golden_preprocess.py OUTDIR

frames.u8: 30 frames of 16x16 RGB (numpy RandomState(7), stable across
versions); slow.f32 and fast.f32: pack_pathways() of them, little-endian f32,
[1, 3, 8|32, 16, 16]; meta.json: shapes and the torch version used.
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from preprocess import pack_pathways  # noqa: E402

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
frames = np.random.RandomState(7).randint(0, 256, (30, 16, 16, 3)).astype(np.uint8)
slow, fast = pack_pathways(frames)
frames.tofile(out / "frames.u8")
slow.numpy().astype("<f4").tofile(out / "slow.f32")
fast.numpy().astype("<f4").tofile(out / "fast.f32")
(out / "meta.json").write_text(json.dumps({
    "frames": list(frames.shape),
    "slow": list(slow.shape),
    "fast": list(fast.shape),
    "mean": [0.45, 0.45, 0.45],
    "std": [0.225, 0.225, 0.225],
    "torch": torch.__version__,
}, indent=2) + "\n")
print("golden tensors written:", out, "torch", torch.__version__)

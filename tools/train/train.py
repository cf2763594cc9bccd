"""Trains the demo model: a tiny two-pathway SlowFast-style 3D CNN, on clips
of the synthetic assembly station, and exports it to ONNX for the station.

    python3 tools/train/train.py --synth PATH/actrec-synth --out OUTDIR [--minutes 6]

It runs on an NVIDIA GPU when one is there, else on the CPU (slowly). Data:
`actrec-synth` renders training clips (seeds 1000+, alternately from
config/synth/default.toml and config/synth/diverse.toml) and evaluation clips
(held-out seeds 9000+ of default.toml, and config/synth/unseen.toml, never
seen in training) as raw frames with ground truth. Frames are rendered at 640x360, centre-cropped to 360x360 and scaled
to 96x96 with a randomly chosen interpolation, because the station scales the
camera's frames in GStreamer rather than seeing them drawn at 96 px. A window
is 30 frames (1 s); its label is the label of its centre frame, as in
truth.windows.jsonl.

Writes OUTDIR/model.onnx (opset 13, inputs `slow` [1,3,8,96,96] and `fast`
[1,3,32,96,96], NCTHW, output `logits`), OUTDIR/metrics.json and
OUTDIR/train.log. A fixed seed makes it repeatable on the same hardware.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from preprocess import sample_indices  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LABELS = ["idle", "riveted_start", "spacer", "greased_disk", "separator", "spacer_washer",
          "install_lid", "press_down", "complete_part"]
SIZE, WINDOW, FAST, SLOW = 96, 30, 32, 8
RENDER_W, RENDER_H = 640, 360
MEAN, STD = 0.45, 0.225


def log(*args):
    print(f"[{time.strftime('%H:%M:%S')}]", *args, flush=True)


def render(synth, variation, seed, parts, out):
    import cv2

    subprocess.run([synth, "--seed", str(seed), "--parts", str(parts), "--variation", str(variation),
                    "--sequence", str(ROOT / "config/sequences/gear-housing.toml"), "--out", str(out),
                    "--width", str(RENDER_W), "--height", str(RENDER_H), "--no-video", "--raw"],
                   check=True, stdout=subprocess.DEVNULL)
    truth = json.loads((out / "truth.json").read_text())
    raw = np.memmap(out / "frames.rgb", dtype=np.uint8, mode="r").reshape(truth["frames"], RENDER_H, RENDER_W, 3)
    left = (RENDER_W - RENDER_H) // 2
    rng = np.random.RandomState(seed)
    methods = [cv2.INTER_LINEAR, cv2.INTER_AREA, cv2.INTER_NEAREST, cv2.INTER_CUBIC]
    method = methods[rng.randint(len(methods))]
    frames = np.stack([cv2.resize(np.ascontiguousarray(f[:, left:left + RENDER_H]), (SIZE, SIZE), interpolation=method) for f in raw])
    labels = np.concatenate([np.full(n, LABELS.index(label), dtype=np.int64) for label, n in truth["frame_labels"]])
    del raw
    (out / "frames.rgb").unlink()
    return frames, labels


def dataset(synth, variation, seeds, parts, work):
    work.mkdir(parents=True, exist_ok=True)
    # Raw frames at 640x360 are large: a few clips at a time keep the disk from filling.
    with ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, 8)) as pool:
        clips = list(pool.map(lambda s: render(synth, variation, s, parts, work / f"{variation.stem}-{s}"), seeds))
    return clips


class Conv(nn.Sequential):
    def __init__(self, cin, cout, kernel, stride):
        pad = tuple(k // 2 for k in kernel)
        super().__init__(nn.Conv3d(cin, cout, kernel, stride, pad, bias=False), nn.BatchNorm3d(cout), nn.ReLU(inplace=True))


class TinySlowFast(nn.Module):
    """Slow (8 frames, wide) and fast (32 frames, narrow) pathways with
    lateral fast-to-slow connections, as in SlowFast, sized for a 2-core CPU."""

    def __init__(self, classes):
        super().__init__()
        self.slow1 = Conv(3, 24, (1, 5, 5), (1, 2, 2))
        self.fast1 = Conv(3, 6, (3, 5, 5), (1, 2, 2))
        self.lat1 = nn.Conv3d(6, 12, (5, 1, 1), (4, 1, 1), (2, 0, 0))
        self.slow2 = Conv(36, 48, (1, 3, 3), (1, 2, 2))
        self.fast2 = Conv(6, 12, (3, 3, 3), (1, 2, 2))
        self.lat2 = nn.Conv3d(12, 24, (5, 1, 1), (4, 1, 1), (2, 0, 0))
        self.slow3 = Conv(72, 96, (3, 3, 3), (1, 2, 2))
        self.fast3 = Conv(12, 24, (3, 3, 3), (1, 2, 2))
        self.slow4 = Conv(96, 128, (3, 3, 3), (1, 2, 2))
        self.fast4 = Conv(24, 32, (3, 3, 3), (1, 2, 2))
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(128 + 32, classes)

    def forward(self, slow, fast):
        slow, fast = self.slow1(slow), self.fast1(fast)
        slow, fast = F.max_pool3d(slow, (1, 2, 2)), F.max_pool3d(fast, (1, 2, 2))
        slow = torch.cat([slow, self.lat1(fast)], 1)
        slow, fast = self.slow2(slow), self.fast2(fast)
        slow = torch.cat([slow, self.lat2(fast)], 1)
        slow, fast = self.slow3(slow), self.fast3(fast)
        slow, fast = self.slow4(slow), self.fast4(fast)
        # Means instead of a flatten: no shape arithmetic (int64) in the graph.
        features = torch.cat([slow.mean(dim=(2, 3, 4)), fast.mean(dim=(2, 3, 4))], 1)
        return self.head(self.drop(features))


class Windows:
    """Windows of one set of clips, kept on the device as uint8."""

    def __init__(self, clips, device):
        self.frames = [torch.from_numpy(f).to(device) for f, _ in clips]
        self.labels = [torch.from_numpy(l).to(device) for _, l in clips]
        self.starts = [(c, s) for c, (f, _) in enumerate(clips) for s in range(0, len(f) - WINDOW)]
        self.device = device
        self.fast_idx = sample_indices(WINDOW, FAST).to(device)
        self.slow_idx = sample_indices(FAST, SLOW).to(device)

    def batch(self, picks, augment=False):
        xs, ys = [], []
        for c, s in picks:
            xs.append(self.frames[c][s:s + WINDOW])
            ys.append(self.labels[c][s + WINDOW // 2])
        x = torch.stack(xs).float() / 255.0  # B T H W C
        if augment:
            # Strong colour and light changes: the model must key on where the
            # hand goes and what it carries, not on this clip's skin, sleeve or bench.
            b = x.shape[0]
            u = lambda *shape, lo, hi: torch.empty(*shape, device=self.device).uniform_(lo, hi)  # noqa: E731
            x = x * u(b, 1, 1, 1, 3, lo=0.6, hi=1.4) * u(b, 1, 1, 1, 1, lo=0.6, hi=1.3) + u(b, 1, 1, 1, 3, lo=-0.1, hi=0.1)
            x = (x + torch.randn_like(x) * u(b, 1, 1, 1, 1, lo=0.0, hi=0.05)).clamp(0, 1)
            # Half the windows get their colour channels shuffled: a sleeve or
            # bench of any hue, not only the hues rendered.
            if np.random.rand() < 0.5:
                x = x[..., torch.from_numpy(np.random.permutation(3)).to(self.device)]
            dx, dy = np.random.randint(-6, 7, 2)
            x = torch.roll(x, shifts=(int(dy), int(dx)), dims=(2, 3))
        x = ((x - MEAN) / STD).permute(0, 4, 1, 2, 3)  # B C T H W
        fast = x[:, :, self.fast_idx]
        slow = fast[:, :, self.slow_idx]
        return slow.contiguous(), fast.contiguous(), torch.stack(ys)


def evaluate(model, windows, stride=8, batch=256):
    model.eval()
    picks = [p for p in windows.starts if p[1] % stride == 0]
    truth, preds = [], []
    with torch.no_grad(), torch.autocast(windows.device.type, dtype=torch.bfloat16, enabled=windows.device.type == "cuda"):
        for i in range(0, len(picks), batch):
            slow, fast, y = windows.batch(picks[i:i + batch])
            preds.append(model(slow, fast).argmax(1).cpu())
            truth.append(y.cpu())
    truth, preds = torch.cat(truth).numpy(), torch.cat(preds).numpy()
    confusion = np.zeros((len(LABELS), len(LABELS)), dtype=np.int64)
    np.add.at(confusion, (truth, preds), 1)
    f1 = []
    for k in range(len(LABELS)):
        tp = confusion[k, k]
        p = tp / max(confusion[:, k].sum(), 1)
        r = tp / max(confusion[k].sum(), 1)
        f1.append(0.0 if p + r == 0 else 2 * p * r / (p + r))
    return {"windows": int(len(truth)), "accuracy": float((truth == preds).mean()),
            "macro_f1": float(np.mean(f1)), "confusion": confusion.tolist()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--synth", required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--work", type=Path, default=Path("/tmp/actrec-train"))
    ap.add_argument("--minutes", type=float, default=6.0)
    ap.add_argument("--train-clips", type=int, default=64)
    ap.add_argument("--parts-per-clip", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    log("device", device, "torch", torch.__version__)

    default, diverse = ROOT / "config/synth/default.toml", ROOT / "config/synth/diverse.toml"
    unseen = ROOT / "config/synth/unseen.toml"
    seeds = range(1000, 1000 + args.train_clips)
    train = Windows(dataset(args.synth, default, seeds[0::2], args.parts_per_clip, args.work)
                    + dataset(args.synth, diverse, seeds[1::2], args.parts_per_clip, args.work), device)
    held_out = Windows(dataset(args.synth, default, range(9000, 9008), args.parts_per_clip, args.work), device)
    unseen_set = Windows(dataset(args.synth, unseen, range(9100, 9108), args.parts_per_clip, args.work), device)
    log("windows: train", len(train.starts), "held-out", len(held_out.starts), "unseen", len(unseen_set.starts))

    counts = torch.bincount(torch.cat(train.labels), minlength=len(LABELS)).float()
    weights = (counts.sum() / (len(LABELS) * counts.clamp(min=1))).clamp(max=5.0).to(device)
    model = TinySlowFast(len(LABELS)).to(device)
    log("parameters", sum(p.numel() for p in model.parameters()))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    deadline = time.time() + args.minutes * 60
    total_steps = None
    step, batch = 0, 64
    history = []
    start = time.time()
    while time.time() < deadline:
        model.train()
        picks = [train.starts[i] for i in np.random.randint(0, len(train.starts), batch)]
        slow, fast, y = train.batch(picks, augment=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            loss = F.cross_entropy(model(slow, fast), y, weight=weights, label_smoothing=0.05)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        # Cosine decay over the time budget.
        frac = min((time.time() - start) / (args.minutes * 60), 1.0)
        for g in opt.param_groups:
            g["lr"] = 3e-3 * 0.5 * (1 + np.cos(np.pi * frac))
        step += 1
        if step % 500 == 0:
            m = evaluate(model, held_out, stride=30)
            u = evaluate(model, unseen_set, stride=30)
            history.append({"step": step, "loss": float(loss), "held_out_accuracy": m["accuracy"], "unseen_accuracy": u["accuracy"]})
            log(f"step {step} loss {float(loss):.3f} held-out acc {m['accuracy']:.3f} unseen acc {u['accuracy']:.3f}")
    total_steps = step

    log("steps", total_steps, "in", round(time.time() - start), "s")
    metrics = {"labels": LABELS, "steps": total_steps, "minutes": args.minutes,
               "train_clips": args.train_clips, "parts_per_clip": args.parts_per_clip,
               "held_out": evaluate(model, held_out), "unseen_variation": evaluate(model, unseen_set),
               "history": history, "torch": torch.__version__, "device": str(device)}
    log("held-out", json.dumps({k: metrics["held_out"][k] for k in ("accuracy", "macro_f1")}),
        "unseen", json.dumps({k: metrics["unseen_variation"][k] for k in ("accuracy", "macro_f1")}))
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")

    model = model.float().cpu().eval()
    slow = torch.zeros(1, 3, SLOW, SIZE, SIZE)
    fast = torch.zeros(1, 3, FAST, SIZE, SIZE)
    torch.onnx.export(model, (slow, fast), str(args.out / "model.onnx"), opset_version=13, dynamo=False,
                      input_names=["slow", "fast"], output_names=["logits"])
    torch.save(model.state_dict(), args.out / "model.pt")
    log("exported", args.out / "model.onnx")


if __name__ == "__main__":
    main()

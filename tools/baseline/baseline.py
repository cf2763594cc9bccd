"""The peer for `make bench`: the original Python pipeline, re-implemented.

    python3 tools/baseline/baseline.py --clip CLIP.mp4 --model config/models/demo --json OUT.json [--no-output]

What the seed article's system did, in the order it did it
(../shared/seed/original-article.txt, "Inference pipeline"):
1. decode the whole video into memory first (PyAV, as pytorchvideo's
   EncodedVideo does), RGB;
2. for each 1 s window of 30 frames, preprocessing in PyTorch: to float,
   /255, normalise, scale the short side to the model's size, square centre
   crop, then the fast (32) and slow (8) pathway sampling;
3. inference in PyTorch, with the demo model's own weights, read from the
   station's model.onnx (weights.py);
4. softmax and label;
5. overlay of the label on every frame and writing an mp4 with OpenCV
   (left out with --no-output).

Each stage is timed with time.perf_counter around it, as the article did.
The JSON has the same fields as one run of `actrec-lab bench`, so that
`actrec-lab bench --baseline` prints the ratios.
"""
import argparse
import json
import resource
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from weights import load_demo_model, read_manifest  # noqa: E402

WINDOW_FRAMES = 30  # 1 s at 30 fps, the original's window and stride


def sample_indices(length, count):
    return torch.linspace(0, length - 1, count).long()


def memory_available():
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def decode_all(clip, max_frames):
    """The whole video in memory as uint8 RGB frames, as the original loaded it."""
    frames = []
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        need = stream.codec_context.width * stream.codec_context.height * 3 * max_frames
        available = memory_available()
        if need > 0.8 * available:
            sys.exit(f"baseline: {clip}: {max_frames} decoded frames need {need / 2**30:.1f} GiB, "
                     f"only {available / 2**30:.1f} GiB of memory is free; use --seconds")
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) == max_frames:
                break
    return frames


def preprocess(frames, size, fast_frames, slow_frames, mean, std):
    """30 uint8 HWC frames -> (slow, fast), float32 [1, 3, T, size, size]."""
    x = torch.from_numpy(np.stack(frames)).float() / 255.0  # T H W C
    x = (x - torch.tensor(mean)) / torch.tensor(std)
    x = x.permute(3, 0, 1, 2)  # C T H W
    # Short side to `size` (pytorchvideo's ShortSideScale), then the square centre crop.
    h, w = x.shape[2], x.shape[3]
    scaled = (size, round(w * size / h)) if h <= w else (round(h * size / w), size)
    x = F.interpolate(x, size=scaled, mode="bilinear", align_corners=False)
    top, left = (x.shape[2] - size) // 2, (x.shape[3] - size) // 2
    x = x[:, :, top:top + size, left:left + size]
    fast = x[:, sample_indices(x.shape[1], fast_frames)]
    slow = fast[:, sample_indices(fast.shape[1], slow_frames)]
    return slow.unsqueeze(0).contiguous(), fast.unsqueeze(0).contiguous()


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, required=True)
    parser.add_argument("--model", type=Path, required=True, help="the model directory (manifest.toml, model.onnx)")
    parser.add_argument("--json", type=Path, required=True, help="where the figures go")
    parser.add_argument("--video-out", type=Path, help="the annotated mp4 (default: beside --json)")
    parser.add_argument("--seconds", type=float, default=60.0, help="of the clip to process (default 60)")
    parser.add_argument("--no-output", action="store_true", help="decisions only: no overlay, no mp4")
    args = parser.parse_args()

    started = time.perf_counter()
    manifest = read_manifest(args.model)
    spec = manifest["input"]
    model = load_demo_model(args.model, manifest)
    labels = manifest["labels"]

    t0 = time.perf_counter()
    frames = decode_all(args.clip, int(round(args.seconds * 30)))
    load_seconds = time.perf_counter() - t0
    windows = len(frames) // WINDOW_FRAMES
    if windows == 0:
        sys.exit(f"baseline: {args.clip}: fewer than {WINDOW_FRAMES} frames")

    writer = None
    if not args.no_output:
        video_out = args.video_out or args.json.with_suffix(".mp4")
        height, width = frames[0].shape[:2]
        writer = cv2.VideoWriter(str(video_out), cv2.VideoWriter_fourcc(*"mp4v"), 30, (width, height))
        if not writer.isOpened():
            sys.exit(f"baseline: {video_out}: OpenCV cannot write mp4")

    stages = {"preprocess": [], "inference": [], "decision": [], "overlay_encode": []}
    latencies, predictions = [], []
    with torch.inference_mode():
        for w in range(windows):
            window = frames[w * WINDOW_FRAMES:(w + 1) * WINDOW_FRAMES]
            t0 = time.perf_counter()
            slow, fast = preprocess(window, spec["size"], spec["fast_frames"], spec["slow_frames"], spec["mean"], spec["std"])
            t1 = time.perf_counter()
            logits = model(slow, fast)
            t2 = time.perf_counter()
            p = torch.softmax(logits[0], 0)
            best = int(torch.argmax(p))
            label, confidence = labels[best], float(p[best])
            t3 = time.perf_counter()
            if writer is not None:
                text = f"{label} {confidence:.2f}"
                for frame in window:
                    bgr = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
                    cv2.putText(bgr, text, (40, 80), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (255, 255, 255), 4)
                    writer.write(bgr)
            t4 = time.perf_counter()
            stages["preprocess"].append(t1 - t0)
            stages["inference"].append(t2 - t1)
            stages["decision"].append(t3 - t2)
            stages["overlay_encode"].append(t4 - t3)
            latencies.append(t3 - t0)
            predictions.append({"t": (w + 1) * WINDOW_FRAMES / 30.0, "label": label, "p": round(confidence, 4)})
    if writer is not None:
        writer.release()
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    ms = lambda seconds: round(seconds * 1000.0, 3)  # noqa: E731
    report = {
        "name": "baseline" if writer is not None else "baseline, decisions only",
        "runner": f"python {sys.version.split()[0]}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
                  f"PyAV {av.__version__}, OpenCV {cv2.__version__}",
        "frames": windows * WINDOW_FRAMES,
        "video_seconds": windows * WINDOW_FRAMES / 30.0,
        "windows": windows,
        "wall_seconds": round(wall, 3),
        "fps": round(windows * WINDOW_FRAMES / wall, 2),
        "cpu_percent": round(100.0 * (usage.ru_utime + usage.ru_stime) / wall, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024.0, 1),
        # Per second of video: the original's window of 30 frames.
        "stage_ms_per_video_second": {
            "decode": ms(load_seconds / windows),
            **{name: ms(sum(times) / windows) for name, times in stages.items()},
        },
        "latency_ms": {"p50": ms(percentile(latencies, 50)), "p99": ms(percentile(latencies, 99))},
        "load_seconds": round(load_seconds, 3),
        "predictions": predictions,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{report['name']}: {report['frames']} frames in {wall:.1f} s, {report['fps']} fps, "
          f"peak RSS {report['peak_rss_mb']} MB, CPU {report['cpu_percent']} %")


if __name__ == "__main__":
    main()

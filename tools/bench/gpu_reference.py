"""PyTorch reference figures for this model family on an NVIDIA GPU: the
GPU side's yardstick for the TensorRT path (docs/PERFORMANCE.md).

    python3 tools/bench/gpu_reference.py --json OUT.json [--iterations 300]

Times one window (batch 1) of the demo model (tools/train/train.py's
TinySlowFast, 96 px, 8 + 32 frames) and of SlowFast R50
(tools/bench/export_slowfast_r50.py, 256 px, 8 + 32 frames), both with
random weights (weights do not change the time), in FP32 and FP16, eager
and replayed from a CUDA graph. Each iteration is timed with CUDA events
after a warm-up; inputs stay on the GPU (no upload). cuDNN picks its
algorithms first (benchmark mode); TF32 stays off, so FP32 is FP32.
"""
import argparse
import json
import statistics
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "train"))
from export_slowfast_r50 import SlowFastR50  # noqa: E402
from train import TinySlowFast  # noqa: E402


def models():
    torch.manual_seed(0)
    yield "demo model (TinySlowFast, 96 px)", TinySlowFast(9), (8, 32, 96)
    yield "SlowFast R50 (8x8, 256 px)", SlowFastR50(), (8, 32, 256)


def time_it(run, iterations):
    for _ in range(20):
        run()
    torch.cuda.synchronize()
    times = []
    for _ in range(iterations):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        run()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    return {
        "mean_ms": round(statistics.fmean(times), 4),
        "p50_ms": round(times[len(times) // 2], 4),
        "p99_ms": round(times[min(len(times) - 1, int(0.99 * len(times)))], 4),
        "windows_per_s": round(1000.0 / statistics.fmean(times), 1),
    }


def measure(model, shape, dtype, graph, iterations):
    slow_t, fast_t, size = shape
    device = torch.device("cuda")
    model = model.to(device=device, dtype=dtype).eval()
    slow = torch.randn(1, 3, slow_t, size, size, device=device, dtype=dtype)
    fast = torch.randn(1, 3, fast_t, size, size, device=device, dtype=dtype)
    with torch.inference_mode():
        if not graph:
            return time_it(lambda: model(slow, fast), iterations)
        # Warm up on a side stream, as CUDA graph capture requires.
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(5):
                model(slow, fast)
        torch.cuda.current_stream().wait_stream(side)
        cuda_graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(cuda_graph):
            model(slow, fast)
        return time_it(cuda_graph.replay, iterations)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("gpu_reference: no CUDA device")
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    results = []
    for name, model, shape in models():
        for dtype in (torch.float32, torch.float16):
            for graph in (False, True):
                figures = measure(model, shape, dtype, graph, args.iterations)
                row = {"model": name, "dtype": str(dtype).removeprefix("torch."),
                       "mode": "CUDA graph" if graph else "eager", **figures}
                results.append(row)
                print(json.dumps(row), flush=True)
    report = {
        "device": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "iterations": args.iterations,
        "results": results,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Quantises the demo model for TensorRT's INT8 (explicit quantisation).

    python3 tools/train/quantize.py --synth PATH/actrec-synth [--model config/models/demo]

TensorRT builds INT8 either from a calibration cache, which needs TensorRT's
own calibrator run on the target, or from a model whose quantisation is
written in it as QuantizeLinear/DequantizeLinear pairs. This makes the
second, with ONNX Runtime's static quantiser: symmetric INT8 (zero points
of 0, as TensorRT requires), weights per output channel, activation ranges
from windows of generated training clips (seeds 1000-1003, both training
variations). It then runs the float and the quantised model on ONNX
Runtime over windows of held-out clips (seeds 9000-9003) and prints how
often they agree and how accurate each is. Writes MODEL_DIR/model.int8.onnx;
`actrec build-engine` uses it for `precision = "int8"` when the manifest
names it (`int8_file`).
"""
import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static

sys.path.insert(0, str(Path(__file__).parent))
from preprocess import pack_pathways  # noqa: E402
from train import LABELS, ROOT, WINDOW, render  # noqa: E402

CALIBRATION = [(ROOT / "config/synth/default.toml", s) for s in (1000, 1002)] + \
              [(ROOT / "config/synth/diverse.toml", s) for s in (1001, 1003)]
HELD_OUT = [(ROOT / "config/synth/default.toml", s) for s in (9000, 9001, 9002, 9003)]
STRIDE = 8


def windows(synth, clips, work):
    """(slow, fast, label) of every STRIDE-th window of each clip."""
    for variation, seed in clips:
        frames, labels = render(synth, variation, seed, 1, work / f"{variation.stem}-{seed}")
        for start in range(0, len(frames) - WINDOW, STRIDE):
            slow, fast = pack_pathways(frames[start:start + WINDOW])
            yield slow.numpy(), fast.numpy(), int(labels[start + WINDOW // 2])


class Reader(CalibrationDataReader):
    def __init__(self, items):
        self.items = iter(items)

    def get_next(self):
        item = next(self.items, None)
        return None if item is None else {"slow": item[0], "fast": item[1]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synth", required=True, help="the actrec-synth binary")
    parser.add_argument("--model", type=Path, default=ROOT / "config/models/demo")
    args = parser.parse_args()
    source = args.model / "model.onnx"
    target = args.model / "model.int8.onnx"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        calibration = list(windows(args.synth, CALIBRATION, work))
        quantize_static(str(source), str(target), Reader(calibration), quant_format=QuantFormat.QDQ,
                        per_channel=True, weight_type=QuantType.QInt8, activation_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.Percentile,
                        extra_options={"ActivationSymmetric": True, "WeightSymmetric": True})
        held_out = list(windows(args.synth, HELD_OUT, work))
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    sessions = [onnxruntime.InferenceSession(str(p), options, providers=["CPUExecutionProvider"])
                for p in (source, target)]
    agree, right, worst = 0, [0, 0], 0.0
    for slow, fast, label in held_out:
        logits = [s.run(None, {"slow": slow, "fast": fast})[0][0] for s in sessions]
        probabilities = [np.exp(l - l.max()) / np.exp(l - l.max()).sum() for l in logits]
        top = [int(np.argmax(l)) for l in logits]
        agree += top[0] == top[1]
        right = [r + (t == label) for r, t in zip(right, top)]
        worst = max(worst, float(np.abs(probabilities[0] - probabilities[1]).max()))
    n = len(held_out)
    report = {"calibration_windows": len(calibration), "held_out_windows": n,
              "top1_agreement": agree / n, "accuracy_float": right[0] / n, "accuracy_int8": right[1] / n,
              "largest_probability_difference": worst, "labels": len(LABELS),
              "bytes": target.stat().st_size}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

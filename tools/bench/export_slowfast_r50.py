"""Exports the full SlowFast R50 architecture (8x8, 256 px), with random
weights, to ONNX, beside a manifest.toml that describes it in the station's
own format. For benchmarks only: the output is never committed.

    python3 tools/bench/export_slowfast_r50.py --out DIR

Then `ACTREC_BENCH_MODEL=DIR cargo bench -p actrec-infer` times it on every
CPU runtime. The architecture follows Feichtenhofer et al., "SlowFast
Networks for Video Recognition" (ICCV 2019), table 1: alpha = 4 (the fast
pathway sees 4x the frames), beta = 1/8 (and 1/8 of the channels),
time-strided 5x1x1 lateral convolutions after conv1 and res2-res4, ResNet-50
bottleneck blocks [3, 4, 6, 3], temporal kernels only from res4 on in the slow
pathway. Written from the paper, with no code from elsewhere; needs only torch.
Opset 13, no int64 arithmetic: global average pools are means over fixed axes.
"""
import argparse
from pathlib import Path

import torch
import torch.nn as nn

ALPHA, BETA_INV, FUSION = 4, 8, 2
SIZE, SLOW_T = 256, 8
FAST_T = SLOW_T * ALPHA
CLASSES = 400


def conv_bn(cin, cout, kernel, stride=(1, 1, 1), relu=True):
    pad = tuple(k // 2 for k in kernel)
    layers = [nn.Conv3d(cin, cout, kernel, stride, pad, bias=False), nn.BatchNorm3d(cout)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class Bottleneck(nn.Module):
    def __init__(self, cin, inner, cout, temporal, spatial_stride):
        super().__init__()
        self.a = conv_bn(cin, inner, (3 if temporal else 1, 1, 1))
        self.b = conv_bn(inner, inner, (1, 3, 3), (1, spatial_stride, spatial_stride))
        self.c = conv_bn(inner, cout, (1, 1, 1), relu=False)
        self.skip = None
        if cin != cout or spatial_stride != 1:
            self.skip = conv_bn(cin, cout, (1, 1, 1), (1, spatial_stride, spatial_stride), relu=False)

    def forward(self, x):
        shortcut = x if self.skip is None else self.skip(x)
        return torch.relu(self.c(self.b(self.a(x))) + shortcut)


def stage(cin, inner, cout, blocks, temporal, spatial_stride):
    layers = [Bottleneck(cin, inner, cout, temporal, spatial_stride)]
    layers += [Bottleneck(cout, inner, cout, temporal, 1) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


def lateral(fast_channels):
    # Time-strided convolution: fast frames down to slow frames, channels x2.
    return nn.Conv3d(fast_channels, fast_channels * FUSION, (5, 1, 1), (ALPHA, 1, 1), (2, 0, 0), bias=False)


class SlowFastR50(nn.Module):
    def __init__(self):
        super().__init__()
        s, f = 64, 64 // BETA_INV
        self.slow_stem = conv_bn(3, s, (1, 7, 7), (1, 2, 2))
        self.fast_stem = conv_bn(3, f, (5, 7, 7), (1, 2, 2))
        self.pool = nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))
        self.lat0 = lateral(f)
        widths = [(64, 256), (128, 512), (256, 1024), (512, 2048)]
        blocks = [3, 4, 6, 3]
        slow_temporal = [False, False, True, True]
        self.slow_stages, self.fast_stages, self.laterals = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        slow_in, fast_in = s + f * FUSION, f
        for i, ((inner, out), n) in enumerate(zip(widths, blocks)):
            stride = 1 if i == 0 else 2
            self.slow_stages.append(stage(slow_in, inner, out, n, slow_temporal[i], stride))
            self.fast_stages.append(stage(fast_in, inner // BETA_INV, out // BETA_INV, n, True, stride))
            fast_in = out // BETA_INV
            if i < 3:
                self.laterals.append(lateral(fast_in))
                slow_in = out + fast_in * FUSION
        self.head = nn.Linear(2048 + 2048 // BETA_INV, CLASSES)

    def forward(self, slow, fast):
        slow, fast = self.pool(self.slow_stem(slow)), self.pool(self.fast_stem(fast))
        slow = torch.cat([slow, self.lat0(fast)], 1)
        for i in range(4):
            slow, fast = self.slow_stages[i](slow), self.fast_stages[i](fast)
            if i < 3:
                slow = torch.cat([slow, self.laterals[i](fast)], 1)
        features = torch.cat([slow.mean(dim=(2, 3, 4)), fast.mean(dim=(2, 3, 4))], 1)
        return self.head(features)


MANIFEST = f'''# SlowFast R50 (8x8, {SIZE} px) with random weights: benchmarks only.
name = "slowfast-r50-random"
version = "0"
file = "model.onnx"
labels = [{", ".join(f'"class_{k}"' for k in range(CLASSES))}]

[input]
layout = "NCTHW"
size = {SIZE}
window_seconds = 2.1333333333333333   # 64 frames at 30 fps, sampled every 2nd (8x8 = 8 slow frames, stride 8)
stride_seconds = 1.0
fast_input = "fast"
slow_input = "slow"
fast_frames = {FAST_T}
slow_frames = {SLOW_T}
mean = [0.45, 0.45, 0.45]
std = [0.225, 0.225, 0.225]
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = SlowFastR50().eval()
    print("parameters", sum(p.numel() for p in model.parameters()))
    slow = torch.zeros(1, 3, SLOW_T, SIZE, SIZE)
    fast = torch.zeros(1, 3, FAST_T, SIZE, SIZE)
    with torch.no_grad():
        print("logits", tuple(model(slow, fast).shape))
    torch.onnx.export(model, (slow, fast), str(args.out / "model.onnx"), opset_version=13, dynamo=False,
                      input_names=["slow", "fast"], output_names=["logits"])
    (args.out / "manifest.toml").write_text(MANIFEST)
    print("wrote", args.out / "model.onnx", args.out / "manifest.toml")


if __name__ == "__main__":
    main()

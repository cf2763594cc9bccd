"""The demo model in PyTorch with the station's own weights.

The network is tools/train/train.py's TinySlowFast. The station ships only
model.onnx, where torch's export folded each BatchNorm into the convolution
before it; so each Conv block's BatchNorm becomes an identity, its
convolution gets the folded bias, and the weights are read from the ONNX
convolutions in the order the network calls them. `load_demo_model` then
checks the PyTorch module against ONNX Runtime on the same input: same
weights, same outputs.
"""
import sys
import tomllib
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import torch
import torch.nn as nn
from onnx import numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
from train import Conv, TinySlowFast  # noqa: E402


def read_manifest(model_dir):
    path = Path(model_dir) / "manifest.toml"
    with open(path, "rb") as f:
        return tomllib.load(f)


def load_demo_model(model_dir, manifest):
    onnx_path = Path(model_dir) / manifest["file"]
    graph = onnx.load(str(onnx_path)).graph
    initial = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer}
    convs = [n for n in graph.node if n.op_type == "Conv"]
    gemms = [n for n in graph.node if n.op_type == "Gemm"]

    model = TinySlowFast(len(manifest["labels"]))
    for block in model.modules():
        if isinstance(block, Conv):
            conv = block[0]
            conv.bias = nn.Parameter(torch.zeros(conv.out_channels))
            block[1] = nn.Identity()
    model.eval()

    spec = manifest["input"]
    size = spec["size"]
    slow = torch.randn(1, 3, spec["slow_frames"], size, size)
    fast = torch.randn(1, 3, spec["fast_frames"], size, size)
    called = []
    hooks = [m.register_forward_hook(lambda m, i, o: called.append(m))
             for m in model.modules() if isinstance(m, nn.Conv3d)]
    with torch.inference_mode():
        model(slow, fast)
    for hook in hooks:
        hook.remove()
    if len(called) != len(convs) or len(gemms) != 1:
        sys.exit(f"baseline: {onnx_path}: {len(convs)} convolutions and {len(gemms)} Gemm, "
                 f"the network calls {len(called)} convolutions and has one head")
    with torch.no_grad():
        for conv, node in zip(called, convs):
            weight, bias = initial[node.input[1]], initial[node.input[2]]
            if weight.shape != conv.weight.shape or bias.shape != conv.bias.shape:
                sys.exit(f"baseline: {onnx_path}: node {node.name}: weight {tuple(weight.shape)}, "
                         f"the network expects {tuple(conv.weight.shape)}")
            conv.weight.copy_(weight)
            conv.bias.copy_(bias)
        model.head.weight.copy_(initial[gemms[0].input[1]])
        model.head.bias.copy_(initial[gemms[0].input[2]])

    # Same weights, same outputs: PyTorch against ONNX Runtime on one input.
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    feeds = {spec["slow_input"]: slow.numpy(), spec["fast_input"]: fast.numpy()}
    expected = session.run(None, feeds)[0]
    with torch.inference_mode():
        got = model(slow, fast).numpy()
    worst = float(np.abs(got - expected).max())
    if worst > 1e-3:
        sys.exit(f"baseline: {onnx_path}: the PyTorch module differs from ONNX Runtime by {worst:.2e}")
    return model

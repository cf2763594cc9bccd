"""The training side's preprocessing, in PyTorch, as pytorchvideo does it.

Frames arrive square and at the model's size (the station crops and scales in
its GStreamer pipeline). A window of T frames becomes two pathways:
fast = frames[floor(linspace(0, T-1, fast_frames))],
slow = fast[floor(linspace(0, fast_frames-1, slow_frames))],
each normalised per channel, (x/255 - mean)/std, and packed [1, 3, T', H, W].
The station's Rust preprocessing (app/preprocess) is checked against this by a
golden test on committed tensors (tests/fixtures/golden/).
"""
import torch


def sample_indices(length: int, count: int) -> torch.Tensor:
    return torch.linspace(0, length - 1, count).long()


def pack_pathways(frames, fast_frames=32, slow_frames=8, mean=(0.45, 0.45, 0.45), std=(0.225, 0.225, 0.225)):
    """frames: uint8 [T, H, W, 3] -> (slow, fast), float32 [1, 3, T', H, W]."""
    x = torch.as_tensor(frames).float() / 255.0
    x = (x - torch.tensor(mean)) / torch.tensor(std)
    x = x.permute(3, 0, 1, 2)
    fast = x[:, sample_indices(x.shape[1], fast_frames)]
    slow = fast[:, sample_indices(fast.shape[1], slow_frames)]
    return slow.unsqueeze(0).contiguous(), fast.unsqueeze(0).contiguous()

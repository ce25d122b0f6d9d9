"""Batched inference on aligned uint8 crops, following each model's own preprocessing."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from fer.models.base import FERModel


def to_model_input(crops: np.ndarray, model: FERModel) -> torch.Tensor:
    """(N, H, W, 3) uint8 RGB crops -> the (N, C, S, S) float tensor `model` expects.

    Resizes with bilinear antialiasing to `preprocess.input_size`, converts to grey when the
    model is a grey-scale one, then normalises with the checkpoint's mean/std.
    """
    pp = model.config.preprocess
    x = torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float() / 255.0
    if x.shape[-1] != pp.input_size or x.shape[-2] != pp.input_size:
        x = F.interpolate(x, size=(pp.input_size, pp.input_size), mode="bilinear", align_corners=False, antialias=True)
    if pp.grayscale:
        w = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        x = (x * w).sum(1, keepdim=True)
    channels = x.shape[1]
    mean = torch.tensor(pp.mean, dtype=torch.float32).view(1, -1, 1, 1)[:, :channels]
    std = torch.tensor(pp.std, dtype=torch.float32).view(1, -1, 1, 1)[:, :channels]
    return (x - mean) / std


@torch.inference_mode()
def head_probs_of_crops(model: FERModel, crops: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Per-head softmax probabilities (N, R, C) for a stack of crops, `batch_size` crops at a time."""
    out = []
    for start in range(0, len(crops), max(1, batch_size)):
        x = to_model_input(crops[start : start + batch_size], model)
        out.append(model(x).head_probs.float().cpu().numpy())
    if not out:
        n_cls = len(model.config.class_names)
        return np.zeros((0, model.num_heads, n_cls), np.float32)
    return np.concatenate(out, 0)

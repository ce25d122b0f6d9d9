"""Batched inference on aligned uint8 crops, with each model's own preprocessing.

Preprocessing is `fer.data.transforms.eval_transform` (what evaluation and the Predictor use),
and the fused probabilities are `ModelOutput.probs`: the mean of the heads'
probabilities for project models, the original classifier's output for reference models.
"""

from __future__ import annotations

import numpy as np
import torch

from fer.models.base import FERModel
from fer.models.finite import check_finite_output


def to_model_input(crops: np.ndarray, model: FERModel) -> torch.Tensor:
    """(N, H, W, 3) uint8 RGB crops -> the (N, C, S, S) float tensor `model` expects."""
    from fer.data.transforms import eval_transform

    pp = model.config.preprocess
    return torch.stack([eval_transform(c, pp) for c in crops])


@torch.inference_mode()
def probs_of_crops(model: FERModel, crops: np.ndarray, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(fused (N, C), per-head (N, R, C)) probabilities for a stack of crops, `batch_size` at a time."""
    device = next(iter(model.parameters()), torch.empty(0)).device
    fused, heads = [], []
    for start in range(0, len(crops), max(1, batch_size)):
        out = model(to_model_input(crops[start : start + batch_size], model).to(device))
        check_finite_output(out.head_logits, out.probs, model=repr(model.config.name))
        fused.append(out.probs.float().cpu().numpy())
        heads.append(out.head_probs.float().cpu().numpy())
    if not heads:
        c = len(model.config.class_names)
        return np.zeros((0, c), np.float32), np.zeros((0, model.num_heads, c), np.float32)
    return np.concatenate(fused, 0), np.concatenate(heads, 0)

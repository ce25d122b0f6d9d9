"""Batched inference on aligned uint8 crops, with each model's own preprocessing.

A thin face over `fer.predictor.infer_crops`, the project's one batch loop: preprocessing is the
model's `Preprocess.to_tensor` and the fused probabilities are `ModelOutput.probs` (the mean of the
heads' probabilities for project models, the original classifier's output for reference models).
"""

from __future__ import annotations

import numpy as np
import torch

from fer.models.base import FERModel


def to_model_input(crops: np.ndarray, model: FERModel) -> torch.Tensor:
    """(N, H, W, 3) uint8 RGB crops -> the (N, C, S, S) float tensor `model` expects."""
    return model.config.preprocess.batch(crops)


def probs_of_crops(model: FERModel, crops: np.ndarray, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(fused (N, C), per-head (N, R, C)) probabilities for a stack of crops, `batch_size` at a time."""
    from fer.predictor import infer_crops

    out = infer_crops(model, list(crops), batch_size)
    return out.probs, out.head_probs

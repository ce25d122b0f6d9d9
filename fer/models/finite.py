"""Finite numbers only: weights that are NaN/infinite are refused when loaded, and a model output that is
not finite never reaches a user as a prediction (`check_finite_output`, called at the inference point)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import torch

from fer.errors import CheckpointError, NonFiniteOutputError


def check_finite_weights(tensors: Mapping[str, torch.Tensor], source: str | os.PathLike) -> None:
    """Refuse a state dict with NaN or infinite values, naming the first bad tensor."""
    bad = [k for k, t in tensors.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise CheckpointError(
            f"{source} holds weights that are not finite (NaN or infinite) in {len(bad)} tensor(s), e.g. {bad[0]}; "
            "the file is corrupt or the training diverged"
        )


def check_finite_output(*arrays: np.ndarray | torch.Tensor, model: str = "the model") -> None:
    """Raise `NonFiniteOutputError` when any score is NaN or infinite."""
    for a in arrays:
        finite = bool(torch.isfinite(a).all()) if isinstance(a, torch.Tensor) else bool(np.isfinite(a).all())
        if not finite:
            raise NonFiniteOutputError(
                f"{model} produced scores that are not finite numbers (NaN or infinite) for this input, so there is "
                "no prediction to show; its weights overflow or are broken"
            )

"""Face crop (RGB uint8) → the model's input tensor, following `model.config.preprocess`."""

from __future__ import annotations

import numpy as np
import torch

from fer.errors import InputError
from fer.models.base import Preprocess


def check_rgb_image(image: object, what: str = "face crop") -> np.ndarray:
    """An (H, W, 3) uint8 RGB array, or an InputError saying what is wrong."""
    if not isinstance(image, np.ndarray):
        raise InputError(f"the {what} must be a numpy array (H, W, 3) uint8 RGB, got {type(image).__name__}")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise InputError(f"the {what} must have shape (H, W, 3), got {image.shape}")
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise InputError(f"the {what} is too small: {image.shape[1]}x{image.shape[0]} pixels")
    if image.dtype != np.uint8:
        if (
            np.issubdtype(image.dtype, np.floating)
            and np.isfinite(image).all()
            and image.max() <= 1.0
            and image.min() >= 0
        ):
            image = np.round(image * 255.0).astype(np.uint8)
        else:
            raise InputError(f"the {what} must be uint8 RGB (or float in [0, 1]), got dtype {image.dtype}")
    return np.ascontiguousarray(image[:, :, :3])


def to_input_tensor(rgb: np.ndarray, preprocess: Preprocess) -> torch.Tensor:
    """(1, C, S, S) float32, exactly as the Predictor and evaluation prepare a crop (`Preprocess.to_tensor`)."""
    return preprocess.to_tensor(check_rgb_image(rgb))[None]

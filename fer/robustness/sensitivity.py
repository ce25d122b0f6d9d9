"""Occlusion-sensitivity map of one aligned face: slide a patch, measure the probability drop.

For every patch position the crop is copied, the patch is filled, and the model is run on
the copy (`batch_size` copies per forward pass). The drop is recorded for the class the fused
decision predicts on the clean crop (or a chosen `target_class`), for the fused decision and
for each head. A per-pixel map averages the drops of every patch that covers the pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer.errors import InputError
from fer.io import require_rgb_uint8
from fer.models.base import FERModel
from fer.robustness.inference import probs_of_crops

FILLS = ("gray", "black", "mean", "blur", "noise")


@dataclass
class SensitivityMap:
    class_index: int  # the class whose probability drop is mapped
    class_name: str
    clean_probs: np.ndarray  # (C,) fused probabilities on the clean crop
    clean_head_probs: np.ndarray  # (R, C)
    positions: np.ndarray  # (P, 2) top-left (y, x) of each patch, crop pixels
    patch_drops: np.ndarray  # (P, 1 + R): fused then each head
    grid_shape: tuple[int, int]  # (rows, cols) of patch positions
    fused: np.ndarray  # (H, W) mean drop per pixel, fused decision
    heads: np.ndarray  # (R, H, W) mean drop per pixel, each head
    patch: int
    stride: int
    fill: str

    @property
    def grid_fused(self) -> np.ndarray:
        return self.patch_drops[:, 0].reshape(self.grid_shape)

    @property
    def grid_heads(self) -> np.ndarray:
        return self.patch_drops[:, 1:].T.reshape((-1, *self.grid_shape))


def _starts(size: int, patch: int, stride: int) -> list[int]:
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:  # cover the far edge too
        starts.append(size - patch)
    return starts


def _fill_value(crop: np.ndarray, fill: str, seed: int) -> np.ndarray:
    """An image the size of `crop` whose pixels replace the patch."""
    if fill == "gray":
        return np.full_like(crop, 128)
    if fill == "black":
        return np.zeros_like(crop)
    if fill == "mean":
        return np.broadcast_to(crop.reshape(-1, 3).mean(0).round().astype(np.uint8), crop.shape).copy()
    if fill == "blur":
        import cv2

        k = max(3, (crop.shape[0] // 8) | 1)
        return cv2.GaussianBlur(crop, (k, k), 0)
    if fill == "noise":
        return np.random.default_rng(seed).integers(0, 256, crop.shape, dtype=np.uint8)
    raise InputError(f"unknown fill {fill!r}; choose one of {', '.join(FILLS)}")


def _check(crop: np.ndarray, patch: int, stride: int, batch_size: int) -> None:
    require_rgb_uint8(crop, "aligned face")
    size = min(crop.shape[:2])
    if not 1 <= patch <= size:
        raise InputError(f"patch size must be between 1 and the crop size ({size}), got {patch}")
    if stride < 1:
        raise InputError(f"stride must be at least 1, got {stride}")
    if batch_size < 1:
        raise InputError(f"batch size must be at least 1, got {batch_size}")


def sensitivity_map(
    model: FERModel,
    crop: np.ndarray,
    patch: int = 32,
    stride: int = 16,
    fill: str = "gray",
    batch_size: int = 32,
    target_class: int | None = None,
    seed: int = 0,
    progress: bool = False,
) -> SensitivityMap:
    """Occlusion-sensitivity map of `crop` (H x W x 3 uint8 aligned face) for `model`.

    `patch` and `stride` are in crop pixels. The map's values are probability drops
    (clean minus occluded; positive = the patch hid evidence for the class).
    """
    _check(crop, patch, stride, batch_size)
    model.eval()
    h, w = crop.shape[:2]
    filler = _fill_value(crop, fill, seed)
    clean_fused, clean = (a[0] for a in probs_of_crops(model, crop[None], batch_size=1))  # (C,), (R, C)
    cls = int(clean_fused.argmax()) if target_class is None else int(target_class)
    if not 0 <= cls < clean.shape[1]:
        raise InputError(f"target class {cls} out of range 0..{clean.shape[1] - 1}")
    ys, xs = _starts(h, patch, stride), _starts(w, patch, stride)
    positions = np.array([(y, x) for y in ys for x in xs], dtype=np.int64)

    drops = np.zeros((len(positions), 1 + clean.shape[0]), np.float32)
    steps = range(0, len(positions), batch_size)
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc="sensitivity", unit="batch")
    for start in steps:
        chunk = positions[start : start + batch_size]
        batch = np.repeat(crop[None], len(chunk), axis=0)
        for i, (y, x) in enumerate(chunk):
            batch[i, y : y + patch, x : x + patch] = filler[y : y + patch, x : x + patch]
        fused, probs = probs_of_crops(model, batch, batch_size=len(chunk))  # (b, C), (b, R, C)
        drops[start : start + len(chunk), 0] = clean_fused[cls] - fused[:, cls]
        drops[start : start + len(chunk), 1:] = clean[None, :, cls] - probs[:, :, cls]

    total = np.zeros((1 + clean.shape[0], h, w), np.float64)
    count = np.zeros((h, w), np.float64)
    for (y, x), d in zip(positions, drops):
        total[:, y : y + patch, x : x + patch] += d[:, None, None]
        count[y : y + patch, x : x + patch] += 1
    pixel = (total / np.maximum(count, 1)).astype(np.float32)
    return SensitivityMap(
        class_index=cls,
        class_name=model.config.class_names[cls],
        clean_probs=clean_fused,
        clean_head_probs=clean,
        positions=positions,
        patch_drops=drops,
        grid_shape=(len(ys), len(xs)),
        fused=pixel[0],
        heads=pixel[1:],
        patch=patch,
        stride=stride,
        fill=fill,
    )


def overlay(crop: np.ndarray, heat: np.ndarray, alpha: float = 0.5, limit: float | None = None) -> np.ndarray:
    """Blend a drop map onto the crop (red = evidence removed, blue = probability rose)."""
    lim = float(limit if limit is not None else max(1e-6, np.abs(heat).max()))
    v = np.clip(heat / lim, -1, 1)
    colour = np.zeros((*heat.shape, 3), np.float32)
    colour[..., 0] = np.clip(v, 0, 1) * 255
    colour[..., 2] = np.clip(-v, 0, 1) * 255
    a = (alpha * np.abs(v))[..., None]
    return (crop.astype(np.float32) * (1 - a) + colour * a).round().clip(0, 255).astype(np.uint8)


# A largest drop below this (in probability: 0.02 = 2 percentage points of the mapped class) is negligible:
# `fer sensitivity` then says "no clear drop" and names no location (docs/robustness.md).
NEGLIGIBLE_DROP = 0.02


def largest_drop(heat: np.ndarray, negligible: float = NEGLIGIBLE_DROP) -> tuple[float, tuple[int, int] | None]:
    """(the largest drop of a per-pixel map, its (x, y) in crop pixels), the place None when it is negligible."""
    value = float(np.max(heat))
    if not value >= negligible:  # also NaN
        return value, None
    y, x = np.unravel_index(int(np.argmax(heat)), heat.shape)
    return value, (int(x), int(y))

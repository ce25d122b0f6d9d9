"""Occluders on aligned crops: `fer.occlusion` families plus the four region blocks.

A region block hides part of one of the four quadrants the region heads see (top-left,
top-right, bottom-left, bottom-right): a grey square centred in the quadrant that covers the
fraction `severity` of its area. It asks directly "what happens when one head loses its input".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer.errors import InputError
from fer.face.types import Face
from fer.models.base import REGION_NAMES

BLOCK_PREFIX = "block:"
BLOCK_FILL = 128


@dataclass(frozen=True)
class Condition:
    """One occlusion condition of a sweep: `occluder` is "clean", an occluder kind of
    `fer.occlusion`, or "block:<region>"; `severity` in [0, 1]."""

    occluder: str
    severity: float = 0.0

    @property
    def is_clean(self) -> bool:
        return self.occluder == "clean"

    @property
    def label(self) -> str:
        return "clean" if self.is_clean else f"{self.occluder}@{self.severity:g}"


def block_names() -> list[str]:
    return [BLOCK_PREFIX + r for r in REGION_NAMES]


def available_occluders() -> list[str]:
    """Occluder kinds of `fer.occlusion` that need no extra input (e.g. no user image)."""
    from fer import occlusion

    return list(occlusion.list_occluders())


def crop_face(size: int, landmarks: np.ndarray, landmarks68: np.ndarray | None = None) -> Face:
    """A `Face` in crop coordinates, for drawing an occluder on an aligned crop."""
    return Face(
        box=np.array([0.0, 0.0, float(size), float(size)]),
        score=1.0,
        landmarks=np.asarray(landmarks, np.float64),
        landmarks68=None if landmarks68 is None else np.asarray(landmarks68, np.float64),
    )


def block_mask(size: int, region: str, severity: float) -> np.ndarray:
    if region not in REGION_NAMES:
        raise InputError(f"unknown region {region!r}; regions: {', '.join(REGION_NAMES)}")
    mask = np.zeros((size, size), bool)
    if severity <= 0:
        return mask
    k = REGION_NAMES.index(region)
    half = size // 2
    y0, x0 = (k // 2) * half, (k % 2) * half
    qh = size - half if k // 2 else half
    qw = size - half if k % 2 else half
    side_h = max(1, round(qh * np.sqrt(min(1.0, severity))))
    side_w = max(1, round(qw * np.sqrt(min(1.0, severity))))
    oy, ox = y0 + (qh - side_h) // 2, x0 + (qw - side_w) // 2
    mask[oy : oy + side_h, ox : ox + side_w] = True
    return mask


def region_coverage(mask: np.ndarray) -> np.ndarray:
    """Fraction of each of the four quadrants (TL, TR, BL, BR) that `mask` covers."""
    m = np.asarray(mask).astype(bool)
    h, w = m.shape[:2]
    hy, hx = h // 2, w // 2
    quads = (m[:hy, :hx], m[:hy, hx:], m[hy:, :hx], m[hy:, hx:])
    return np.array([q.mean() if q.size else 0.0 for q in quads], np.float64)


def occlude_crop(
    crop: np.ndarray,
    condition: Condition,
    landmarks: np.ndarray | None,
    landmarks68: np.ndarray | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Apply `condition` to an aligned crop -> (occluded crop, boolean mask of hidden pixels)."""
    size = crop.shape[0]
    if condition.is_clean:
        return crop, np.zeros(crop.shape[:2], bool)
    if condition.occluder.startswith(BLOCK_PREFIX):
        mask = block_mask(size, condition.occluder[len(BLOCK_PREFIX) :], condition.severity)
        out = crop.copy()
        out[mask] = BLOCK_FILL
        return out, mask
    if landmarks is None:
        raise InputError(f"occluder {condition.occluder!r} needs facial landmarks in the crop")
    from fer import occlusion

    face = crop_face(size, landmarks, landmarks68)
    result = occlusion.apply(crop, face, condition.occluder, condition.severity, seed=seed)
    return np.asarray(result.image), np.asarray(result.mask).astype(bool)

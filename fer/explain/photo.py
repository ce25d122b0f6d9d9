"""Maps on the aligned crop → maps on the photo, with the face pipeline's `paste_back`
(the alignment's inverse similarity transform, pixel-centre convention handled there)."""

from __future__ import annotations

import numpy as np

from fer.face.align import paste_back
from fer.face.types import AlignedFace


def crop_to_photo(cam: np.ndarray, aligned: AlignedFace, photo_shape: tuple[int, ...]) -> np.ndarray:
    """(H, W) float32 map on the photo, in [0, 1]; 0 where the crop does not reach."""
    out = paste_back(np.asarray(cam, np.float32), aligned, photo_shape[:2], fill=0.0, interpolation="linear")
    return np.clip(out, 0.0, 1.0)


def crop_footprint(aligned: AlignedFace, photo_shape: tuple[int, ...], map_size: int | None = None) -> np.ndarray:
    """(H, W) bool: every photo pixel a map of `map_size`² over the crop touches when pasted back."""
    side = int(map_size or aligned.size)
    ones = np.ones((side, side), np.float32)
    return paste_back(ones, aligned, photo_shape[:2], fill=0.0) > 0.0

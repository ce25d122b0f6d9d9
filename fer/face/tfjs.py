"""TensorFlow.js's image arithmetic, as face-api's pre-processing uses it (one home for the ports of face-api's
detector, 68-point net and crop rule).

`resize_bilinear` is `tf.image.resizeBilinear(img, size, alignCorners=false, halfPixelCenters=false)` (TF's
legacy rule: source = destination * in / out, no half-pixel centres); `bilinear_weights` is the same resize of
one axis as a matrix (for a padded square, applied by two matrix products); `js_round` is JavaScript's
`Math.round`.
"""

from __future__ import annotations

import functools
import math

import numpy as np


def js_round(v: float) -> int:
    """JavaScript's Math.round: halves go up (Python's round goes to even)."""
    return int(math.floor(v + 0.5))


def resize_bilinear(img: np.ndarray, size: int) -> np.ndarray:
    """tf.image.resizeBilinear(img, [size, size], alignCorners=false, halfPixelCenters=false), float32."""
    h, w = img.shape[:2]
    x = img.astype(np.float32)

    def axis(n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        src = np.arange(size, dtype=np.float32) * np.float32(n_in / size)
        lo = np.floor(src).astype(np.int64)
        return lo, np.minimum(lo + 1, n_in - 1), (src - lo).astype(np.float32)

    y0, y1, dy = axis(h)
    x0, x1, dx = axis(w)
    top = x[y0][:, x0] + (x[y0][:, x1] - x[y0][:, x0]) * dx[None, :, None]
    bottom = x[y1][:, x0] + (x[y1][:, x1] - x[y1][:, x0]) * dx[None, :, None]
    return top + (bottom - top) * dy[:, None, None]


@functools.lru_cache(maxsize=512)
def bilinear_weights(n_in: int, pad_before: int, n_square: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) float32 weights: TF legacy bilinear resize of a square of n_square pixels, in which
    the n_in real pixels start at pad_before (the rest are zeros), to n_out pixels."""
    scale = n_square / n_out
    src = np.arange(n_out) * scale
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n_square - 1)
    frac = (src - lo).astype(np.float32)
    w = np.zeros((n_out, n_square + 1), np.float32)
    rows = np.arange(n_out)
    np.add.at(w, (rows, lo), 1 - frac)
    np.add.at(w, (rows, hi), frac)
    return w[:, pad_before : pad_before + n_in]

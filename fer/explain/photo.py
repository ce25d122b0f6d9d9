"""Maps on the aligned crop → maps on the photo, through the alignment's inverse transform."""

from __future__ import annotations

import cv2
import numpy as np


def crop_to_photo(cam: np.ndarray, inverse: np.ndarray, crop_size: int, photo_hw: tuple[int, int]) -> np.ndarray:
    """(H, W) float32 map on the photo; 0 outside the crop's footprint.

    `cam` lies on the model input (any square size); it is resized to the crop's size first,
    because `inverse` (crop → photo, 2×3) is expressed in crop pixels.
    """
    cam = np.asarray(cam, np.float32)
    if cam.shape[:2] != (crop_size, crop_size):
        cam = cv2.resize(cam, (crop_size, crop_size), interpolation=cv2.INTER_LINEAR)
    h, w = int(photo_hw[0]), int(photo_hw[1])
    out = cv2.warpAffine(
        cam,
        np.asarray(inverse, np.float64),
        (w, h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return np.clip(out, 0.0, 1.0)


def crop_footprint(inverse: np.ndarray, crop_size: int, photo_hw: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: the photo pixels the aligned crop covers."""
    ones = np.ones((crop_size, crop_size), np.float32)
    return crop_to_photo(ones, inverse, crop_size, photo_hw) > 0.0


def crop_corners_on_photo(inverse: np.ndarray, crop_size: int) -> np.ndarray:
    """(4, 2) float: the crop's corners (TL, TR, BR, BL) in photo pixels."""
    s = float(crop_size)
    corners = np.array([[0, 0, 1], [s, 0, 1], [s, s, 1], [0, s, 1]], np.float64)
    return corners @ np.asarray(inverse, np.float64).T

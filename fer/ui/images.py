"""Small image helpers of the demo: heat-map overlays, the region grid, masks from editor layers."""

from __future__ import annotations

import cv2
import numpy as np


def heat_overlay(crop: np.ndarray, heat: np.ndarray, alpha: float = 0.5, vmax: float | None = None) -> np.ndarray:
    """`heat` (H, W, ≥ 0) as a JET colour map blended over the RGB crop; scaled to `vmax` (default: its max)."""
    heat = np.clip(np.asarray(heat, np.float32), 0, None)
    if heat.shape != crop.shape[:2]:
        heat = cv2.resize(heat, (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_LINEAR)
    top = float(vmax if vmax is not None else heat.max())
    norm = heat / top if top > 1e-8 else np.zeros_like(heat)
    colour = cv2.applyColorMap(np.uint8(np.clip(norm, 0, 1) * 255), cv2.COLORMAP_JET)[..., ::-1]
    return np.uint8(np.clip((1 - alpha) * crop.astype(np.float32) + alpha * colour, 0, 255))


def draw_region_grid(image: np.ndarray, highlight: int | None = None) -> np.ndarray:
    """The 2×2 region grid of the model's heads on a square crop; region `highlight` outlined."""
    out = image.copy()
    h, w = out.shape[:2]
    cv2.line(out, (w // 2, 0), (w // 2, h - 1), (255, 255, 255), 1, cv2.LINE_AA)
    cv2.line(out, (0, h // 2), (w - 1, h // 2), (255, 255, 255), 1, cv2.LINE_AA)
    if highlight is not None:
        r, c = divmod(int(highlight), 2)
        x1, y1 = c * (w // 2), r * (h // 2)
        cv2.rectangle(out, (x1 + 1, y1 + 1), (x1 + w // 2 - 2, y1 + h // 2 - 2), (255, 255, 255), 2)
    return out


def mask_from_layers(layers: list | None, shape: tuple[int, int]) -> np.ndarray | None:
    """(H, W) bool of every pixel the user painted on the editor's layers (alpha > 0), or None."""
    if not layers:
        return None
    mask = np.zeros(shape, bool)
    for layer in layers:
        if layer is None:
            continue
        arr = np.asarray(layer)
        if arr.ndim != 3 or arr.shape[2] != 4:
            continue
        painted = arr[..., 3] > 0
        if painted.shape != shape:
            painted = cv2.resize(painted.astype(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST) > 0
        mask |= painted
    return mask if mask.any() else None

"""RGB uint8 pictures of an Explanation for the UI and the CLI (no UI code here)."""

from __future__ import annotations

import cv2
import numpy as np
from pytorch_grad_cam.utils.image import show_cam_on_image

from fer.explain.explanation import Explanation
from fer.regions import Box

GRID_COLOUR = (255, 255, 255)
HIGHLIGHT_COLOUR = (255, 220, 0)


def heatmap_on_image(image: np.ndarray, cam: np.ndarray, image_weight: float = 0.5) -> np.ndarray:
    """The map as a JET heatmap blended over an RGB uint8 image (the map is resized to it)."""
    h, w = image.shape[:2]
    cam = np.clip(np.asarray(cam, np.float32), 0.0, 1.0)
    if cam.shape != (h, w):
        cam = cv2.resize(cam, (w, h), interpolation=cv2.INTER_LINEAR)
    return show_cam_on_image(image.astype(np.float32) / 255.0, cam, use_rgb=True, image_weight=image_weight)


def draw_regions(
    image: np.ndarray, boxes: list[Box], highlight: int | None = None, thickness: int | None = None
) -> np.ndarray:
    """A copy of `image` with the region grid drawn, and region `highlight` outlined in colour."""
    out = np.ascontiguousarray(image.copy())
    t = thickness or max(1, round(min(image.shape[:2]) / 112))
    for x1, y1, x2, y2 in boxes:
        cv2.rectangle(out, (x1, y1), (x2 - 1, y2 - 1), GRID_COLOUR, max(1, t // 2), cv2.LINE_AA)
    if highlight is not None and boxes:
        x1, y1, x2, y2 = boxes[highlight]
        cv2.rectangle(
            out, (x1 + t // 2, y1 + t // 2), (x2 - 1 - t // 2, y2 - 1 - t // 2), HIGHLIGHT_COLOUR, t, cv2.LINE_AA
        )
    return out


def fused_overlay(expl: Explanation, grid: bool = True, image_weight: float = 0.5) -> np.ndarray:
    """The fused map on the face crop, with the region grid (region models)."""
    out = heatmap_on_image(expl.image, expl.fused, image_weight)
    return draw_regions(out, expl.boxes_on(*out.shape[:2])) if grid else out


def head_overlay(expl: Explanation, head: int, grid: bool = True, image_weight: float = 0.5) -> np.ndarray:
    """Head `head`'s map on the face crop, the grid drawn and the head's own region outlined."""
    if not 0 <= head < expl.num_heads:
        raise IndexError(f"head {head} out of range 0..{expl.num_heads - 1}")
    out = heatmap_on_image(expl.image, expl.heads[head], image_weight)
    return draw_regions(out, expl.boxes_on(*out.shape[:2]), highlight=head) if grid else out


def photo_overlay(
    photo: np.ndarray, expl: Explanation, head: int | None = None, image_weight: float = 0.5
) -> np.ndarray:
    """The fused map (or head `head`'s) blended on the photo, inside the aligned crop's footprint."""
    cam = expl.fused if head is None else expl.heads[head]
    on_photo = expl.to_photo(cam, photo.shape)
    blended = heatmap_on_image(photo, on_photo, image_weight)
    inside = expl.photo_footprint(photo.shape)
    return np.where(inside[:, :, None], blended, photo).astype(np.uint8)


def caption(image: np.ndarray, text: str) -> np.ndarray:
    """`image` with a dark strip below holding `text`."""
    h, w = image.shape[:2]
    scale = max(0.35, w / 560)
    strip = np.full((round(26 * scale / 0.45), w, 3), 24, np.uint8)
    cv2.putText(
        strip,
        text,
        (4, strip.shape[0] - round(8 * scale / 0.45)),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (235, 235, 235),
        1,
        cv2.LINE_AA,
    )
    return np.concatenate([image, strip], axis=0)


def montage(expl: Explanation, tile: int = 224) -> np.ndarray:
    """One picture: the fused overlay then each head's, captioned with the class it explains."""
    tiles = [caption(cv2.resize(fused_overlay(expl), (tile, tile)), f"fused: {expl.fused_label}")]
    for k, name in enumerate(expl.head_names):
        tiles.append(caption(cv2.resize(head_overlay(expl, k), (tile, tile)), f"{name}: {expl.head_labels[k]}"))
    return np.concatenate(tiles, axis=1)

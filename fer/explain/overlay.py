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


def _wrap(text: str, width: int, scale: float) -> list[str]:
    """`text` broken at spaces into lines at most `width` pixels wide (a word longer than that stays whole)."""
    lines: list[str] = []
    for word in text.split():
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and cv2.getTextSize(trial, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] <= width:
            lines[-1] = trial
        else:
            lines.append(word)
    return lines or [""]


def caption(image: np.ndarray, text: str, min_lines: int = 1) -> np.ndarray:
    """`image` with a dark strip below holding `text`, wrapped to the image's width (at least `min_lines` tall)."""
    h, w = image.shape[:2]
    scale = max(0.35, w / 560)
    line = round(20 * scale / 0.45)
    lines = _wrap(text, w - 8, scale)
    strip = np.full((line * max(min_lines, len(lines)) + round(8 * scale / 0.45), w, 3), 24, np.uint8)
    for i, t in enumerate(lines):
        cv2.putText(strip, t, (4, line * (i + 1)), cv2.FONT_HERSHEY_SIMPLEX, scale, (235, 235, 235), 1, cv2.LINE_AA)
    return np.concatenate([image, strip], axis=0)


def panel_titles(expl: Explanation) -> list[str]:
    """What each map of `expl` explains, fused first then each head — never to be read as a head's vote.

    e.g. "map for happiness (fused decision)", "head top-left: map for happiness (as the fused map;
    it votes surprise)", or with head_target="own", "head top-left: map for surprise (its vote)".
    """
    predicted = expl.class_names[int(np.argmax(expl.probs))]
    fused = f"map for {expl.fused_label} (fused decision" + (
        ")" if predicted == expl.fused_label else f", which predicts {predicted})"
    )
    titles = [fused]
    for k, name in enumerate(expl.head_names):
        vote = expl.class_names[int(np.argmax(expl.head_probs[k]))]
        explained = expl.head_labels[k]
        if explained == vote:
            whose = "its vote"
        else:
            whose = ("as the fused map; " if expl.head_target == "fused" else "") + f"it votes {vote}"
        titles.append(f"head {name}: map for {explained} ({whose})")
    return titles


def montage(expl: Explanation, tile: int = 224) -> np.ndarray:
    """One picture: the fused overlay then each head's, captioned with what each map explains."""
    pictures = [fused_overlay(expl)] + [head_overlay(expl, k) for k in range(expl.num_heads)]
    titles = panel_titles(expl)
    scale = max(0.35, tile / 560)
    rows = max(len(_wrap(t, tile - 8, scale)) for t in titles)
    tiles = [caption(cv2.resize(p, (tile, tile)), t, min_lines=rows) for p, t in zip(pictures, titles)]
    return np.concatenate(tiles, axis=1)

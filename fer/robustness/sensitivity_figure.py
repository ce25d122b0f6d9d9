"""A labelled picture of a `SensitivityMap`: the crop, the fused map and each head's, one colour scale.

Drawn with OpenCV (no plotting library): a heading line, a title over every panel (what it is and
its largest drop), and under the panels a colour bar in probability units, drawn with the very
blend `overlay` uses, so its colours are the panels' colours over a mid-grey face.
"""

from __future__ import annotations

import cv2
import numpy as np

from fer.regions import head_names
from fer.robustness.sensitivity import SensitivityMap, overlay

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_INK = (235, 235, 235)
_BACK = 24


def _text(canvas: np.ndarray, text: str, x: int, y: int, scale: float, colour=_INK) -> None:
    cv2.putText(canvas, text, (x, y), _FONT, scale, colour, 1, cv2.LINE_AA)


def _fit(text: str, width: int, scale: float) -> float:
    """The font scale at most `scale` at which `text` fits in `width` pixels."""
    w = cv2.getTextSize(text, _FONT, scale, 1)[0][0]
    return scale if w <= width else max(0.3, scale * width / w)


def _panel(image: np.ndarray, titles: list[str], tile: int, scale: float) -> np.ndarray:
    line = round(22 * scale / 0.45)
    out = np.full((line * len(titles) + 6 + tile, tile, 3), _BACK, np.uint8)
    for i, t in enumerate(titles):
        _text(out, t, 4, line * (i + 1) - 5, _fit(t, tile - 8, scale))
    out[-tile:] = image
    return out


def _colour_bar(width: int, limit: float, label: str, scale: float) -> np.ndarray:
    """A horizontal bar from -limit (blue) through 0 to +limit (red), ticks in probability, and `label`."""
    bar_h, tick_h = 18, round(22 * scale / 0.45)
    left, right = 40, width - 40
    values = np.linspace(-limit, limit, right - left, dtype=np.float32)
    grey = np.full((bar_h, right - left, 3), 128, np.uint8)
    strip = overlay(grey, np.broadcast_to(values, (bar_h, right - left)).copy(), limit=limit)
    out = np.full((8 + bar_h + 2 * tick_h + 8, width, 3), _BACK, np.uint8)
    out[8 : 8 + bar_h, left:right] = strip
    for frac, value in ((0.0, -limit), (0.25, -limit / 2), (0.5, 0.0), (0.75, limit / 2), (1.0, limit)):
        x = left + round(frac * (right - left - 1))
        cv2.line(out, (x, 8 + bar_h), (x, 8 + bar_h + 4), _INK, 1)
        tick = f"{value:+.3f}" if value else "0"
        tw = cv2.getTextSize(tick, _FONT, scale, 1)[0][0]
        _text(out, tick, min(max(0, x - tw // 2), width - tw), 8 + bar_h + tick_h, scale)
    _text(out, label, left, 8 + bar_h + 2 * tick_h, _fit(label, right - left, scale))
    return out


def sensitivity_figure(crop: np.ndarray, smap: SensitivityMap, heading: str = "", tile: int = 192) -> np.ndarray:
    """RGB uint8 figure: [crop | fused | head 1..R], each titled, over one shared colour bar.

    Every map is drawn on the same scale (the largest |drop| of all of them), so panels compare.
    """
    limit = float(max(1e-6, np.abs(np.concatenate([smap.fused[None], smap.heads])).max()))
    scale = 0.45 * tile / 192
    big = cv2.resize(crop, (tile, tile), interpolation=cv2.INTER_CUBIC)

    def heat(m: np.ndarray) -> np.ndarray:
        return overlay(big, cv2.resize(m, (tile, tile), interpolation=cv2.INTER_LINEAR), limit=limit)

    names = head_names(len(smap.heads))
    panels = [_panel(big, ["face crop", f"p({smap.class_name}) = {smap.clean_probs[smap.class_index]:.3f}"],
                     tile, scale)]
    panels.append(_panel(heat(smap.fused), ["fused decision", f"largest drop {smap.fused.max():+.3f}"], tile, scale))
    for k, h in enumerate(smap.heads):
        panels.append(_panel(heat(h), [f"head {names[k]}", f"largest drop {h.max():+.3f}"], tile, scale))
    gap = np.full((panels[0].shape[0], 4, 3), _BACK, np.uint8)
    row = np.concatenate([part for p in panels for part in (p, gap)][:-1], axis=1)
    width = row.shape[1]
    label = (f"drop of p({smap.class_name}), fused or that head's, when a {smap.patch}px {smap.fill} patch "
             f"covers the pixel (probability; red = evidence removed, blue = it rose)")
    parts = [row, _colour_bar(width, limit, label, scale)]
    if heading:
        top = np.full((round(26 * scale / 0.45), width, 3), _BACK, np.uint8)
        _text(top, heading, 4, top.shape[0] - 7, _fit(heading, width - 8, scale))
        parts.insert(0, top)
    return np.concatenate(parts, axis=0)

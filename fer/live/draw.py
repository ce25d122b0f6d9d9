"""Cheap OpenCV drawing of one live frame: the face, the model's region grid mapped back onto it,
each head's vote beside its region, the fused label, a rolling probability plot and the latest CAM.

A few lines, rectangles and text per frame (about a millisecond), instead of a plotly figure.
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
AGREE = (26, 152, 80)  # RGB: the head votes like the fused decision
DISAGREE = (215, 48, 39)
FUSED = (59, 91, 219)
WHITE, BLACK = (255, 255, 255), (0, 0, 0)
CLASS_COLOURS = [(230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66), (0, 114, 178), (213, 94, 0),
                 (204, 121, 167), (150, 150, 150)]
PLOT_W, PLOT_H = 220, 70


def annotate(result, history: deque, now: float, window_s: float = 10.0) -> np.ndarray:
    """The annotated copy of `result.image` (RGB uint8)."""
    out = np.ascontiguousarray(result.image).copy()
    scale = max(0.45, min(out.shape[:2]) / 960)
    if result.face is None:
        _label(out, result.message or "no face", (10, 28), scale * 1.4, (90, 90, 90))
    else:
        fused = int(np.argmax(result.probs))
        _grid(out, result.aligned, max(1, round(scale * 2)))
        for x, y in np.asarray(result.face.landmarks):
            cv2.circle(out, (int(x), int(y)), 2, (0, 255, 128), -1, cv2.LINE_AA)
        _votes(out, result, fused, scale)
        text = f"{result.class_names[fused]} {result.probs[fused]:.0%}"
        _label(out, text, (10, int(34 * scale / 0.5)), scale * 1.5, FUSED)
    _plot(out, result.class_names, history, now, window_s, scale)
    if result.cam is not None:
        _inset(out, result.cam, "Grad-CAM++ (fused)", scale)
    return out


def _grid(out: np.ndarray, aligned, thickness: int) -> None:
    """The crop's 2×2 region grid, drawn where it lies on the photo (it turns with the face)."""
    s = float(aligned.size)
    corners = np.array([[0, 0], [s, 0], [s, s], [0, s]], np.float64)
    mids = np.array([[s / 2, 0], [s / 2, s], [0, s / 2], [s, s / 2]], np.float64)
    inv = np.asarray(aligned.inverse, np.float64)
    c = (corners @ inv[:, :2].T + inv[:, 2]).round().astype(np.int32)
    m = (mids @ inv[:, :2].T + inv[:, 2]).round().astype(np.int32)
    cv2.polylines(out, [c.reshape(-1, 1, 2)], True, WHITE, thickness, cv2.LINE_AA)
    cv2.line(out, tuple(m[0]), tuple(m[1]), WHITE, thickness, cv2.LINE_AA)
    cv2.line(out, tuple(m[2]), tuple(m[3]), WHITE, thickness, cv2.LINE_AA)


def _votes(out: np.ndarray, result, fused: int, scale: float) -> None:
    """Each head's vote beside its quadrant (outside the face box), green = agrees, red = not."""
    if result.head_probs is None:
        return
    x1, y1, x2, y2 = (int(v) for v in result.face.box)
    h, w = out.shape[:2]
    for k, probs in enumerate(result.head_probs):
        vote = int(np.argmax(probs))
        text = f"{result.region_names[k]}: {result.class_names[vote]} {probs[vote]:.0%}"
        (tw, th), _ = cv2.getTextSize(text, FONT, scale, 1)
        row, col = divmod(k, 2) if len(result.head_probs) == 4 else (k, 1)
        x = x1 - tw - 10 if col == 0 else x2 + 10
        x = int(np.clip(x, 2, max(2, w - tw - 8)))
        y = (y1 + th + 4) if row == 0 else (y2 - 6)
        y = int(np.clip(y + (0 if len(result.head_probs) == 4 else k * (th + 8)), th + 4, h - 4))
        _label(out, text, (x, y), scale, AGREE if vote == fused else DISAGREE)


def _label(out: np.ndarray, text: str, origin: tuple[int, int], scale: float, colour) -> None:
    thick = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(text, FONT, scale, thick)
    x, y = origin
    cv2.rectangle(out, (x - 3, y - th - 4), (x + tw + 3, y + base), colour, -1)
    cv2.putText(out, text, (x, y), FONT, scale, WHITE, thick, cv2.LINE_AA)


def _plot(out: np.ndarray, names, history: deque, now: float, window_s: float, scale: float) -> None:
    """Fused probability of every class over the last `window_s` seconds, bottom-left."""
    k = max(1.0, scale / 0.5)
    pw, ph = int(PLOT_W * k), int(PLOT_H * k)
    h, w = out.shape[:2]
    if pw + 16 > w or ph + 16 > h:
        return
    x0, y0 = 8, h - ph - 8
    panel = out[y0 : y0 + ph, x0 : x0 + pw]
    panel[:] = (panel * 0.35 + 255 * 0.65).astype(np.uint8)  # a light, see-through background
    points = [(t, p) for t, p in history if now - t <= window_s]
    cv2.putText(out, f"fused P(class), last {window_s:.0f} s", (x0 + 4, y0 + int(12 * k)), FONT, 0.35 * k, BLACK, 1,
                cv2.LINE_AA)
    valid = [(t, p) for t, p in points if p is not None]
    if len(valid) < 2:
        return
    ts = np.array([t for t, _ in valid])
    ps = np.stack([p for _, p in valid])
    xs = (x0 + (1 - (now - ts) / window_s) * (pw - 1)).astype(np.int32)
    top = int(np.argmax(ps[-1]))
    order = [c for c in range(ps.shape[1]) if c != top] + [top]  # the current class drawn last, thicker
    for c in order:
        ys = (y0 + ph - 2 - ps[:, c] * (ph - int(18 * k))).astype(np.int32)
        colour = CLASS_COLOURS[c % len(CLASS_COLOURS)]
        cv2.polylines(out, [np.stack([xs, ys], 1).reshape(-1, 1, 2)], False, colour, 2 if c == top else 1, cv2.LINE_AA)
    cv2.putText(out, names[top], (x0 + pw - int(80 * k), y0 + int(12 * k)), FONT, 0.35 * k,
                CLASS_COLOURS[top % len(CLASS_COLOURS)], 1, cv2.LINE_AA)


def _inset(out: np.ndarray, picture: np.ndarray, caption: str, scale: float) -> None:
    side = int(112 * max(1.0, scale / 0.5))
    h, w = out.shape[:2]
    if side + 20 > min(h, w):
        return
    thumb = cv2.resize(picture, (side, side), interpolation=cv2.INTER_AREA)
    x0, y0 = w - side - 8, 8
    out[y0 : y0 + side, x0 : x0 + side] = thumb
    cv2.rectangle(out, (x0, y0), (x0 + side, y0 + side), WHITE, 1)
    cv2.putText(out, caption, (x0, y0 + side + 14), FONT, 0.4 * max(1.0, scale / 0.5), WHITE, 1, cv2.LINE_AA)

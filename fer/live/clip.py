"""Test clips for the live lab: a photo moving a little on a 640×480 canvas, as a webcam sees a
person who does not sit still, and a writer for Chromium's fake camera (.y4m).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

FRAME_SIZE = (640, 480)  # width, height


def moving_clip(photo: np.ndarray, frames: int, size: tuple[int, int] = FRAME_SIZE, amplitude: float = 12.0,
                phase: float = 0.0) -> list[np.ndarray]:
    """`frames` RGB frames of `photo` (scaled to the canvas height) drifting on a grey canvas:
    a slow circle of `amplitude` pixels plus a slight zoom, as a head in front of a webcam moves."""
    w, h = size
    ph, pw = photo.shape[:2]
    base = 0.9 * min(h / ph, w / pw)
    out = []
    for i in range(int(frames)):
        a = phase + 2 * np.pi * i / 48.0
        k = base * (1.0 + 0.03 * np.sin(a / 2))
        dx, dy = amplitude * np.cos(a), amplitude * np.sin(a)
        m = np.array([[k, 0, (w - pw * k) / 2 + dx], [0, k, (h - ph * k) / 2 + dy]], np.float64)
        out.append(cv2.warpAffine(photo, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(118, 118, 118)))
    return out


def write_y4m(frames: list[np.ndarray], path: str | Path, fps: int = 10) -> Path:
    """A raw YUV4MPEG2 (4:2:0) file of RGB frames, which Chromium's fake camera plays in a loop."""
    path = Path(path)
    h, w = frames[0].shape[:2]
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{int(fps)}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2YUV_I420).tobytes())
    return path

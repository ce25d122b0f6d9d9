"""face-api's 68-point landmark net (FaceLandmark68Net, @vladmandic/face-api 1.7.15), ported to PyTorch.

The network is the expression net's feature extractor (four dense blocks, 112x112 RGB input,
see `fer.models.reference_faceapi`) with a fully connected layer 256 -> 136: (x, y) of the 68
iBUG points, as fractions of the network's square input. Weights: `fer/weights/
faceapi_landmark68.safetensors`, converted by `scripts/convert_faceapi_landmarks.py` (notice:
`fer/weights/NOTICE-faceapi-landmarks.md`).

Pre- and post-processing are face-api's own (`FaceLandmark68NetBase`, `NetInput.toBatchTensor`,
`padToSquare`, `extractFaceTensors`):

1. the detection box is clipped to the photo and floored (x, y, width, height);
2. that region is zero-padded to a square, centred: round(d / 2) rows (or columns) after the
   face, the rest before (d = |width - height|);
3. the square is resized to 112x112 with TensorFlow's legacy bilinear rule (no half-pixel
   centres, no corner alignment: source = destination * in / out);
4. the output (fractions of 112) is mapped back as face-api does: times 112, minus *half* the
   size difference (scaled) on the padded axis, divided by the scaled width/height, times the
   crop's width/height, plus the detection box's corner (unfloored, as face-api's
   `extendWithFaceLandmarks` shifts by `detection.box`; the crop itself starts at the floored one).

One deliberate difference: for a box reaching past the photo's border face-api adds the
*unclipped* corner, so its points are shifted by the overhang; we add the clipped one. Inside the
photo (every box face-api's detector gives: they are clipped) the points are face-api's.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from fer.errors import CheckpointError, InputError
from fer.face.tfjs import bilinear_weights
from fer.once import load_once

WEIGHTS_PATH = Path(__file__).resolve().parents[1] / "weights" / "faceapi_landmark68.safetensors"
INPUT_SIZE = 112
MEAN_RGB = (122.782, 117.001, 104.298)  # subtracted, then divided by 255 (face-api's `normalize`)


class FaceApiLandmarkNet(nn.Module):
    """Dense-block feature extractor + fc 256 -> 136; input normalised NCHW, output (N, 68, 2) in [0, 1]."""

    def __init__(self) -> None:
        super().__init__()
        from fer.models.reference_faceapi import CHANNELS, DenseBlock

        cins = (3,) + CHANNELS[:-1]
        self.dense = nn.Sequential(*(DenseBlock(i, o, first=k == 0) for k, (i, o) in enumerate(zip(cins, CHANNELS))))
        self.fc = nn.Linear(CHANNELS[-1], 136)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dense(x).mean(dim=(2, 3))).view(-1, 68, 2)

    def load_weights(self, path: str | Path = WEIGHTS_PATH) -> FaceApiLandmarkNet:
        from safetensors.torch import load_file

        try:
            state = load_file(str(path))
            self.load_state_dict(state, strict=True)
        except Exception as exc:  # missing file, wrong tensors: say which file
            raise CheckpointError(f"face-api landmark weights {path} could not be loaded: {exc}") from None
        return self.eval()


def crop_box(box: np.ndarray, photo_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """face-api's `clipAtImageBorders`: (x, y, width, height) of the box inside the photo, floored."""
    h, w = photo_shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box[:4])
    cx, cy = max(x1, 0.0), max(y1, 0.0)
    cw, ch = min(x2 - cx, w - cx), min(y2 - cy, h - cy)
    return math.floor(cx), math.floor(cy), math.floor(cw), math.floor(ch)


def _pads(w: int, h: int) -> tuple[int, int]:
    """Zeros placed before the crop on (x, y): padToSquare appends round(d / 2), prepends the rest."""
    d = abs(w - h)
    before = d - math.floor(d * 0.5 + 0.5)  # JS Math.round
    return (before, 0) if h > w else (0, before)


def net_input(rgb: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, tuple[float, float, int, int]]:
    """The (112, 112, 3) float32 image face-api's landmark net sees for `box`, and where its points go:
    (x, y, w, h) = the box's corner inside the photo (unfloored) and the crop's width and height."""
    x, y, w, h = crop_box(box, rgb.shape)
    if w <= 0 or h <= 0:
        raise InputError(f"face box {list(np.round(box[:4], 1))} lies outside the photo")
    s = max(w, h)
    px, py = _pads(w, h)
    region = rgb[y : y + h, x : x + w].astype(np.float32)
    wy, wx = bilinear_weights(h, py, s, INPUT_SIZE), bilinear_weights(w, px, s, INPUT_SIZE)
    corner = max(float(box[0]), 0.0), max(float(box[1]), 0.0)
    return np.einsum("ih,hwc,jw->ijc", wy, region, wx, optimize=True), (*corner, w, h)


def to_photo(rel: np.ndarray, crop: tuple[float, float, int, int]) -> np.ndarray:
    """face-api's `postProcess` + `FaceLandmarks`: net output (68, 2) in [0, 1] -> photo pixels."""
    x, y, w, h = crop
    scale = INPUT_SIZE / max(w, h)
    sw, sh = w * scale, h * scale
    pad_x = abs(sw - sh) / 2 if sw < sh else 0.0
    pad_y = abs(sw - sh) / 2 if sh < sw else 0.0
    px = (rel[:, 0].astype(np.float64) * INPUT_SIZE - pad_x) / sw * w + x
    py = (rel[:, 1].astype(np.float64) * INPUT_SIZE - pad_y) / sh * h + y
    return np.stack([px, py], 1)


def _normalise(batch: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2)
    return (x - torch.tensor(MEAN_RGB).view(1, 3, 1, 1)) / 255.0


@load_once
def get_net() -> FaceApiLandmarkNet:
    """The process-wide landmark net with its weights, loaded once (thread-safe)."""
    return FaceApiLandmarkNet().load_weights()


def landmarks68(rgb: np.ndarray, boxes) -> list[np.ndarray]:
    """68 points (photo pixels, iBUG order) for each face box (x1, y1, x2, y2), in one batch."""
    boxes = [np.asarray(b, np.float64) for b in boxes]
    if not boxes:
        return []
    inputs, crops = zip(*(net_input(rgb, b) for b in boxes))
    with torch.inference_mode():
        rel = get_net()(_normalise(np.stack(inputs))).numpy()
    return [to_photo(r, c) for r, c in zip(rel, crops)]


# ----------------------------------------------------------------------------- on another detector's boxes
# The net was trained on, and face-api feeds it, the boxes of face-api's SSD MobileNet detector; MTCNN's
# boxes differ (narrower, not as tall), and the net's points follow the box. The rules below were fitted
# on face-api's own detections of the real photos in docs/face.md ("68 landmarks"). Each is (shift of the
# centre in x, in y, width, height) as fractions of the reference box's width (x) and height (y).
# MTCNN box -> face-api's box (medians over 31 faces).
MTCNN_TO_FACEAPI = (0.002, -0.022, 0.932, 1.033)
# bounding box of the 68 points -> the box face-api's detector gives around them (medians).
POINTS_TO_FACEAPI = (0.013, -0.161, 0.942, 1.400)


def box_rule(box, rule: tuple[float, float, float, float]) -> np.ndarray:
    """`box` (x1, y1, x2, y2) moved and resized by `rule` (see MTCNN_TO_FACEAPI)."""
    x1, y1, x2, y2 = (float(v) for v in box[:4])
    w, h = x2 - x1, y2 - y1
    dx, dy, kw, kh = rule
    cx, cy = (x1 + x2) / 2 + dx * w, (y1 + y2) / 2 + dy * h
    return np.array([cx - kw * w / 2, cy - kh * h / 2, cx + kw * w / 2, cy + kh * h / 2])


def faceapi_box_from_mtcnn(box) -> np.ndarray:
    """The box face-api's detector would give for a face MTCNN boxed as `box` (x1, y1, x2, y2)."""
    return box_rule(box, MTCNN_TO_FACEAPI)


def faceapi_box_from_points(points68) -> np.ndarray:
    """The box face-api's detector would give around a face with these 68 points."""
    p = np.asarray(points68, np.float64)
    return box_rule(np.r_[p.min(0), p.max(0)], POINTS_TO_FACEAPI)


def for_detections(rgb: np.ndarray, boxes, refine: int = 0) -> list[np.ndarray]:
    """68 points for MTCNN's face boxes: the net on the box face-api's detector would give
    (`faceapi_box_from_mtcnn`), then `refine` more times on the box face-api's detector would give
    around the points just found (`faceapi_box_from_points`). One batch per pass."""
    pts = landmarks68(rgb, [faceapi_box_from_mtcnn(b) for b in boxes])
    for _ in range(int(refine)):
        pts = landmarks68(rgb, [faceapi_box_from_points(p) for p in pts]) if pts else pts
    return pts


def disagreement(landmarks5, points68) -> float:
    """Mean distance between a detector's 5 points and the eye centres, nose tip and mouth corners of
    `points68`, in inter-ocular distances (of the 5 points): ~0.1 on faces, > 0.5 on non-faces."""
    from fer.face.landmarks68 import summary5

    five = np.asarray(landmarks5, np.float64)
    iod = float(np.linalg.norm(five[1] - five[0]))
    if not iod > 0:
        return float("inf")
    return float(np.linalg.norm(summary5(points68) - five, axis=1).mean() / iod)


__all__ = [
    "INPUT_SIZE", "WEIGHTS_PATH", "FaceApiLandmarkNet", "box_rule", "crop_box", "disagreement",
    "faceapi_box_from_mtcnn", "faceapi_box_from_points", "for_detections", "get_net", "landmarks68", "net_input",
    "to_photo",
]

"""MTCNN face detector (Zhang et al., 2016): a cascade of three small CNNs, in PyTorch.

- P-Net slides a 12×12 window over an image pyramid (fully convolutional, stride 2) and proposes
  boxes with a face probability and a box-regression offset.
- R-Net rescores 24×24 crops of the surviving proposals and refines their boxes.
- O-Net rescores 48×48 crops, refines the boxes once more and outputs 5 landmarks.
Between the stages: non-maximum suppression (NMS) and squaring of the boxes.

The weights are the original authors' trained model, as converted to PyTorch by facenet-pytorch
(MIT); `scripts/convert_mtcnn.py` stores them in `fer/weights/mtcnn.safetensors` (see
`fer/weights/NOTICE-mtcnn.md`). This module has no dependency on facenet-pytorch.

Numeric conventions follow the reference so that boxes and points agree to within 1 px
(`tests/test_face_mtcnn.py` checks this against recorded reference outputs): input scaled as
(x - 127.5) / 128, area (box-filter) resampling, 1-based inclusive box coordinates inside the
cascade. One deliberate difference: a candidate box reaching past the image border is cropped with
zero padding (as in the original MTCNN) instead of being clamped and stretched, so that faces cut
by the border keep their proportions and their landmarks stay in the right place.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fer.once import load_once

WEIGHTS_PATH = Path(__file__).resolve().parents[1] / "weights" / "mtcnn.safetensors"


def _flatten_whc(x: torch.Tensor) -> torch.Tensor:
    """Flatten N×C×H×W in (width, height, channel) order: the layout the Caffe-trained dense layers expect."""
    return x.permute(0, 3, 2, 1).reshape(x.shape[0], -1)


class PNet(nn.Module):
    """Proposal net: 12×12 receptive field, outputs per-position box offsets (4) and face logits (2)."""

    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 10, 3), nn.PReLU(10)
        self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(10, 16, 3), nn.PReLU(16)
        self.conv3, self.prelu3 = nn.Conv2d(16, 32, 3), nn.PReLU(32)
        self.conv4_1 = nn.Conv2d(32, 2, 1)  # face / not face
        self.conv4_2 = nn.Conv2d(32, 4, 1)  # box offsets

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.prelu3(self.conv3(self.prelu2(self.conv2(x))))
        return self.conv4_2(x), torch.softmax(self.conv4_1(x), dim=1)


class RNet(nn.Module):
    """Refinement net on 24×24 crops: box offsets (4) and face probability (2)."""

    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 28, 3), nn.PReLU(28)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(28, 48, 3), nn.PReLU(48)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = nn.Conv2d(48, 64, 2), nn.PReLU(64)
        self.dense4, self.prelu4 = nn.Linear(576, 128), nn.PReLU(128)
        self.dense5_1 = nn.Linear(128, 2)
        self.dense5_2 = nn.Linear(128, 4)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.prelu4(self.dense4(_flatten_whc(self.prelu3(self.conv3(x)))))
        return self.dense5_2(x), torch.softmax(self.dense5_1(x), dim=1)


class ONet(nn.Module):
    """Output net on 48×48 crops: box offsets (4), landmarks (10: five x then five y) and face probability (2)."""

    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 32, 3), nn.PReLU(32)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(32, 64, 3), nn.PReLU(64)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = nn.Conv2d(64, 64, 3), nn.PReLU(64)
        self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv4, self.prelu4 = nn.Conv2d(64, 128, 2), nn.PReLU(128)
        self.dense5, self.prelu5 = nn.Linear(1152, 256), nn.PReLU(256)
        self.dense6_1 = nn.Linear(256, 2)
        self.dense6_2 = nn.Linear(256, 4)
        self.dense6_3 = nn.Linear(256, 10)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.pool3(self.prelu3(self.conv3(x)))
        x = self.prelu5(self.dense5(_flatten_whc(self.prelu4(self.conv4(x)))))
        return self.dense6_2(x), self.dense6_3(x), torch.softmax(self.dense6_1(x), dim=1)


NMS_NUMPY_MAX = 512  # candidates up to which _nms_union runs in numpy (a 512 px photo gives at most ~260)


@dataclass
class Detections:
    boxes: np.ndarray  # (N, 4) x1, y1, x2, y2
    scores: np.ndarray  # (N,)
    points: np.ndarray  # (N, 5, 2)


def _nms_union(boxes: torch.Tensor, scores: torch.Tensor, iou: float) -> torch.Tensor:
    """Greedy IoU NMS as `torchvision.ops.nms` computes it (best score first, ties in input order, float32,
    suppressed when IoU > `iou`), in numpy: importing torchvision costs the demo's start more than detecting.

    Box j (in score order) is kept when no kept box before it overlaps it by more than `iou`. That rule has
    one solution; it is reached by iterating "kept = not overlapped by an earlier kept box" from "all kept"
    until nothing changes (a few matrix-vector products instead of a Python loop over the boxes). Above
    `NMS_NUMPY_MAX` boxes (large photos) torchvision's kernel is faster and worth its import: same result."""
    if len(boxes) > NMS_NUMPY_MAX:
        from torchvision.ops import nms

        return nms(boxes, scores, iou)
    order = torch.sort(scores.detach().cpu(), stable=True, descending=True).indices.numpy()
    x1, y1, x2, y2 = boxes.detach().cpu().to(torch.float32).numpy()[order].T
    area = (x2 - x1) * (y2 - y1)
    zero = np.float32(0)
    inter = (np.maximum(zero, np.minimum(x2[:, None], x2) - np.maximum(x1[:, None], x1))
             * np.maximum(zero, np.minimum(y2[:, None], y2) - np.maximum(y1[:, None], y1)))
    with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 for empty boxes: NaN, which never suppresses
        over = np.triu(inter / (area[:, None] + area - inter) > iou, k=1).astype(np.float32)  # [i, j]: i < j
    kept = np.ones(len(order), dtype=np.float32)
    for _ in range(len(order)):
        now = (kept @ over == 0).astype(np.float32)
        if np.array_equal(now, kept):
            break
        kept = now
    return torch.as_tensor(order[kept > 0].astype(np.int64), device=boxes.device)


def _nms_min(boxes: np.ndarray, scores: np.ndarray, overlap: float) -> np.ndarray:
    """Greedy NMS where overlap = intersection / smaller area (1-based inclusive pixel boxes).

    Unlike IoU this removes a small box lying inside a bigger one (a face part detected as a face).
    """
    x1, y1, x2, y2 = boxes.T
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(scores)  # ascending; the best is last
    keep = []
    while order.size:
        best, rest = order[-1], order[:-1]
        keep.append(best)
        iw = np.maximum(0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]) + 1)
        ih = np.maximum(0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]) + 1)
        inter = iw * ih
        order = rest[inter / np.minimum(area[best], area[rest]) <= overlap]
    return np.asarray(keep, dtype=np.int64)


def square_boxes(boxes: torch.Tensor) -> torch.Tensor:
    """Grow each box to a square around its centre (side = its longer side)."""
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = torch.maximum(w, h)
    x1 = boxes[:, 0] + (w - side) * 0.5
    y1 = boxes[:, 1] + (h - side) * 0.5
    return torch.cat([torch.stack([x1, y1, x1 + side, y1 + side], 1), boxes[:, 4:]], 1)


def apply_offsets(boxes: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """Box regression: shift each edge by offset × box size (inclusive pixel size, w = x2 - x1 + 1)."""
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    scale = torch.stack([w, h, w, h], 1)
    return torch.cat([boxes[:, :4] + offsets * scale, boxes[:, 4:]], 1)


@functools.lru_cache(maxsize=2048)
def _area_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix of area (box-filter) resampling, the bins of adaptive average pooling:
    output i averages inputs floor(i·n_in/n_out) .. ceil((i+1)·n_in/n_out) - 1."""
    w = np.zeros((n_out, n_in), np.float32)
    for i in range(n_out):
        a, b = (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)
        w[i, a:b] = 1.0 / (b - a)
    w.flags.writeable = False  # shared through the cache
    return w


def _crops(img: np.ndarray, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """Cut each box (1-based inclusive, truncated to integers) out of img (H×W×3 float32) and
    area-resample it to size×size; parts outside the image are zeros. Returns N×3×size×size.

    Done in NumPy with two small matrix products per crop: hundreds of tiny torch calls cost
    seconds of thread-pool overhead on a busy machine.
    """
    h, w, _ = img.shape
    out = np.empty((len(boxes), size, size, 3), np.float32)
    for k, (bx1, by1, bx2, by2) in enumerate(boxes[:, :4].trunc().int().tolist()):
        x0, y0 = bx1 - 1, by1 - 1  # 0-based first column/row
        cw, ch = max(bx2 - x0, 1), max(by2 - y0, 1)
        sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(bx2, w), min(by2, h)
        if sx0 == x0 and sy0 == y0 and sx1 == bx2 and sy1 == by2:
            crop = img[y0:by2, x0:bx2]
        else:
            crop = np.zeros((ch, cw, 3), np.float32)
            if sx1 > sx0 and sy1 > sy0:
                crop[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = img[sy0:sy1, sx0:sx1]
        rows = (_area_weights(ch, size) @ crop.reshape(ch, cw * 3)).reshape(size, cw, 3)
        np.matmul(_area_weights(cw, size), rows, out=out[k])  # (size, cw) @ (size, cw, 3): BLAS, not einsum's loop
    return torch.from_numpy(out).permute(0, 3, 1, 2)


def normalise(x: torch.Tensor) -> torch.Tensor:
    """Pixel values 0..255 as the three networks take them: (x - 127.5) / 128."""
    return (x - 127.5) * 0.0078125


def onet_points(boxes: torch.Tensor, marks: torch.Tensor) -> torch.Tensor:
    """O-Net's 5 landmarks (N, 10: x then y, fractions of each box) -> (N, 5, 2) pixels. `boxes` are the
    boxes O-Net saw (before its regression), 1-based inclusive."""
    bw = (boxes[:, 2] - boxes[:, 0] + 1)[:, None]
    bh = (boxes[:, 3] - boxes[:, 1] + 1)[:, None]
    px = bw * marks[:, :5] + boxes[:, 0:1] - 1
    py = bh * marks[:, 5:] + boxes[:, 1:2] - 1
    return torch.stack([px, py], 2)


class MTCNN(nn.Module):
    """The three-stage cascade. `detect(rgb_uint8)` returns boxes, scores and 5 landmarks per face.

    min_face: smallest face side (pixels) the pyramid looks for; thresholds: the face-probability
    cut-offs of P-, R- and O-Net; factor: the pyramid's scale step (0.709 ≈ 1/√2: area halves).
    """

    def __init__(self, min_face: float = 20.0, thresholds=(0.6, 0.7, 0.7), factor: float = 0.709):
        super().__init__()
        self.pnet, self.rnet, self.onet = PNet(), RNet(), ONet()
        self.min_face = float(min_face)
        self.thresholds = tuple(float(t) for t in thresholds)
        self.factor = float(factor)
        self.eval()

    def load_weights(self, path: str | Path = WEIGHTS_PATH) -> MTCNN:
        from safetensors.torch import load_file

        from fer.errors import CheckpointError

        path = Path(path)
        if not path.is_file():
            raise CheckpointError(
                f"MTCNN weights not found at {path}; run `python scripts/convert_mtcnn.py` to create them."
            )
        try:
            state = load_file(str(path))
            self.load_state_dict(state, strict=True)
        except Exception as exc:  # truncated or foreign file
            raise CheckpointError(f"MTCNN weights at {path} cannot be loaded: {exc}") from None
        return self.eval()

    def scales(self, height: int, width: int, min_face: float | None = None) -> list[float]:
        """Pyramid scales: the first maps a min_face-pixel face onto P-Net's 12-pixel window."""
        m = 12.0 / (self.min_face if min_face is None else float(min_face))
        side = min(height, width) * m
        out, s = [], m
        while side >= 12:
            out.append(s)
            s *= self.factor
            side *= self.factor
        return out

    @torch.inference_mode()
    def detect(self, rgb: np.ndarray, min_face: float | None = None) -> Detections:
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError("MTCNN.detect expects an H×W×3 RGB array")
        pixels = np.array(rgb, dtype=np.float32)  # a copy: rgb stays untouched
        img = torch.from_numpy(pixels).permute(2, 0, 1)
        _, h, w = img.shape
        t1, t2, t3 = self.thresholds

        boxes = self._stage1(img, self.scales(h, w, min_face), t1)
        if len(boxes):
            boxes = self._stage2(pixels, boxes, t2)
        if len(boxes):
            return self._stage3(pixels, boxes, t3)
        return Detections(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), np.zeros((0, 5, 2), np.float32))

    def _stage1(self, img: torch.Tensor, scales: list[float], threshold: float) -> torch.Tensor:
        """P-Net over the pyramid -> candidate boxes (x1, y1, x2, y2, score), regressed and squared."""
        _, h, w = img.shape
        per_scale = []
        for s in scales:
            level = F.interpolate(img[None], size=(int(h * s + 1), int(w * s + 1)), mode="area")
            offsets, probs = self.pnet(normalise(level))
            ys, xs = torch.nonzero(probs[0, 1] >= threshold, as_tuple=True)
            if len(ys) == 0:
                continue
            # each output cell is a 12×12 window at stride 2 on the scaled level, mapped back to the photo
            cell = torch.stack([xs, ys], 1).to(img.dtype)
            top_left = torch.floor((2 * cell + 1) / s)
            bottom_right = torch.floor((2 * cell + 12) / s)
            score = probs[0, 1, ys, xs]
            reg = offsets[0, :, ys, xs].T
            cand = torch.cat([top_left, bottom_right, score[:, None], reg], 1)
            per_scale.append(cand[_nms_union(cand[:, :4], cand[:, 4], 0.5)])
        if not per_scale:
            return torch.zeros((0, 5))
        cand = torch.cat(per_scale)
        cand = cand[_nms_union(cand[:, :4], cand[:, 4], 0.7)]
        w_ = cand[:, 2] - cand[:, 0]  # stage-1 regression uses the exclusive size
        h_ = cand[:, 3] - cand[:, 1]
        boxes = cand[:, :4] + cand[:, 5:9] * torch.stack([w_, h_, w_, h_], 1)
        return square_boxes(torch.cat([boxes, cand[:, 4:5]], 1))

    def _stage2(self, img: np.ndarray, boxes: torch.Tensor, threshold: float) -> torch.Tensor:
        offsets, probs = self.rnet(normalise(_crops(img, boxes, 24)))
        keep = probs[:, 1] > threshold
        boxes = torch.cat([boxes[keep, :4], probs[keep, 1:2]], 1)
        offsets = offsets[keep]
        pick = _nms_union(boxes[:, :4], boxes[:, 4], 0.7)
        return square_boxes(apply_offsets(boxes[pick], offsets[pick]))

    def _stage3(self, img: np.ndarray, boxes: torch.Tensor, threshold: float) -> Detections:
        offsets, marks, probs = self.onet(normalise(_crops(img, boxes, 48)))
        keep = probs[:, 1] > threshold
        boxes = torch.cat([boxes[keep, :4], probs[keep, 1:2]], 1)
        offsets, marks = offsets[keep], marks[keep]
        points = onet_points(boxes, marks)  # fractions of the (pre-regression) box
        boxes = apply_offsets(boxes, offsets)
        b, p = boxes.numpy(), points.numpy()
        pick = _nms_min(b[:, :4], b[:, 4], 0.7) if len(b) else np.zeros(0, np.int64)
        return Detections(b[pick, :4].astype(np.float32), b[pick, 4].astype(np.float32), p[pick].astype(np.float32))


@load_once
def get_mtcnn() -> MTCNN:
    """The process-wide MTCNN with its weights, loaded once (thread-safe)."""
    return MTCNN().load_weights()


@torch.inference_mode()
def refit(rgb: np.ndarray, box, grow: tuple[float, ...] = (1.0, 1.12)) -> tuple[np.ndarray, float, np.ndarray]:
    """O-Net alone on the square around `box` (x1, y1, x2, y2), grown by each factor of `grow`: (refitted box,
    face probability, 5 points) of the candidate O-Net likes best. One tiny forward pass instead of a pyramid:
    the live tracker's step between detections, and the check of another detector's faces."""
    onet = get_mtcnn().onet
    x1, y1, x2, y2 = (float(v) for v in box[:4])
    cx, cy, half = (x1 + x2) / 2, (y1 + y2) / 2, max(x2 - x1, y2 - y1) / 2
    grown = [[cx - half * g, cy - half * g, cx + half * g, cy + half * g, 1.0] for g in grow]
    boxes = square_boxes(torch.tensor(grown))
    offsets, marks, probs = onet(normalise(_square_crops(rgb, boxes, 48)))
    best = int(torch.argmax(probs[:, 1]))
    one = boxes[best : best + 1]
    points = onet_points(one, marks[best : best + 1])[0].numpy().astype(np.float64)
    new_box = apply_offsets(one, offsets[best : best + 1])[0, :4].numpy().astype(np.float64)
    return new_box, float(probs[best, 1]), points


def _square_crops(rgb: np.ndarray, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """Each box (1-based inclusive, as in MTCNN's cascade) cut out with zero padding and
    area-resampled by OpenCV to size×size: N×3×size×size float32. (MTCNN's own `_crops` builds
    exact resampling matrices per box size: right for a pyramid's hundreds of boxes, slow for one.)"""
    import cv2

    h, w = rgb.shape[:2]
    out = np.zeros((len(boxes), size, size, 3), np.float32)
    for k, (bx1, by1, bx2, by2) in enumerate(boxes[:, :4].trunc().int().tolist()):
        x0, y0 = bx1 - 1, by1 - 1
        cw, ch = max(bx2 - x0, 1), max(by2 - y0, 1)
        crop = np.zeros((ch, cw, 3), np.uint8)
        sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(bx2, w), min(by2, h)
        if sx1 > sx0 and sy1 > sy0:
            crop[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
        out[k] = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(out).permute(0, 3, 1, 2)

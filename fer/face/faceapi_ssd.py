"""face-api's face detector (SsdMobilenetv1, @vladmandic/face-api 1.7.15), ported to PyTorch.

face-api's 68-point net was trained on, and face-api feeds it, this detector's boxes; the net's
points follow the box, so a model cut by face-api's rule (`fer.face.crop`, recipe `faceapi`) sees
face-api's own crop only when its box comes from here (docs/face.md, "face-api's detector").

Network (face-api's `mobileNetV1`, `predictionLayer`, `outputLayer`): MobileNet v1 (a 3x3 stride-2
convolution, then 13 depthwise + pointwise pairs; batch norm after each depthwise convolution, a
folded offset after each pointwise one, ReLU6 after both), eight more pointwise layers, and six box
predictors (on the 11th pair's 32x32 map, the last 16x16 map and four smaller ones: 5118 anchors),
decoded against the prior boxes stored with the weights (centre shift / 10, log-size / 5).

Pre- and post-processing are face-api's own (`SsdMobilenetv1.locateFaces`, `NetInput.toBatchTensor
(512, false)`, `padToSquare`, `nonMaxSuppression`):

1. the photo is zero-padded to a square at its bottom or right, resized to 512x512 with
   TensorFlow's legacy bilinear rule, and mapped to [-1, 1] (x / 127.5 - 1);
2. a face's score is the sigmoid of its second class logit; candidates scoring above
   `min_confidence` (0.5), best first, are kept unless they overlap a kept one by IoU > 0.5,
   at most `max_results` (100);
3. a kept box (y1, x1, y2, x2 in the square's fractions) is clipped to [0, 1] and scaled by
   512 / the photo's resized side to the photo's fractions, then to pixels.

Weights: `fer/weights/faceapi_ssd_mobilenetv1.safetensors`, face-api's own 8-bit quantised tensors
(TensorFlow names and layouts, with each tensor's scale and minimum) written by
`scripts/convert_faceapi_ssd.py`; they are expanded (q * scale + min, as TensorFlow.js's
`decodeWeights` does) and laid out for PyTorch at load. Notice: `fer/weights/NOTICE-faceapi-ssd.md`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from fer.errors import CheckpointError
from fer.once import load_once

WEIGHTS_PATH = Path(__file__).resolve().parents[1] / "weights" / "faceapi_ssd_mobilenetv1.safetensors"
INPUT_SIZE = 512
BN_EPSILON = 0.0010000000474974513  # face-api's batch-norm epsilon (float32 1e-3)
MIN_CONFIDENCE = 0.5  # face-api's default (SsdMobilenetv1Options)
MAX_RESULTS = 100
IOU_THRESHOLD = 0.5
# (in, out) channels of MobileNet v1's 13 depthwise + pointwise pairs; pairs 2, 4, 6 and 12 have stride 2.
PAIRS = ((32, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 512), (512, 512), (512, 512), (512, 512),
         (512, 512), (512, 512), (512, 1024), (1024, 1024))
STRIDE2 = (2, 4, 6, 12)
# The extra layers after MobileNet: (in, out, kernel, stride), face-api's prediction_layer/conv_0..7.
EXTRA = ((1024, 256, 1, 1), (256, 512, 3, 2), (512, 128, 1, 1), (128, 256, 3, 2), (256, 128, 1, 1),
         (128, 256, 3, 2), (256, 64, 1, 1), (64, 128, 3, 2))
# Box predictors: (input channels, anchors per cell), on conv11, the MobileNet output, extra 1, 3, 5, 7.
PREDICTORS = ((512, 3), (1024, 6), (512, 6), (256, 6), (256, 6), (128, 6))


def _conv(cin: int, cout: int, k: int, stride: int, groups: int = 1) -> nn.Module:
    from fer.models.reference_layers import SameConv2d

    return SameConv2d(cin, cout, k, stride=stride, groups=groups, bias=True)


class _ReLU6Conv(nn.Sequential):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(super().forward(x), 0.0, 6.0)


class FaceApiSSD(nn.Module):
    """SSD MobileNet v1; input (N, 3, 512, 512) in [-1, 1]; output (boxes (N, 5118, 4) as y1, x1, y2, x2
    fractions of the input square, face scores (N, 5118))."""

    def __init__(self) -> None:
        super().__init__()
        layers = [_ReLU6Conv(_conv(3, 32, 3, 2))]
        for i, (cin, cout) in enumerate(PAIRS, start=1):
            stride = 2 if i in STRIDE2 else 1
            layers += [_ReLU6Conv(_conv(cin, cin, 3, stride, groups=cin)), _ReLU6Conv(_conv(cin, cout, 1, 1))]
        self.mobilenet = nn.ModuleList(layers)
        self.extra = nn.ModuleList(_ReLU6Conv(_conv(*spec)) for spec in EXTRA)
        self.box = nn.ModuleList(_conv(c, 4 * a, 1, 1) for c, a in PREDICTORS)
        self.cls = nn.ModuleList(_conv(c, 3 * a, 1, 1) for c, a in PREDICTORS)
        self.register_buffer("priors", torch.zeros(5118, 4))  # y1, x1, y2, x2 of each anchor

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for i, layer in enumerate(self.mobilenet):
            x = layer(x)
            if i == 22:  # the 11th pair's pointwise output (conv11)
                conv11 = x
        maps, y = [conv11, x], x
        for i, layer in enumerate(self.extra):
            y = layer(y)
            if i % 2:
                maps.append(y)
        n = x.shape[0]
        enc = torch.cat([b(m).permute(0, 2, 3, 1).reshape(n, -1, 4) for b, m in zip(self.box, maps)], 1)
        logits = torch.cat([c(m).permute(0, 2, 3, 1).reshape(n, -1, 3) for c, m in zip(self.cls, maps)], 1)
        return self.decode(enc), torch.sigmoid(logits[..., 1])

    def decode(self, enc: torch.Tensor) -> torch.Tensor:
        """face-api's `decodeBoxesLayer`: each anchor's centre moved by enc / 10 of its size, its size scaled
        by exp(enc / 5)."""
        p = self.priors
        size = p[:, 2:] - p[:, :2]
        centre = p[:, :2] + size / 2
        half = torch.exp(enc[..., 2:] / 5) * size / 2
        mid = enc[..., :2] / 10 * size + centre
        return torch.cat([mid - half, mid + half], -1)

    def load_weights(self, path: str | Path = WEIGHTS_PATH) -> FaceApiSSD:
        try:
            self.load_state_dict(to_state_dict(read_weights(path)), strict=True)
        except Exception as exc:  # missing file, wrong tensors: say which file
            raise CheckpointError(f"face-api detector weights {path} could not be loaded: {exc}") from None
        return self.eval()


def read_weights(path: str | Path = WEIGHTS_PATH) -> dict[str, np.ndarray]:
    """The stored tensors by TensorFlow name, float32, expanded as TensorFlow.js's `decodeWeights` does."""
    from safetensors.numpy import load_file

    raw = load_file(str(path))
    out = {}
    for name, value in raw.items():
        if name.endswith((".scale", ".min")):
            continue
        if value.dtype == np.uint8:
            value = (value.astype(np.float64) * raw[name + ".scale"] + raw[name + ".min"]).astype(np.float32)
        out[name] = value.astype(np.float32)
    return out


def _conv_weight(w: np.ndarray, depthwise: bool = False) -> torch.Tensor:
    # TF [kh, kw, in, out] -> [out, in, kh, kw]; depthwise [kh, kw, C, 1] -> [C, 1, kh, kw]
    return torch.from_numpy(np.ascontiguousarray(w.transpose(2, 3, 0, 1) if depthwise else w.transpose(3, 2, 0, 1)))


def to_state_dict(tf: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """face-api's tensors (TensorFlow names) -> `FaceApiSSD`'s state dict; each depthwise batch norm is
    folded into its convolution."""
    t = torch.from_numpy
    state = {}

    def pointwise(key: str, prefix: str) -> None:
        state[f"{key}.0.weight"] = _conv_weight(tf[f"{prefix}/weights"])
        state[f"{key}.0.bias"] = t(tf[f"{prefix}/convolution_bn_offset"])

    pointwise("mobilenet.0", "MobilenetV1/Conv2d_0_pointwise")
    for i in range(1, len(PAIRS) + 1):
        bn = f"MobilenetV1/Conv2d_{i}_depthwise/BatchNorm"
        gain = tf[f"{bn}/gamma"] / np.sqrt(tf[f"{bn}/moving_variance"] + np.float32(BN_EPSILON))
        w = tf[f"MobilenetV1/Conv2d_{i}_depthwise/depthwise_weights"] * gain[None, None, :, None]
        state[f"mobilenet.{2 * i - 1}.0.weight"] = _conv_weight(w.astype(np.float32), depthwise=True)
        bias = tf[f"{bn}/beta"] - tf[f"{bn}/moving_mean"] * gain
        state[f"mobilenet.{2 * i - 1}.0.bias"] = t(bias.astype(np.float32))
        pointwise(f"mobilenet.{2 * i}", f"MobilenetV1/Conv2d_{i}_pointwise")
    for i in range(len(EXTRA)):
        pointwise(f"extra.{i}", f"Prediction/Conv2d_{i}_pointwise")
    for i in range(len(PREDICTORS)):
        for key, part in (("box", "BoxEncodingPredictor"), ("cls", "ClassPredictor")):
            state[f"{key}.{i}.weight"] = _conv_weight(tf[f"Prediction/BoxPredictor_{i}/{part}/weights"])
            state[f"{key}.{i}.bias"] = t(tf[f"Prediction/BoxPredictor_{i}/{part}/biases"])
    state["priors"] = t(np.ascontiguousarray(tf["Output/extra_dim"].reshape(-1, 4)))
    return state


@load_once
def get_net() -> FaceApiSSD:
    """The process-wide detector with its weights, loaded once (thread-safe)."""
    return FaceApiSSD().load_weights()


def net_input(rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The (512, 512, 3) float32 image in [-1, 1] the detector sees, and the photo's resized (width,
    height) inside it (face-api's `computeReshapedDimensions`)."""
    from fer.face.tfjs import js_round, resize_bilinear

    h, w = rgb.shape[:2]
    side = max(h, w)
    square = np.zeros((side, side, 3), np.uint8)
    square[:h, :w] = rgb
    x = square if side == INPUT_SIZE else resize_bilinear(square, INPUT_SIZE)
    scale = INPUT_SIZE / side
    return np.asarray(x, np.float32) / np.float32(127.5) - np.float32(1.0), (js_round(w * scale), js_round(h * scale))


def raw_outputs(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """(boxes (5118, 4) y1, x1, y2, x2 in the square's fractions, scores (5118,), resized (w, h))."""
    x, resized = net_input(rgb)
    with torch.inference_mode():
        boxes, scores = get_net()(torch.from_numpy(x).permute(2, 0, 1)[None])
    return boxes[0].numpy().astype(np.float64), scores[0].numpy().astype(np.float64), resized


def _corners(b: np.ndarray) -> tuple[np.ndarray, ...]:
    """(y_min, x_min, y_max, x_max) of boxes given as two corners in any order."""
    return (np.minimum(b[..., 0], b[..., 2]), np.minimum(b[..., 1], b[..., 3]),
            np.maximum(b[..., 0], b[..., 2]), np.maximum(b[..., 1], b[..., 3]))


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of box `a` with each row of `b` (y1, x1, y2, x2), face-api's rule (0 when either is empty)."""
    ay1, ax1, ay2, ax2 = _corners(a)
    by1, bx1, by2, bx2 = _corners(b)
    area_a, area_b = (ay2 - ay1) * (ax2 - ax1), (by2 - by1) * (bx2 - bx1)
    ih = np.maximum(np.minimum(ay2, by2) - np.maximum(ay1, by1), 0)
    iw = np.maximum(np.minimum(ax2, bx2) - np.maximum(ax1, bx1), 0)
    inter = ih * iw
    iou = inter / np.maximum(area_a + area_b - inter, 1e-300)
    return np.where((area_a <= 0) | (area_b <= 0), 0.0, iou)


def suppress(boxes: np.ndarray, scores: np.ndarray, max_results: int = MAX_RESULTS,
             iou_threshold: float = IOU_THRESHOLD, min_confidence: float = MIN_CONFIDENCE) -> list[int]:
    """face-api's `nonMaxSuppression`: indices of the kept boxes, best first."""
    candidates = np.flatnonzero(scores > min_confidence)
    candidates = candidates[np.argsort(-scores[candidates], kind="stable")]
    kept: list[int] = []
    for c in candidates:
        if len(kept) >= min(max_results, len(boxes)):
            break
        if not kept or not (_iou(boxes[c], boxes[kept]) > iou_threshold).any():
            kept.append(int(c))
    return kept


def detect(rgb: np.ndarray, min_confidence: float = MIN_CONFIDENCE,
           max_results: int = MAX_RESULTS) -> list[tuple[np.ndarray, float]]:
    """(box x1, y1, x2, y2 in photo pixels, score) of each face face-api's detector finds, best first."""
    boxes, scores, (rw, rh) = raw_outputs(rgb)
    h, w = rgb.shape[:2]
    kx, ky = INPUT_SIZE / rw * w, INPUT_SIZE / rh * h
    found = []
    for i in suppress(boxes, scores, max_results, IOU_THRESHOLD, min_confidence):
        y1, x1, y2, x2 = max(0.0, boxes[i, 0]), max(0.0, boxes[i, 1]), min(1.0, boxes[i, 2]), min(1.0, boxes[i, 3])
        found.append((np.array([x1 * kx, y1 * ky, x2 * kx, y2 * ky]), float(scores[i])))
    return found


__all__ = ["INPUT_SIZE", "WEIGHTS_PATH", "FaceApiSSD", "detect", "get_net", "net_input", "raw_outputs", "read_weights",
           "suppress", "to_state_dict"]

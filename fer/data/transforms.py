"""Image → tensor transforms for training, deterministic per sample (evaluation's is `Preprocess.to_tensor`).

Training augmentation draws its parameters from a generator seeded per sample (by the
sampler: seed, epoch and position), never from a global RNG, so the exact same batches are
produced whatever the number of loader workers and after a resume. Geometry (random
resized crop, rotation, flip) is one affine warp with OpenCV; colour jitter and random
erasing act on the float tensor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from fer.models.base import Preprocess


@dataclass
class Augment:
    """Training augmentations (all off = evaluation transform). See docs/training.md."""

    crop_scale: tuple[float, float] = (0.8, 1.0)  # random resized crop: area fraction kept
    crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
    hflip: bool = True
    rotation: float = 10.0  # degrees, uniform in ±rotation
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    erase_p: float = 0.25  # random erasing (Zhong et al.), as DAN / EAC / APViT use
    erase_scale: tuple[float, float] = (0.02, 0.25)
    erase_ratio: tuple[float, float] = (0.3, 3.3)

    @classmethod
    def from_dict(cls, d: dict | None) -> Augment:
        d = dict(d or {})
        known = {k: d.pop(k) for k in list(d) if k in cls.__dataclass_fields__}
        for k in ("crop_scale", "crop_ratio", "erase_scale", "erase_ratio"):
            if k in known:
                known[k] = tuple(float(v) for v in known[k])
        if d:
            from fer.errors import FERError

            raise FERError(f"unknown augmentation options: {sorted(d)}; known: {sorted(cls.__dataclass_fields__)}")
        return cls(**known)


def eval_transform(img: np.ndarray, pre: Preprocess) -> torch.Tensor:
    """RGB uint8 H×W×3 → normalised C×S×S tensor: `Preprocess.to_tensor`, where the rule lives."""
    return pre.to_tensor(img)


def train_transform(img: np.ndarray, pre: Preprocess, aug: Augment, seed: int) -> torch.Tensor:
    """Augmented, normalised C×S×S tensor; the same `seed` gives the same result."""
    g = np.random.default_rng(seed)
    h, w = img.shape[:2]
    s = pre.input_size
    # random resized crop (area fraction and aspect ratio), as torchvision samples it
    area = h * w
    cw, ch, cx, cy = w, h, w / 2, h / 2
    for _ in range(10):
        a = area * g.uniform(*aug.crop_scale)
        r = math.exp(g.uniform(math.log(aug.crop_ratio[0]), math.log(aug.crop_ratio[1])))
        tw, th = math.sqrt(a * r), math.sqrt(a / r)
        if tw <= w and th <= h:
            cw, ch = tw, th
            cx, cy = g.uniform(tw / 2, w - tw / 2), g.uniform(th / 2, h - th / 2)
            break
    angle = g.uniform(-aug.rotation, aug.rotation) if aug.rotation else 0.0
    flip = bool(aug.hflip and g.random() < 0.5)
    # affine: output pixel -> crop centre frame -> rotate -> input pixel; invert for warpAffine
    sx, sy = cw / s, ch / s
    c, sn = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    fx = -1.0 if flip else 1.0
    a11, a12 = c * sx * fx, -sn * sy
    a21, a22 = sn * sx * fx, c * sy
    ox, oy = s / 2, s / 2
    inv = np.array([[a11, a12, cx - a11 * ox - a12 * oy], [a21, a22, cy - a21 * ox - a22 * oy]], np.float64)
    out = cv2.warpAffine(
        img, inv, (s, s), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT_101
    )
    x = torch.from_numpy(out).permute(2, 0, 1).float().div_(255.0)
    # colour jitter (brightness, contrast, saturation), fixed order
    if aug.brightness:
        x = x * g.uniform(1 - aug.brightness, 1 + aug.brightness)
    if aug.contrast:
        m = x.mean()
        x = (x - m) * g.uniform(1 - aug.contrast, 1 + aug.contrast) + m
    if aug.saturation:
        grey = (0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2]).unsqueeze(0)
        x = (x - grey) * g.uniform(1 - aug.saturation, 1 + aug.saturation) + grey
    x = x.clamp_(0, 1)
    x = pre.normalise(x)
    # random erasing on the normalised tensor, random-normal fill (torchvision's value='random')
    if aug.erase_p and g.random() < aug.erase_p:
        for _ in range(10):
            ea = s * s * g.uniform(*aug.erase_scale)
            er = math.exp(g.uniform(math.log(aug.erase_ratio[0]), math.log(aug.erase_ratio[1])))
            eh, ew = int(round(math.sqrt(ea * er))), int(round(math.sqrt(ea / er)))
            if 0 < eh < s and 0 < ew < s:
                y0, x0 = int(g.integers(0, s - eh + 1)), int(g.integers(0, s - ew + 1))
                x[:, y0 : y0 + eh, x0 : x0 + ew] = torch.from_numpy(
                    g.standard_normal((x.shape[0], eh, ew)).astype(np.float32)
                )
                break
    return x

"""Occlusion conditions on aligned crops: `fer.occlusion` occluders, the four region blocks, halves.

Condition names (`Condition.occluder`):
  "clean"                 no occluder
  an occluder kind        any `fer.occlusion` occluder (surgical_mask, sunglasses, hand_mouth, ...)
  "region:<region>"       `fer.occlusion`'s region_block inside one model region (top-left, top-right,
                          bottom-left, bottom-right): "what happens when one head loses its input"
  "half:<top|bottom|left|right>"  a grey band over that half of the crop, `severity` of its depth
                          (not in the default sweep; handy for probing which half carries a cue)
Crops with their own landmarks get the occluder drawn per crop; crops without landmarks share the
face pipeline's canonical template and are occluded as one batch (`fer.occlusion.apply_batch`:
template occluders are rendered once and blended into every crop).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer.errors import InputError
from fer.face.types import AlignedFace, Face
from fer.regions import REGION_CODES, REGION_NAMES

REGION_PREFIX = "region:"
HALF_PREFIX = "half:"
HALVES = ("top", "bottom", "left", "right")
HALF_FILL = 128
_SHORT = dict(zip(REGION_NAMES, REGION_CODES))
NOT_SWEPT = ("user", "region_block")  # needs a user mask / covered by the region:* conditions


@dataclass(frozen=True)
class Condition:
    """One condition of a sweep: `occluder` (see the module docstring) at `severity` in [0, 1]."""

    occluder: str
    severity: float = 0.0

    @property
    def is_clean(self) -> bool:
        return self.occluder == "clean"

    @property
    def label(self) -> str:
        return "clean" if self.is_clean else f"{self.occluder}@{self.severity:g}"


def region_conditions() -> list[str]:
    """The four region blocks of the default sweep."""
    return [REGION_PREFIX + r for r in REGION_NAMES]


def available_occluders() -> list[str]:
    """`fer.occlusion` occluders a sweep runs by default (all but the user mask and region_block)."""
    from fer import occlusion

    return [k for k in occlusion.list_occluders() if k not in NOT_SWEPT]


def check_condition(cond: Condition) -> None:
    """Raise `InputError` for an unknown occluder name or a severity outside [0, 1]."""
    sev = cond.severity
    if not isinstance(sev, (int, float)) or not np.isfinite(sev) or not 0.0 <= sev <= 1.0:
        raise InputError(f"severity must be a number within [0, 1], got {sev!r}")
    name = cond.occluder
    if name == "clean":
        return
    if name.startswith(REGION_PREFIX):
        if name[len(REGION_PREFIX) :] not in REGION_NAMES:
            raise InputError(f"unknown region in {name!r}; regions: {', '.join(REGION_NAMES)}")
        return
    if name.startswith(HALF_PREFIX):
        if name[len(HALF_PREFIX) :] not in HALVES:
            raise InputError(f"unknown half in {name!r}; halves: {', '.join(HALVES)}")
        return
    from fer import occlusion

    known = occlusion.list_occluders()
    if name not in known or name == "user":
        raise InputError(
            f"unknown occluder {name!r}; choose from {', '.join(available_occluders())}, "
            f"{', '.join(region_conditions())}, or half:top/bottom/left/right"
        )


def crop_face(crop: np.ndarray, landmarks: np.ndarray, landmarks68: np.ndarray | None = None) -> AlignedFace:
    """An `AlignedFace` whose photo is the crop itself (identity matrix): occluders drawn on it
    use the crop's quadrants as the model's regions."""
    lm = np.asarray(landmarks, np.float64)
    lm68 = None if landmarks68 is None else np.asarray(landmarks68, np.float64)
    eye = np.eye(2, 3)
    size = float(crop.shape[0])
    face = Face(box=np.array([0.0, 0.0, size, size]), score=1.0, landmarks=lm, landmarks68=lm68)
    return AlignedFace(image=crop, matrix=eye, inverse=eye, face=face, landmarks=lm, landmarks68=lm68)


def half_mask(size: int, half: str, severity: float) -> np.ndarray:
    mask = np.zeros((size, size), np.float32)
    depth = round(size // 2 * min(1.0, max(0.0, severity)))
    if depth <= 0:
        return mask
    if half == "top":
        mask[:depth] = 1
    elif half == "bottom":
        mask[size - depth :] = 1
    elif half == "left":
        mask[:, :depth] = 1
    else:
        mask[:, size - depth :] = 1
    return mask


def _kind_and_params(name: str) -> tuple[str, dict]:
    if name.startswith(REGION_PREFIX):
        return "region_block", {"region": _SHORT[name[len(REGION_PREFIX) :]]}
    return name, {}


def occlude_batch(
    crops: np.ndarray,
    cond: Condition,
    landmarks: np.ndarray | None = None,
    landmarks68: np.ndarray | None = None,
    seed: int = 0,
    faces=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Apply `cond` to (N, S, S, 3) aligned crops -> (occluded crops, opacity masks (N, S, S)).

    `landmarks` (N, 5, 2) in crop coordinates draw each crop's occluder from its own face;
    None uses the canonical template for all. `faces` (N `fer.face.Face`s in image coordinates)
    treats the images as scenes (photo windows): each occluder is drawn from its face as on a photo.
    Crop i is drawn with seed `seed + i`.
    """
    n, size = len(crops), crops.shape[1]
    if cond.is_clean:
        return crops, np.zeros((n, *crops.shape[1:3]), np.float32)
    if cond.occluder.startswith(HALF_PREFIX):
        mask = half_mask(size, cond.occluder[len(HALF_PREFIX) :], cond.severity)
        out = crops.copy()
        out[:, mask > 0] = HALF_FILL
        return out, np.broadcast_to(mask, (n, *mask.shape)).copy()
    from fer import occlusion

    kind, params = _kind_and_params(cond.occluder)
    if faces is None and landmarks is None:
        res = occlusion.apply_batch(crops, kind, cond.severity, seed=seed, **params)
        return res.image, res.mask
    out = np.empty_like(crops)
    masks = np.zeros((n, *crops.shape[1:3]), np.float32)
    for i in range(n):
        face = faces[i] if faces is not None else crop_face(
            crops[i], landmarks[i], None if landmarks68 is None else landmarks68[i])
        res = occlusion.apply(crops[i], face, kind, cond.severity, seed=seed + i, **params)
        out[i], masks[i] = res.image, res.mask
    return out, masks


def coverage(masks: np.ndarray, model=None) -> np.ndarray:
    """(N, 4) fraction of each model region (TL, TR, BL, BR) hidden, opacity-weighted.

    The regions are the input pixels `model`'s heads see (`FERModel.input_regions` on its input
    size, placed on the crops); without a model, or for a one-head model, the crops' quadrants.
    """
    from fer.occlusion import region_coverage

    regions, hw = [], None
    if model is not None:
        size = int(model.config.preprocess.input_size)
        regions, hw = model.input_regions(size, size), (size, size)
    return np.array([region_coverage(m, regions=regions, regions_hw=hw) for m in masks], np.float64).reshape(
        len(masks), 4
    )

"""Crop recipes: how a face is cut from the photo for one model, as that model was made to see it.

A model's `ModelConfig.crop` (a `CropSpec`, stored in every checkpoint) names one recipe here;
`cut(photo, face, spec, size)` applies it and returns an `AlignedFace` (the size×size RGB uint8
crop plus the photo↔crop maps), so occlusion, CAMs and paste-back work the same for every recipe.

* `similarity5`: the 5 landmarks mapped by a similarity (rotation, scale, shift) onto the ArcFace
  5-point template, scaled by `face_scale` (`fer.face.align`). For models trained through `fer.face`.
* `faceapi`: face-api's own rule (`@vladmandic/face-api` 1.7.15, `FaceLandmarks.alignMinBbox`,
  `extractFaceTensors`, `NetInput.toBatchTensor(size, true)`): the axis-aligned box of the 68
  landmarks, grown by `padding` (0.2: 10 % of its width/height on each side), clipped at the photo
  border and floored to whole pixels, zero-padded to a square (the extra row/column split between
  both sides, the larger half after), resized bilinearly as TensorFlow.js does (no half-pixel
  centres), no rotation. Its faces come from face-api's own detector (`detector_for`): face-api's
  68 points are fitted inside that detector's box, and another detector's box moves them.
* `fer_box`: the PyPI `fer` package's rule for mini-Xception (`fer/fer.py` 25.10.3,
  `detect_emotions`): the photo turned grey (ITU-R 601 luma), the detector box truncated to whole
  pixels and made square by growing its shorter side about the centre, `margin_px` (10) pixels
  added on each side, the grey photo first padded by 40 pixels of the mean grey of its two bottom
  rows, the box cut (clipped at that padded border) and resized with OpenCV's bilinear resize.
  `fer` uses OpenCV's Haar cascade (or MTCNN) for the box; here the box is our detector's.
* `rafdb`: RAF-DB's "aligned" images are 100×100 similarity alignments of its five annotated
  points; the template is not published. This recipe is the 5-point similarity onto our template,
  cut at 100×100 first (RAF-DB's resolution) and then resized to the model input, as a model
  trained on the aligned images sees them (docs/reference-models.md, "Crop recipes").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from fer.errors import InputError
from fer.face.tfjs import js_round, resize_bilinear
from fer.face.types import AlignedFace, Face

if TYPE_CHECKING:  # the spec is model configuration (fer.models.base); the face floor does not import it
    from fer.models.base import CropSpec

RAFDB_SIZE = 100  # RAF-DB's aligned images are 100×100
DETECTOR_WORDS = {"faceapi_ssd": "face-api's own detector"}  # a recipe's own detector, in words
FER_PACKAGE_PADDING = 40  # pixels the `fer` package pads its grey photo with before cutting


@dataclass(frozen=True)
class Recipe:
    name: str
    summary: str
    fields: tuple[str, ...]  # the CropSpec fields this recipe reads (besides colour)
    cut: Callable[[np.ndarray, Face, CropSpec, int], AlignedFace]
    uses_landmarks68: bool = False  # the cut reads the face's 68 points (else its box or 5 points)
    detector: str | None = None  # the detector backend whose faces this rule was made for (None: any)


def _as_rgb(image) -> np.ndarray:
    from fer.io import is_rgb_uint8, load_image

    return image if is_rgb_uint8(image) else load_image(image)


def _aligned(crop: np.ndarray, matrix: np.ndarray, face: Face) -> AlignedFace:
    from fer.face.align import invert, transform_points

    lm68 = None if face.landmarks68 is None else transform_points(face.landmarks68, matrix)
    return AlignedFace(
        image=np.ascontiguousarray(crop), matrix=matrix, inverse=invert(matrix), face=face,
        landmarks=transform_points(face.landmarks, matrix), landmarks68=lm68,
    )


# ----------------------------------------------------------------------------- similarity recipes


def _similarity5(rgb: np.ndarray, face: Face, spec: CropSpec, size: int) -> AlignedFace:
    from fer.face.align import align

    return align(rgb, face, size=size, face_scale=float(spec.face_scale))


def _rafdb(rgb: np.ndarray, face: Face, spec: CropSpec, size: int) -> AlignedFace:
    import cv2

    from fer.face.align import _compose, align

    small = align(rgb, face, size=RAFDB_SIZE, face_scale=float(spec.face_scale))
    if size == RAFDB_SIZE:
        return small
    crop = cv2.resize(
        small.image, (size, size), interpolation=cv2.INTER_AREA if size < RAFDB_SIZE else cv2.INTER_LINEAR
    )
    k = size / RAFDB_SIZE
    resize = np.array([[k, 0, 0.5 * k - 0.5], [0, k, 0.5 * k - 0.5]])  # OpenCV's pixel-centre convention
    return _aligned(crop, _compose(resize, small.matrix), face)


# ----------------------------------------------------------------------------- face-api


def faceapi_box(face: Face, photo_shape: tuple[int, ...], padding: float = 0.2) -> tuple[int, int, int, int]:
    """face-api's `alignedRect` cut from the photo, clipped and floored: (x, y, width, height)."""
    pts = _landmarks68(face)
    x_min, y_min = pts.min(0)
    x_max, y_max = max(0.0, pts[:, 0].max()), max(0.0, pts[:, 1].max())  # minBbox starts its max at 0
    w, h = x_max - x_min, y_max - y_min
    bx, by, bw, bh = x_min - padding * w / 2, y_min - padding * h / 2, w * (1 + padding), h * (1 + padding)
    img_h, img_w = photo_shape[:2]
    cx, cy = max(bx, 0.0), max(by, 0.0)
    cw, ch = min(bx + bw - cx, img_w - cx), min(by + bh - cy, img_h - cy)
    return math.floor(cx), math.floor(cy), math.floor(cw), math.floor(ch)


def _faceapi(rgb: np.ndarray, face: Face, spec: CropSpec, size: int) -> AlignedFace:
    x, y, w, h = faceapi_box(face, rgb.shape, float(spec.padding))
    if w <= 0 or h <= 0:
        raise InputError("The face's landmark box lies outside the photo; it cannot be cut out.")
    region = rgb[y : y + h, x : x + w]
    side = max(w, h)
    diff = side - min(w, h)
    after = js_round(diff * 0.5)
    before = diff - after
    square = np.zeros((side, side, 3), np.uint8)
    ox, oy = (before, 0) if h > w else (0, before)
    square[oy : oy + h, ox : ox + w] = region
    crop = np.clip(np.rint(resize_bilinear(square, size)), 0, 255).astype(np.uint8)
    k = size / side  # crop index = square index / (side / size): TF's legacy (corner) convention
    matrix = np.array([[k, 0, k * (ox - x)], [0, k, k * (oy - y)]], np.float64)
    return _aligned(crop, matrix, face)


def _landmarks68(face: Face) -> np.ndarray:
    if face.landmarks68 is not None:
        return np.asarray(face.landmarks68, np.float64)
    from fer.face.landmarks68 import fit_landmarks68

    return np.asarray(fit_landmarks68(np.asarray(face.landmarks, np.float64)), np.float64)


# ----------------------------------------------------------------------------- the fer package's rule


def _fer_box(rgb: np.ndarray, face: Face, spec: CropSpec, size: int) -> AlignedFace:
    import cv2

    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    pad = FER_PACKAGE_PADDING
    fill = cv2.mean(grey[-2:])[0]
    padded = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=[fill, fill, fill])
    x, y = int(face.box[0]), int(face.box[1])
    w, h = int(face.box[2]) - x, int(face.box[3]) - y
    if h > w:  # tosquare: grow the shorter side about the centre
        x, w = x - (h - w) // 2, h
    elif w > h:
        y, h = y - (w - h) // 2, w
    m = int(spec.margin_px)
    x1, x2, y1, y2 = max(0, x - m + pad), x + w + m + pad, max(0, y - m + pad), y + h + m + pad
    region = padded[y1:y2, x1:x2]
    if region.shape[0] < 1 or region.shape[1] < 1:
        raise InputError("The face box lies outside the photo; it cannot be cut out.")
    crop = cv2.resize(region, (size, size))  # OpenCV's default: bilinear
    sx, sy = size / region.shape[1], size / region.shape[0]
    matrix = np.array([[sx, 0, (pad - x1 + 0.5) * sx - 0.5], [0, sy, (pad - y1 + 0.5) * sy - 0.5]], np.float64)
    return _aligned(np.repeat(crop[..., None], 3, axis=2), matrix, face)


# ----------------------------------------------------------------------------- registry

RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe("similarity5", "5-point similarity alignment to the ArcFace template", ("face_scale",), _similarity5),
        Recipe("faceapi", "face-api's box of the 68 landmarks, padded, zero-padded to a square, no rotation",
               ("padding",), _faceapi, uses_landmarks68=True, detector="faceapi_ssd"),
        Recipe("fer_box", "the fer package's square detector box plus a fixed margin, grey", ("margin_px",), _fer_box),
        Recipe("rafdb", "RAF-DB-style 5-point similarity alignment at 100×100", ("face_scale",), _rafdb),
    )
}


def cut(image, face: Face, spec: CropSpec | None = None, size: int = 224) -> AlignedFace:
    """The size×size crop of `face` in `image` (anything `fer.io.load_image` accepts) by `spec`'s recipe."""
    if spec is None:
        from fer.models.base import CropSpec

        spec = CropSpec()
    spec.validate()
    size = int(size)
    if size < 8:
        raise InputError(f"crop size must be at least 8 pixels, got {size}")
    out = RECIPES[spec.recipe].cut(_as_rgb(image), face, spec, size)
    if spec.colour == "grey" and spec.recipe != "fer_box":
        import cv2

        out.image = np.repeat(cv2.cvtColor(out.image, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    return out


def needs_landmarks68(config) -> bool:
    """Whether the crop of the model of `config` (a `ModelConfig`) is cut from the face's 68 points."""
    return RECIPES[config.crop_recipe().recipe].uses_landmarks68


def detector_for(config, backend: str | None = "auto") -> str:
    """The detector a model of `config` gets: `backend`, unless it is "auto" (or None) and the model's crop
    recipe names its own detector (face-api's rule: face-api's detector), which it then is."""
    choice = "auto" if backend is None else str(backend)
    if choice.strip().lower() == "auto":
        return RECIPES[config.crop_recipe().recipe].detector or "auto"
    return choice


def cut_for(image, face: Face, config, size: int | None = None) -> AlignedFace:
    """The crop the model of `config` (a `ModelConfig`) sees: its recipe (`config.crop_recipe()`) at its
    input size, or at `size`. Every path that cuts a face for a model goes through here."""
    return cut(image, face, config.crop_recipe(), size=int(size or config.preprocess.input_size))


def map_to_crop(values: np.ndarray, aligned: AlignedFace) -> np.ndarray:
    """A per-pixel map over the photo (e.g. an occluder's opacity mask) resampled onto `aligned`'s crop
    (bilinear, 0 outside the photo), float32 (S, S)."""
    import cv2

    size = aligned.size
    return cv2.warpAffine(np.ascontiguousarray(values, np.float32), np.asarray(aligned.matrix, np.float64),
                          (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def describe(spec: CropSpec, size: int | None = None) -> str:
    """One line naming the recipe and its settings, for provenance text."""
    recipe = RECIPES[spec.recipe]
    settings = [f"{name} {getattr(spec, name):g}" for name in recipe.fields]
    settings += [f"{size}×{size}"] if size else []
    settings += ["grey"] if spec.colour == "grey" or spec.recipe == "fer_box" else []
    settings += [f"faces from {DETECTOR_WORDS[recipe.detector]} (`{recipe.detector}`) unless another detector is "
                 "chosen"] if recipe.detector else []
    return f"`{spec.recipe}` ({recipe.summary}; {', '.join(settings)})"


def describe_config(config) -> str:
    """The crop a `ModelConfig` gets, in words, saying so when an old checkpoint recorded none."""
    text = f"face crop: {describe(config.crop_recipe(), config.preprocess.input_size)}"
    return f"{text}; {config.crop_note}" if config.crop_note else text

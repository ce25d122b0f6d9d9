"""Core types of the occluders: face geometry, a rendered layer, the registry, compositing.

An occluder is a function `render(ctx: RenderContext) -> Layer`. The layer is a small RGBA
patch (plus an optional cast shadow) placed at (x0, y0) of the image; `composite` blends it and
returns the coverage mask (the layer's opacity over the whole image). Rendering never writes
outside the image: the patch is clipped to the image rectangle.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fer.errors import InputError
from fer.face.landmarks68 import fit_landmarks68
from fer.face.types import AlignedFace, Face
from fer.io import require_rgb_uint8


@dataclass
class Occluded:
    """Result of `apply`: the occluded image (uint8, same shape) and the coverage mask.

    `mask` is float32 (H, W) in [0, 1]: the opacity of the occluder at each pixel (1 = fully
    hidden, 0 = untouched; a tinted lens is in between). Cast shadows are not counted.
    """

    image: np.ndarray
    mask: np.ndarray


@dataclass
class FaceGeometry:
    """Landmarks of one face in the coordinates of the image being occluded.

    `region_box` is the rectangle whose quadrants are the model's four regions: the whole crop
    for an aligned face, the detection box for a face on a photo.
    """

    landmarks: np.ndarray  # (5, 2)
    landmarks68: np.ndarray  # (68, 2)
    box: np.ndarray  # (4,) x1, y1, x2, y2
    region_box: np.ndarray  # (4,)

    @classmethod
    def from_face(cls, face: Face | AlignedFace, image_shape: tuple[int, int]) -> FaceGeometry:
        h, w = image_shape
        if isinstance(face, AlignedFace):
            lm5 = np.asarray(face.landmarks, np.float64)
            lm68 = face.landmarks68
            # the detection box mapped into the crop (its corners' bounding box)
            corners = _box_corners(np.asarray(face.face.box, np.float64))
            mapped = corners @ np.asarray(face.matrix, np.float64)[:, :2].T + np.asarray(face.matrix)[:, 2]
            box = np.array([*mapped.min(0), *mapped.max(0)])
            region_box = np.array([0.0, 0.0, float(w), float(h)])
        elif isinstance(face, Face):
            lm5 = np.asarray(face.landmarks, np.float64)
            lm68 = face.landmarks68
            box = np.asarray(face.box, np.float64)
            region_box = box.copy()
        else:
            raise InputError(f"expected a fer.face Face or AlignedFace, got {type(face).__name__}")
        if lm5.shape != (5, 2) or not np.isfinite(lm5).all():
            raise InputError("the face needs 5 finite landmarks (eyes, nose tip, mouth corners)")
        if box.shape != (4,) or not np.isfinite(box).all():
            raise InputError("the face box must be 4 finite numbers x1, y1, x2, y2")
        lm68 = fit_landmarks68(lm5) if lm68 is None else np.asarray(lm68, np.float64)
        if lm68.shape != (68, 2):
            raise InputError(f"landmarks68 must have shape (68, 2), got {lm68.shape}")
        return cls(lm5, lm68, box, region_box)

    # --- derived quantities -------------------------------------------------------------
    @property
    def eye_left(self) -> np.ndarray:
        return self.landmarks[0]

    @property
    def eye_right(self) -> np.ndarray:
        return self.landmarks[1]

    @property
    def eye_mid(self) -> np.ndarray:
        return (self.landmarks[0] + self.landmarks[1]) / 2

    @property
    def ipd(self) -> float:
        """Distance between the eye centres (pixels), floored at 1."""
        return max(1.0, float(np.linalg.norm(self.landmarks[1] - self.landmarks[0])))

    @property
    def roll(self) -> float:
        """Angle of the eye line (radians, image coordinates, y down)."""
        d = self.landmarks[1] - self.landmarks[0]
        return math.atan2(d[1], d[0])

    def canon_matrix(self) -> np.ndarray:
        """(2, 3) similarity from the face frame (IPD units, eye midpoint origin, y down) to the image."""
        c, s = math.cos(self.roll), math.sin(self.roll)
        k = self.ipd
        mx, my = self.eye_mid
        return np.array([[c * k, -s * k, mx], [s * k, c * k, my]])

    def to_canon(self, pts: np.ndarray) -> np.ndarray:
        """Image points -> face frame (IPD units)."""
        m = self.canon_matrix()
        inv = np.linalg.inv(m[:, :2])
        return (np.asarray(pts, np.float64) - m[:, 2]) @ inv.T

    def to_image(self, pts: np.ndarray) -> np.ndarray:
        m = self.canon_matrix()
        return np.asarray(pts, np.float64) @ m[:, :2].T + m[:, 2]


def _box_corners(box: np.ndarray) -> np.ndarray:
    x1, y1, x2, y2 = box
    return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]])


@dataclass
class Layer:
    """An RGBA patch at (x0, y0). `rgb` float32 0..255; `alpha` float32 0..1 (coverage).

    `tint`: when set ((h, w) or per channel (h, w, 3), 0..255 = 0..1x), the colour is `tint * tone / 255`
    where `tone` is the skin tone of the
    image it is composited on (hands): one render then serves a batch of different faces.
    `shadow`: darkening of what lies under and around the occluder (0..1), not counted as coverage.
    """

    x0: int
    y0: int
    alpha: np.ndarray
    rgb: np.ndarray | None = None
    tint: np.ndarray | None = None
    shadow: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.alpha.shape[:2]


@dataclass
class RenderContext:
    image: np.ndarray  # (H, W, 3) uint8, read only
    geom: FaceGeometry
    severity: float
    rng: np.random.Generator
    params: dict[str, Any]

    @property
    def shape(self) -> tuple[int, int]:
        return self.image.shape[:2]


@dataclass(frozen=True)
class OccluderSpec:
    name: str
    family: str
    description: str
    severity: str  # what severity controls, for docs and `fer occlude --list`
    render: Callable[[RenderContext], Layer]
    params: dict[str, Any] = field(default_factory=dict)
    per_image: bool = False  # random placement: in a batch each image gets its own draw
    uses_skin: bool = False  # the layer carries a `tint` coloured by each image's skin tone
    needs_input: bool = False  # cannot run without an extra parameter (the user mask)
    photoreal: bool = True  # gets the photo's grain when composited (synthetic blocks stay exact)


_REGISTRY: dict[str, OccluderSpec] = {}


def register(name: str, family: str, description: str, severity: str, *, per_image: bool = False,
             uses_skin: bool = False, needs_input: bool = False, photoreal: bool = True, **params):
    """Decorator: register `render(ctx) -> Layer` under `name` with default `params`."""

    def deco(fn):
        if name in _REGISTRY:
            raise ValueError(f"occluder {name!r} registered twice")
        _REGISTRY[name] = OccluderSpec(name, family, description, severity, fn, dict(params), per_image, uses_skin,
                                        needs_input, photoreal)
        return fn

    return deco


def registry() -> dict[str, OccluderSpec]:
    return _REGISTRY


def get_spec(kind: str) -> OccluderSpec:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise InputError(f"unknown occluder {kind!r}; choose one of: {', '.join(sorted(_REGISTRY))}") from None


def resolve_params(spec: OccluderSpec, params: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(params) - set(spec.params))
    if unknown:
        allowed = ", ".join(sorted(spec.params)) or "none"
        raise InputError(f"occluder {spec.name!r} has no parameter {', '.join(unknown)} (parameters: {allowed})")
    merged = dict(spec.params)
    merged.update(params)
    return merged


def pick(value, choices, rng: np.random.Generator, what: str = "colour", weights=None,
         also: tuple[str, ...] = ("'random'",)) -> str:
    """The name `value` among `choices` (a table's keys or a tuple of names); None or "random" draws one
    (with `weights` when given). Anything else is an InputError listing the names and the `also` accepted."""
    names = list(choices)
    if value in (None, "random"):
        if weights is None:
            return names[int(rng.integers(0, len(names)))]
        return names[int(rng.choice(len(names), p=np.asarray(weights) / np.sum(weights)))]
    if value not in names:
        alternatives = ", ".join([*names, *also[:-1]]) + " or " + also[-1]
        raise InputError(f"unknown {what} {value!r}; choose one of: {alternatives}")
    return value


def pick_colour(value, table: dict, rng: np.random.Generator, what: str = "colour") -> np.ndarray:
    """`pick` from a table of (r, g, b) colours, or an (r, g, b) tuple itself: float32 (3,)."""
    if isinstance(value, (tuple, list)) and len(value) == 3:
        return np.clip(np.asarray(value, np.float32), 0, 255)
    name = pick(value, table, rng, what, also=("'random'", "an (r, g, b) tuple"))
    return np.asarray(table[name], np.float32)


def pick_side(value, rng: np.random.Generator) -> int:
    """-1 (the image's left) or 1 (right) for "left" / "right"; None or "random" draws one."""
    if value in (None, "random"):
        return 1 if rng.random() < 0.5 else -1
    if value in ("left", "right"):
        return -1 if value == "left" else 1
    raise InputError(f"side must be 'left', 'right' or 'random', got {value!r}")


def check_severity(severity: float) -> float:
    try:
        s = float(severity)
    except (TypeError, ValueError):
        raise InputError(f"severity must be a number in [0, 1], got {severity!r}") from None
    if not (0.0 <= s <= 1.0):
        raise InputError(f"severity must be in [0, 1], got {s}")
    return s


def check_image(image: np.ndarray) -> np.ndarray:
    require_rgb_uint8(image)
    if image.shape[0] < 8 or image.shape[1] < 8:
        raise InputError(f"image is too small to occlude: {image.shape[1]}x{image.shape[0]}")
    return image


# --- compositing -------------------------------------------------------------------------
def clip_layer(layer: Layer, shape: tuple[int, int]) -> tuple[slice, slice, slice, slice] | None:
    """Image slices and layer slices of the part of `layer` inside an image of `shape`."""
    h, w = shape
    lh, lw = layer.shape
    x1, y1 = max(0, layer.x0), max(0, layer.y0)
    x2, y2 = min(w, layer.x0 + lw), min(h, layer.y0 + lh)
    if x2 <= x1 or y2 <= y1:
        return None
    return (slice(y1, y2), slice(x1, x2), slice(y1 - layer.y0, y2 - layer.y0), slice(x1 - layer.x0, x2 - layer.x0))


def layer_colour(layer: Layer, tone: np.ndarray | None) -> np.ndarray:
    if layer.tint is not None:
        if tone is None:
            raise ValueError("a tinted layer needs a skin tone")
        tint = layer.tint if layer.tint.ndim == 3 else layer.tint[..., None]
        rgb = tint * (np.asarray(tone, np.float32) / 255.0)[None, None, :]
        if layer.rgb is not None:  # extra colour detail (nails, highlights) mixed in by the alpha of rgb
            rgb = rgb + layer.rgb
        return rgb
    assert layer.rgb is not None
    return layer.rgb


def is_greyscale(image: np.ndarray) -> bool:
    sub = image[::4, ::4].astype(np.int16)
    return bool((np.ptp(sub, axis=2) <= 4).mean() > 0.98)


def photo_grain(patch: np.ndarray) -> float:
    """Noise level of a photo patch (robust sigma of its fine detail, grey levels), capped at 6."""
    import cv2

    lum = patch.astype(np.float32).mean(axis=2)
    if min(lum.shape) < 4:
        return 0.0
    fine = lum - cv2.GaussianBlur(lum, (3, 3), 0.8)
    return float(min(6.0, 1.4826 * np.median(np.abs(fine))))


def composite(image: np.ndarray, layer: Layer, tone: np.ndarray | None = None, grain: bool = True) -> Occluded:
    """Blend `layer` onto a copy of `image`; returns the new image and the full-size coverage mask.

    grain: add the photo's own noise level to the drawn pixels, so a rendered occluder is not
    smoother than the photo around it (deterministic: a fixed noise seed).
    """
    h, w = image.shape[:2]
    out = image.copy()
    mask = np.zeros((h, w), np.float32)
    sl = clip_layer(layer, (h, w))
    if sl is None:
        return Occluded(out, mask)
    iy, ix, ly, lx = sl
    base = image[iy, ix].astype(np.float32)
    if layer.shadow is not None:
        base *= 1.0 - np.clip(layer.shadow[ly, lx], 0, 1)[..., None]
    a = np.clip(layer.alpha[ly, lx], 0.0, 1.0)
    rgb = layer_colour(layer, tone)[ly, lx]
    if grain and is_greyscale(image):  # a black-and-white photo gets a black-and-white occluder
        rgb = np.repeat((rgb @ np.array([0.299, 0.587, 0.114], np.float32))[..., None], 3, axis=2)
    blended = base + (rgb - base) * a[..., None]
    sigma = photo_grain(image[iy, ix]) if grain else 0.0
    if sigma > 0.3:
        noise = np.random.default_rng(12345).normal(0.0, sigma, a.shape).astype(np.float32)
        blended += (noise * a)[..., None]
    out[iy, ix] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    mask[iy, ix] = a
    return Occluded(out, mask)

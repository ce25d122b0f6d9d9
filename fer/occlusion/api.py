"""Public entry points: `apply`, `apply_batch`, `list_occluders`, `region_coverage`."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from fer.errors import InputError
from fer.face.types import AlignedFace, Face
from fer.io import require_rgb_uint8
from fer.occlusion.base import (
    FaceGeometry,
    Layer,
    Occluded,
    RenderContext,
    check_image,
    check_severity,
    clip_layer,
    composite,
    get_spec,
    is_greyscale,
    layer_colour,
    registry,
    resolve_params,
)
from fer.occlusion.render import skin_tone
from fer.regions import Box, scale_boxes, split_boxes


@dataclass(frozen=True)
class OccluderInfo:
    name: str
    family: str
    description: str
    severity: str
    params: dict[str, Any]


def list_occluders(standalone: bool = False) -> list[str]:
    """Names of every registered occluder, grouped by family.

    standalone=True leaves out those that need an extra input (the user mask), e.g. for sweeps.
    """
    specs = [s for s in registry().values() if not (standalone and s.needs_input)]
    return [s.name for s in sorted(specs, key=lambda s: (s.family, s.name))]


def occluder_info(kind: str) -> OccluderInfo:
    s = get_spec(kind)
    return OccluderInfo(s.name, s.family, s.description, s.severity, dict(s.params))


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.default_rng(int(seed))


def _resolve_image(image, face) -> np.ndarray:
    if image is None:
        if isinstance(face, AlignedFace):
            image = face.image
        else:
            raise InputError("no image given (pass the photo, or an AlignedFace to occlude its crop)")
    image = check_image(image)
    if isinstance(face, AlignedFace) and image.shape[:2] != face.image.shape[:2]:
        raise InputError(
            f"an AlignedFace places occluders on its {face.image.shape[1]}x{face.image.shape[0]} crop, "
            f"but the image is {image.shape[1]}x{image.shape[0]}; pass the crop, or the photo with face.face"
        )
    return image


def apply(image: np.ndarray | None, face: Face | AlignedFace, kind: str, severity: float = 0.5, seed: int = 0,
          **params) -> Occluded:
    """Draw occluder `kind` on `image` for `face`; returns Occluded(image, mask).

    - On a photo: pass the photo and a `Face` in photo coordinates (as `fer.face.detect` gives).
    - On an aligned crop: pass an `AlignedFace` (its crop is used when `image` is None), or the
      crop and a `Face` in crop coordinates. Regions for `region_block` are then the crop's quadrants.
    `severity` in [0, 1] scales size/coverage (see `fer occlude --list`); the same seed gives the
    same pixels. The input image is never modified.
    """
    image = _resolve_image(image, face)
    spec = get_spec(kind)
    merged = resolve_params(spec, params)
    sev = check_severity(severity)
    geom = FaceGeometry.from_face(face, image.shape[:2])
    layer = spec.render(RenderContext(image, geom, sev, _rng(seed), merged))
    tone = skin_tone(image, geom) if spec.uses_skin else None
    return composite(image, layer, tone, grain=spec.photoreal)


# --- batches of aligned crops ---------------------------------------------------------------
_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 64


def _cache_key(kind, sev, seed, params, lm5, shape):
    try:
        frozen = tuple(sorted((k, v) for k, v in params.items()))
        hash(frozen)
    except TypeError:
        return None  # array parameters (a user mask): not cached
    return (kind, sev, int(seed), frozen, np.asarray(lm5, np.float64).round(3).tobytes(), shape)


def template_face(size: int, face_scale: float = 1.0) -> Face:
    """A Face at the face pipeline's canonical 5-point template of a `size` x `size` aligned crop."""
    from fer.face.align import template

    lm = template(size, face_scale)
    return Face(box=np.array([0.0, 0.0, size, size]), score=1.0, landmarks=lm)


def apply_batch(images: np.ndarray, kind: str, severity: float = 0.5, seed: int = 0,
                face: Face | AlignedFace | None = None, **params) -> Occluded:
    """Occlude a batch of aligned crops (N, S, S, 3) uint8 that share one template.

    Occluders that depend only on the template (masks, glasses, hands, ...) are rendered once,
    cached, and blended into all crops at once; hands take each crop's own skin tone. Occluders
    with random placement (blocks, random erasing) and the user mask are drawn per crop with
    the seed stream (seed, i). `face` gives the template landmarks (default: the face
    pipeline's canonical template, `fer.face.align.template(S)`).
    Returns Occluded(images (N, S, S, 3), masks (N, S, S)).
    """
    images = np.asarray(images)
    require_rgb_uint8(images, "image batch", batch=True)
    if len(images) == 0:
        raise InputError("the image batch is empty")
    n, h, w = images.shape[:3]
    spec = get_spec(kind)
    merged = resolve_params(spec, params)
    sev = check_severity(severity)
    _rng(seed)
    if face is None:
        face = template_face(min(h, w))
    if isinstance(face, AlignedFace) and face.image.shape[:2] != (h, w):
        raise InputError("the template AlignedFace's crop size differs from the batch's")
    geom = FaceGeometry.from_face(face, (h, w))
    out = images.copy()
    masks = np.zeros((n, h, w), np.float32)
    if spec.per_image:
        for i in range(n):
            ctx = RenderContext(images[i], geom, sev, np.random.default_rng([int(seed), i]), merged)
            layer = spec.render(ctx)
            tone = skin_tone(images[i], geom) if spec.uses_skin else None
            res = composite(images[i], layer, tone, grain=False)
            out[i], masks[i] = res.image, res.mask
        return Occluded(out, masks)
    layer = _shared_layer(spec, sev, seed, merged, geom, (h, w))
    sl = clip_layer(layer, (h, w))
    if sl is None:
        return Occluded(out, masks)
    iy, ix, ly, lx = sl
    a = np.clip(layer.alpha[ly, lx], 0, 1)[None, ..., None]
    base = images[:, iy, ix].astype(np.float32)
    if layer.shadow is not None:
        base *= 1.0 - np.clip(layer.shadow[ly, lx], 0, 1)[None, ..., None]
    if spec.uses_skin:
        tones = np.stack([skin_tone(im, geom) for im in images])  # (N, 3)
        t = layer.tint[ly, lx]
        tint = (t if t.ndim == 3 else t[..., None])[None] * (tones[:, None, None, :] / 255.0)
        colour = tint + (layer.rgb[ly, lx][None] if layer.rgb is not None else 0.0)
    else:
        colour = layer_colour(layer, None)[ly, lx][None]
    grey = np.array([is_greyscale(im) for im in images]) if spec.photoreal else np.zeros(n, bool)
    if grey.any():  # black-and-white photos get a black-and-white occluder
        colour = np.broadcast_to(colour, (n, *colour.shape[1:])).copy()
        colour[grey] = (colour[grey] @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    out[:, iy, ix] = np.clip(base + (colour - base) * a + 0.5, 0, 255).astype(np.uint8)
    masks[:, iy, ix] = a[..., 0]
    return Occluded(out, masks)


def _shared_layer(spec, sev, seed, params, geom: FaceGeometry, shape) -> Layer:
    key = _cache_key(spec.name, sev, seed, params, geom.landmarks, shape)
    if key is not None and key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    # rendered on a flat grey stand-in: lighting taken from the photo is neutral for a batch
    grey = np.full((*shape, 3), 128, np.uint8)
    layer = spec.render(RenderContext(grey, geom, sev, np.random.default_rng(int(seed)), params))
    if key is not None:
        _CACHE[key] = layer
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return layer


# --- regions --------------------------------------------------------------------------------
def face_region_boxes(
    shape: tuple[int, int], box=None, regions: list[Box] | None = None, regions_hw: tuple[int, int] | None = None
) -> list[Box]:
    """Pixel boxes (x1, y1, x2, y2) of a model's four regions on an (H, W) image, clipped to it.

    `regions` are the boxes each head is meant to see on the model's own input of size
    `regions_hw` (`FERModel.input_regions(*regions_hw)`); they are placed on the aligned crop, or
    on `box` (the face box) in a photo. Without them (or for a one-head model, `[]`): the plain
    quadrants of the crop or of the box.
    """
    h, w = shape
    target = (0, 0, w, h) if box is None else [float(v) for v in box]
    if not regions:
        regions, regions_hw = split_boxes(2, 2), (2, 2)
    elif regions_hw is None:
        raise InputError("give regions_hw, the size of the input the regions were measured on")
    if len(regions) != 4:
        raise InputError(f"a model has four regions, got {len(regions)} boxes")
    return [
        (min(x1, w), min(y1, h), min(x2, w), min(y2, h)) for x1, y1, x2, y2 in scale_boxes(regions, regions_hw, target)
    ]


def region_coverage(
    mask: np.ndarray, box=None, regions: list[Box] | None = None, regions_hw: tuple[int, int] | None = None
) -> list[float]:
    """Fraction of each model region (TL, TR, BL, BR) hidden by `mask` (H, W).

    The regions are those the model's heads see (`regions` on an input of size `regions_hw`, from
    `FERModel.input_regions`; see `face_region_boxes`), else the quadrants of the aligned crop (or of
    `box` on a photo). A soft mask counts by opacity: a half-transparent lens over a whole region gives 0.5.
    """
    m = np.asarray(mask)
    if m.ndim != 2:
        raise InputError(f"mask must be 2-D (H, W), got shape {m.shape}")
    m = m.astype(np.float32)
    if m.max(initial=0) > 1.0 + 1e-6 or m.min(initial=0) < 0:
        raise InputError("mask values must lie in [0, 1] (boolean or float opacity)")
    out = []
    for x1, y1, x2, y2 in face_region_boxes(m.shape, box, regions, regions_hw):
        cell = m[y1:y2, x1:x2]
        out.append(float(cell.mean()) if cell.size else 0.0)
    return out

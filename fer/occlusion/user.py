"""A user-drawn mask: any (H, W) mask the size of the image, filled with black, blur, noise or a texture."""

from __future__ import annotations

import cv2
import numpy as np

from fer.errors import InputError
from fer.occlusion.base import Layer, RenderContext, register

USER_FILLS = ("black", "blur", "noise", "texture", "pixelate")


def _as_mask(mask, shape) -> np.ndarray:
    if mask is None:
        raise InputError("the 'user' occluder needs mask=<(H, W) array> (non-zero = occluded)")
    m = np.asarray(mask)
    if m.ndim == 3 and m.shape[2] in (1, 3, 4):  # a drawn RGB(A) sketch: any painted pixel counts
        m = m[..., 3] if m.shape[2] == 4 else m.max(axis=2)
    if m.shape != tuple(shape):
        raise InputError(f"the user mask is {m.shape[1] if m.ndim > 1 else '?'}x{m.shape[0]} but the image is "
                         f"{shape[1]}x{shape[0]}; draw the mask on the same image")
    if m.dtype == bool:
        return m.astype(np.float32)
    m = m.astype(np.float32)
    if not np.isfinite(m).all():
        raise InputError("the user mask has non-finite values")
    top = float(m.max(initial=0))
    if top > 1.0:  # 0..255 painted masks
        m = m / 255.0 if top <= 255 else (m > 0).astype(np.float32)
    return np.clip(m, 0, 1)


def _texture(tex, shape) -> np.ndarray:
    if tex is None:
        raise InputError("fill='texture' needs texture=<(h, w, 3) uint8 image>; it is tiled over the mask")
    t = np.asarray(tex)
    if t.ndim != 3 or t.shape[2] != 3 or t.shape[0] < 1 or t.shape[1] < 1:
        raise InputError(f"texture must be an (h, w, 3) RGB image, got shape {t.shape}")
    h, w = shape
    reps = (int(np.ceil(h / t.shape[0])), int(np.ceil(w / t.shape[1])), 1)
    return np.tile(t, reps)[:h, :w].astype(np.float32)


@register(
    "user", "user",
    "any mask you draw (non-zero = occluded), filled with black, blur, noise, pixelate or a tiled texture",
    "the mask sets the coverage; severity sets the fill strength (blur radius, pixel size, noise contrast)",
    per_image=True, photoreal=False, needs_input=True, mask=None, fill="black", texture=None, feather=0.0,
)
def user_mask(ctx: RenderContext) -> Layer:
    h, w = ctx.shape
    alpha = _as_mask(ctx.params["mask"], (h, w))
    feather = float(ctx.params["feather"] or 0.0)
    if feather > 0:
        alpha = cv2.GaussianBlur(alpha, (0, 0), feather)
    fill = ctx.params["fill"]
    img = ctx.image.astype(np.float32)
    scale = max(4.0, 0.02 * min(h, w) + 0.08 * min(h, w) * ctx.severity)  # blur sigma / pixel size
    if fill == "black":
        rgb = np.zeros((h, w, 3), np.float32)
    elif fill == "blur":
        rgb = cv2.GaussianBlur(img, (0, 0), scale / 2)
    elif fill == "pixelate":
        k = max(2, int(scale))
        small = cv2.resize(img, (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA)
        rgb = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    elif fill == "noise":
        amp = 0.5 + 0.5 * ctx.severity
        noise = ctx.rng.integers(0, 256, (h, w, 3)).astype(np.float32)
        rgb = 127.5 + (noise - 127.5) * amp
    elif fill == "texture":
        rgb = _texture(ctx.params["texture"], (h, w))
    else:
        raise InputError(f"unknown fill {fill!r}; choose one of: {', '.join(USER_FILLS)}")
    return Layer(0, 0, alpha, rgb)

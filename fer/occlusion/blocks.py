"""Synthetic block occluders: a random block (RAN-style), random erasing, one model region.

Blocks are placed relative to the face's region box (the aligned crop, or the detection box
on a photo), so severity means the same fraction of the face whatever the image size.
"""

from __future__ import annotations

import numpy as np

from fer.errors import InputError
from fer.occlusion.base import Layer, RenderContext, register
from fer.regions import REGION_CODES

FILLS = ("black", "grey", "white", "mean", "noise", "colour")


def _fill(ctx: RenderContext, h: int, w: int, fill: str, x0: int, y0: int) -> np.ndarray:
    if fill == "black":
        return np.zeros((h, w, 3), np.float32)
    if fill == "grey":
        return np.full((h, w, 3), 128.0, np.float32)
    if fill == "white":
        return np.full((h, w, 3), 255.0, np.float32)
    if fill == "mean":
        return np.broadcast_to(ctx.image.reshape(-1, 3).mean(0).astype(np.float32), (h, w, 3)).copy()
    if fill == "noise":
        return ctx.rng.integers(0, 256, (h, w, 3)).astype(np.float32)
    if fill == "colour":
        return np.broadcast_to(ctx.rng.integers(0, 256, 3).astype(np.float32), (h, w, 3)).copy()
    raise InputError(f"unknown fill {fill!r}; choose one of: {', '.join(FILLS)}")


def _rect_layer(ctx: RenderContext, x1: float, y1: float, x2: float, y2: float, fill: str) -> Layer:
    ih, iw = ctx.shape
    xa, ya = int(np.clip(round(x1), 0, iw)), int(np.clip(round(y1), 0, ih))
    xb, yb = int(np.clip(round(x2), 0, iw)), int(np.clip(round(y2), 0, ih))
    h, w = max(0, yb - ya), max(0, xb - xa)
    if h == 0 or w == 0:
        return Layer(0, 0, np.zeros((1, 1), np.float32), np.zeros((1, 1, 3), np.float32))
    return Layer(xa, ya, np.ones((h, w), np.float32), _fill(ctx, h, w, fill, xa, ya))


@register(
    "random_block", "blocks",
    "a solid block of random aspect at a random place on the face (RAN-style synthetic occlusion)",
    "block area = (0.05 + 0.45 * severity) of the face region box; aspect 1:2..2:1",
    per_image=True, photoreal=False, fill="black",
)
def random_block(ctx: RenderContext) -> Layer:
    x1, y1, x2, y2 = ctx.geom.region_box
    bw, bh = x2 - x1, y2 - y1
    area = (0.05 + 0.45 * ctx.severity) * bw * bh
    aspect = float(np.exp(ctx.rng.uniform(np.log(0.5), np.log(2.0))))
    w = min(bw, np.sqrt(area * aspect))
    h = min(bh, area / max(w, 1e-6))
    cx = ctx.rng.uniform(x1 + w / 2, x2 - w / 2) if bw > w else (x1 + x2) / 2
    cy = ctx.rng.uniform(y1 + h / 2, y2 - h / 2) if bh > h else (y1 + y2) / 2
    return _rect_layer(ctx, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, ctx.params["fill"])


@register(
    "random_erasing", "blocks",
    "random erasing (Zhong et al. 2020): a rectangle of random aspect filled with random pixels",
    "erased area = (0.02 + 0.38 * severity) of the face region box (the paper's range 0.02..0.4); aspect 0.3..3.3",
    per_image=True, photoreal=False, fill="noise",
)
def random_erasing(ctx: RenderContext) -> Layer:
    x1, y1, x2, y2 = ctx.geom.region_box
    bw, bh = x2 - x1, y2 - y1
    area = (0.02 + 0.38 * ctx.severity) * bw * bh
    for _ in range(50):  # the paper's rejection sampling: redraw the aspect until it fits
        aspect = float(np.exp(ctx.rng.uniform(np.log(0.3), np.log(1 / 0.3))))
        w, h = np.sqrt(area * aspect), np.sqrt(area / aspect)
        if w <= bw and h <= bh:
            break
    else:
        w, h = min(bw, np.sqrt(area)), min(bh, np.sqrt(area))
    left = ctx.rng.uniform(x1, x2 - w)
    top = ctx.rng.uniform(y1, y2 - h)
    return _rect_layer(ctx, left, top, left + w, top + h, ctx.params["fill"])


def _region_index(region, rng) -> int:
    names = REGION_CODES
    if region is None:
        return int(rng.integers(0, 4))
    if isinstance(region, str) and region.upper() in names:
        return names.index(region.upper())
    if isinstance(region, (int, np.integer)) and 0 <= int(region) < 4:
        return int(region)
    raise InputError(f"region must be one of TL, TR, BL, BR (or 0..3), got {region!r}")


@register(
    "region_block", "blocks",
    "a block inside exactly one model region (quadrant TL, TR, BL or BR of the crop / face box)",
    "covers (0.25 + 0.75 * severity) of the region's area, centred in it; severity 1 = the whole region",
    photoreal=False, region=None, fill="black",
)
def region_block(ctx: RenderContext) -> Layer:
    k = _region_index(ctx.params["region"], ctx.rng)
    x1, y1, x2, y2 = ctx.geom.region_box
    xm, ym = (x1 + x2) / 2, (y1 + y2) / 2
    qx1, qy1, qx2, qy2 = [(x1, y1, xm, ym), (xm, y1, x2, ym), (x1, ym, xm, y2), (xm, ym, x2, y2)][k]
    side = np.sqrt(0.25 + 0.75 * ctx.severity)
    cx, cy = (qx1 + qx2) / 2, (qy1 + qy2) / 2
    hw, hh = (qx2 - qx1) * side / 2, (qy2 - qy1) * side / 2
    # round inwards so the block never spills into a neighbouring region
    return _rect_layer(ctx, np.ceil(cx - hw), np.ceil(cy - hh), np.floor(cx + hw), np.floor(cy + hh),
                       ctx.params["fill"])

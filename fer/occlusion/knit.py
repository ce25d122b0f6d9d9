"""Knitted fabric, shared by the beanie and the scarf: yarn colours, stitch shading, the common start."""

from __future__ import annotations

import numpy as np

from fer.occlusion.base import RenderContext, pick_colour
from fer.occlusion.render import Canvas, blur, value_noise

KNIT_COLOURS = {
    "red": (170, 36, 40), "navy": (36, 46, 84), "grey": (120, 120, 124), "mustard": (204, 156, 44),
    "green": (46, 100, 70), "cream": (226, 214, 190), "black": (38, 38, 40),
}


def knit_start(ctx: RenderContext, extent: tuple[float, float, float, float]):
    """What a knitted occluder starts from: the 68 landmarks in the face frame, the yarn colour (parameter
    `colour`), a canvas over `extent` of the face frame and its (X, Y) grid."""
    c68 = ctx.geom.to_canon(ctx.geom.landmarks68)
    colour = pick_colour(ctx.params["colour"], KNIT_COLOURS, ctx.rng)
    canvas = Canvas(ctx.geom, extent)
    X, Y = canvas.grid()
    return c68, colour, canvas, X, Y


def knit_shading(X: np.ndarray, Y: np.ndarray, ppu: float, rng, rib: bool, col_w: float = 0.07) -> np.ndarray:
    """Knit shading: vertical ribs (cuff) or rows of V stitches (crown), plus fibre noise.

    The stitch period is kept at >= 4 canvas pixels so that warping the canvas does not alias it.
    """
    col_w = max(col_w, 4.0 / ppu)
    phase = (X / col_w) % 1.0
    if rib:
        pattern = 0.78 + 0.22 * np.sin(np.pi * phase) ** 0.7
    else:
        row_h = 0.06
        v = ((Y / row_h) + np.abs(phase - 0.5) * 1.2) % 1.0
        pattern = 0.8 + 0.2 * np.sin(np.pi * v) * np.sin(np.pi * phase) ** 0.5
    noise = value_noise(X.shape, max(1.0, 0.02 * ppu), rng)
    return blur((pattern * (0.94 + 0.12 * noise)).astype(np.float32), 0.6)

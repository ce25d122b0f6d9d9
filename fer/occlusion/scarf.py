"""A knitted scarf wrapped around the neck and pulled up over the lower face.

Drawn in the face frame: a rolled top edge (with a highlight and a shadow under the roll),
sagging horizontal folds, a rib-knit texture, cylinder shading towards the sides, and the
photo's lighting. Severity raises the top edge from the chin (0) to over the nostrils (1).
"""

from __future__ import annotations

import numpy as np

from fer.occlusion.base import Layer, RenderContext, register
from fer.occlusion.knit import knit_shading, knit_start
from fer.occlusion.render import blur, fill_poly, relative_lighting


@register(
    "scarf", "headwear",
    "a knitted scarf around the neck pulled up over the lower face (rolled edge, folds, rib knit)",
    "the top edge rises from the chin (0) to over the nostrils (1)",
    colour="random",
)
def scarf(ctx: RenderContext) -> Layer:
    s, rng = ctx.severity, ctx.rng
    c68, colour, canvas, X, Y = knit_start(ctx, (-2.1, 2.1, 0.3, 3.4))
    ppu = canvas.ppu
    chin_y, nose_y = c68[8, 1], c68[33, 1]
    y_top = chin_y - 0.2 - (chin_y - 0.2 - (nose_y - 0.05)) * s
    half_w = 0.5 * (c68[16, 0] - c68[0, 0]) + 0.35
    phase = rng.uniform(0, 2 * np.pi)
    xs = np.linspace(-half_w, half_w, 60)
    top = y_top + 0.22 * (xs / half_w) ** 2 + 0.03 * np.sin(xs * 5 + phase)
    # the sides bulge out and down, like fabric bunched around the neck and shoulders
    ys = np.linspace(0, 3.4 - y_top, 30)
    side = half_w + 0.7 * np.sqrt(ys / ys[-1]) + 0.05
    right = np.stack([side, top[-1] + ys], 1)
    left = np.stack([-side, top[0] + ys], 1)[::-1]
    outline = np.vstack([np.stack([xs, top], 1), right, left])
    cov = blur(fill_poly(canvas.shape, [canvas.px(outline)]), 0.012 * ppu)
    top_at = y_top + 0.22 * (X / half_w) ** 2 + 0.03 * np.sin(X * 5 + phase)
    depth = Y - top_at  # distance below the top edge
    # wraps: bands that sag more towards the sides, each rounded (lit in its middle)
    band_h = 0.42 + 0.12 * (X / half_w) ** 2
    t = np.clip(depth, 0, None) / band_h + 0.15 * np.sin(X * 1.3 + phase)
    frac = t % 1.0
    wraps = 0.7 + 0.3 * np.sin(np.pi * frac) ** 0.6
    roll = np.exp(-((depth - 0.08) ** 2) / (2 * 0.05**2))  # the rolled top edge catches the light
    cyl = 0.62 + 0.38 * np.sqrt(np.clip(1 - (X / (half_w + 0.5)) ** 2, 0, 1))
    shade = knit_shading(X, Y, ppu, rng, rib=False, col_w=0.1) * cyl * wraps * (1 + 0.15 * roll)
    shade = blur(shade.astype(np.float32), 0.5)
    layer = canvas.to_layer(ctx.shape, cov, np.clip(colour[None, None, :] * shade[..., None], 0, 255))
    light = relative_lighting(ctx.image, ctx.geom, layer.x0, layer.y0, layer.shape, strength=0.4)
    layer.rgb = np.clip(layer.rgb * light[..., None], 0, 255)
    return layer

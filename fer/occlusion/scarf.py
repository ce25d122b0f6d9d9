"""A knitted scarf wrapped around the neck and pulled up over the lower face.

Drawn in the face frame: a rolled top edge (with a highlight and a shadow under the roll),
sagging horizontal folds, a rib-knit texture, cylinder shading towards the sides, and the
photo's lighting. Severity raises the top edge from the chin (0) to over the nostrils (1).
"""

from __future__ import annotations

import numpy as np

from fer.occlusion.base import Layer, RenderContext, register
from fer.occlusion.headwear import KNIT_COLOURS, _knit, pick_colour
from fer.occlusion.render import Canvas, blur, fill_poly, relative_lighting, value_noise


@register(
    "scarf", "headwear",
    "a knitted scarf around the neck pulled up over the lower face (rolled edge, folds, rib knit)",
    "the top edge rises from the chin (0) to over the nostrils (1)",
    colour="random",
)
def scarf(ctx: RenderContext) -> Layer:
    geom, s, rng = ctx.geom, ctx.severity, ctx.rng
    c68 = geom.to_canon(geom.landmarks68)
    colour = pick_colour(ctx.params["colour"], KNIT_COLOURS, rng)
    canvas = Canvas(geom, (-2.1, 2.1, 0.3, 3.4))
    ppu = canvas.ppu
    X, Y = canvas.grid()
    chin_y, nose_y = c68[8, 1], c68[33, 1]
    y_top = chin_y - 0.2 - (chin_y - 0.2 - (nose_y - 0.05)) * s
    half_w = 0.5 * (c68[16, 0] - c68[0, 0]) + 0.35
    phase = rng.uniform(0, 2 * np.pi)
    xs = np.linspace(-half_w, half_w, 60)
    top = y_top + 0.22 * (xs / half_w) ** 2 + 0.03 * np.sin(xs * 5 + phase)
    outline = np.vstack([np.stack([xs, top], 1), [[half_w + 0.4, 3.4], [-half_w - 0.4, 3.4]]])
    cov = blur(fill_poly(canvas.shape, [canvas.px(outline)]), 0.012 * ppu)
    top_at = y_top + 0.22 * (X / half_w) ** 2 + 0.03 * np.sin(X * 5 + phase)
    depth = Y - top_at  # distance below the top edge
    roll = np.exp(-((depth - 0.1) ** 2) / (2 * 0.06**2))  # the rolled edge catches the light
    under_roll = 1 - 0.3 * np.exp(-((depth - 0.24) ** 2) / (2 * 0.04**2))
    wobble = value_noise(X.shape, 0.5 * ppu, rng)
    folds = 0.9 + 0.1 * np.sin((depth / (0.3 + 0.15 * wobble) + 0.5 * np.sin(X * 1.7 + phase)) * 2 * np.pi) * (0.4 + wobble)
    folds = np.where(depth < 0.3, 1.0, folds)
    cyl = 0.6 + 0.4 * np.sqrt(np.clip(1 - (X / (half_w + 0.5)) ** 2, 0, 1))
    shade = _knit(X, Y * 0.7, ppu, rng, rib=True) * cyl * under_roll * folds * (1 + 0.18 * roll)
    layer = canvas.to_layer(ctx.shape, cov, np.clip(colour[None, None, :] * shade[..., None], 0, 255))
    light = relative_lighting(ctx.image, geom, layer.x0, layer.y0, layer.shape, strength=0.4)
    layer.rgb = np.clip(layer.rgb * light[..., None], 0, 255)
    return layer
